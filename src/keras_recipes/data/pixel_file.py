"""Decoded images kept in one file on disk and read image by image.

Decoding a folder of photos every epoch costs more than a small model's
training step on a few cores. A `PixelFile` holds the decoded, resized
uint8 images of a set in one `.npy` file, written once, and reads each
image with one positioned read (`os.pread`): no image is decoded again, and
nothing is mapped into the process, so its memory does not grow with the
file (the operating system's page cache holds what fits).
"""

import dataclasses
import os

import numpy as np


@dataclasses.dataclass(frozen=True)
class PixelFile:
    """Uint8 images `[N, height, width, channels]` in an `.npy` file.

    Attributes:
        path: The `.npy` file.
        offset: Bytes before the first image (the `.npy` header).
        image_shape: `(height, width, channels)`.
        positions: Which stored images this set holds, in its order, or
            `None` for all of them.
        stored: Images in the file.

    Example:

    ```python
    pixels = PixelFile.open("cache/images-3f2a.npy")
    first_two = pixels.read([0, 1])  # uint8 [2, height, width, channels]
    ```
    """

    path: str
    offset: int
    image_shape: tuple
    stored: int
    positions: np.ndarray | None = None

    @classmethod
    def open(cls, path):
        """Returns the `PixelFile` of an `.npy` file of uint8 images.

        Args:
            path: A file `write_pixel_file` (or `np.save`) wrote.

        Returns:
            A `PixelFile` of every image in it.

        Example:

        ```python
        pixels = PixelFile.open(path)
        ```
        """
        with open(path, "rb") as file:
            version = np.lib.format.read_magic(file)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = read_header(file)
            offset = file.tell()
        if dtype != np.uint8 or fortran or len(shape) != 4:
            raise ValueError(
                f"{path} must hold a C-ordered uint8 array [N, height, width, "
                f"channels]. Received: dtype={dtype}, shape={shape}"
            )
        return cls(str(path), offset, tuple(shape[1:]), shape[0])

    dtype = np.dtype("uint8")

    def __len__(self):
        return self.stored if self.positions is None else len(self.positions)

    @property
    def shape(self):
        """`(N, height, width, channels)` of the images this set holds."""
        return (len(self), *self.image_shape)

    def subset(self, indices):
        """Returns the images at `indices` of this set, without reading them.

        Args:
            indices: Integer positions in this set.

        Returns:
            A `PixelFile` of the same file.

        Example:

        ```python
        validation = pixels.subset(held_out)
        ```
        """
        indices = np.asarray(indices, dtype="int64").reshape(-1)
        stored = indices if self.positions is None else self.positions[indices]
        return dataclasses.replace(self, positions=stored)

    def read(self, indices):
        """Reads the images at `indices` of this set.

        Args:
            indices: Integer positions in this set.

        Returns:
            A uint8 array `[len(indices), height, width, channels]`.

        Example:

        ```python
        batch = pixels.read(np.arange(32))
        ```
        """
        indices = np.asarray(indices, dtype="int64").reshape(-1)
        if self.positions is not None:
            indices = self.positions[indices]
        size = int(np.prod(self.image_shape))
        images = np.empty((len(indices), size), dtype="uint8")
        descriptor = os.open(self.path, os.O_RDONLY)
        try:
            for row, stored in enumerate(indices):
                data = os.pread(descriptor, size, self.offset + int(stored) * size)
                if len(data) != size:
                    raise OSError(f"{self.path} ends before image {stored}")
                images[row] = np.frombuffer(data, dtype="uint8")
        finally:
            os.close(descriptor)
        return images.reshape(len(indices), *self.image_shape)


def write_pixel_file(path, batches, count, image_shape):
    """Writes uint8 image batches into an `.npy` file, atomically.

    Args:
        path: The file to write; it appears only once complete.
        batches: An iterable of uint8 arrays `[n, height, width, channels]`,
            `count` images in all.
        count: Number of images.
        image_shape: `(height, width, channels)`.

    Returns:
        The `PixelFile` of the written file.

    Example:

    ```python
    pixels = write_pixel_file("cache/a.npy", batches, 1000, (128, 128, 3))
    ```
    """
    partial = f"{path}.partial"
    header = {
        "descr": np.lib.format.dtype_to_descr(np.dtype("uint8")),
        "fortran_order": False,
        "shape": (count, *image_shape),
    }
    written = 0
    try:
        # Plain writes, not a memory map: mapped pages would count in the
        # process's memory until the whole file is written.
        with open(partial, "wb") as file:
            np.lib.format.write_array_header_2_0(file, header)
            for batch in batches:
                batch = np.ascontiguousarray(batch, dtype="uint8")
                if batch.shape[1:] != tuple(image_shape):
                    raise ValueError(
                        f"batches must hold images of shape {tuple(image_shape)}. "
                        f"Received: {batch.shape[1:]}"
                    )
                file.write(batch.tobytes())
                written += len(batch)
        if written != count:
            raise ValueError(f"expected {count} images, the batches held {written}")
        os.replace(partial, path)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise
    return PixelFile.open(path)
