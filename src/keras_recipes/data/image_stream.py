"""Image sets read from their files as pipelines need them.

A folder of photos as float arrays can outgrow memory, so an `ImageSet`
keeps the file paths and decodes the images inside `tf.data` pipelines, in
parallel, in any order a dataset of indices gives. The embedded digits are
small and stay in memory; their `ImageSet` gives the same pipelines.
"""

import dataclasses
import json
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_recipes.data.feature_cache import file_fingerprint, key_digest
from keras_recipes.data.letterbox import letterbox_pixels
from keras_recipes.data.pixel_file import PixelFile, write_pixel_file

AUTOTUNE = tf.data.AUTOTUNE
# Images decoded per step when a few are read into an array.
READ_BATCH = 64
# Pillow's integer weights of R, G and B in grayscale, out of 2**16.
_GRAY_WEIGHTS = (19595, 38470, 7471)


def decode_pixels(path, image_size, channels, letterbox=False):
    """Reads one image file as 8-bit pixels, as Pillow would, inside `tf.data`.

    JPEGs are decoded with the accurate integer transform and grayscale is
    Pillow's integer luma, so an image at its own size equals what
    `read_images` reads with Pillow; an image of another size is resized
    with an antialiased bilinear filter, as Pillow resizes, and stays within
    one level of it. With `letterbox` the image is scaled to fit without
    changing its aspect ratio and padded with grey (`letterbox_pixels`).

    Args:
        path: Scalar string tensor, the file path. No default.
        image_size: `(height, width)` to resize to. No default.
        channels: 1 for grayscale, 3 for RGB. No default.
        letterbox: Keep the aspect ratio and pad. Defaults to `False`.

    Returns:
        A uint8 tensor `[height, width, channels]`.

    Example:

    ```python
    pixels = paths.map(lambda p: decode_pixels(p, (64, 64), 3))
    ```
    """
    data = tf.io.read_file(path)
    image = tf.cond(
        tf.io.is_jpeg(data),
        lambda: tf.io.decode_jpeg(data, channels=3, dct_method="INTEGER_ACCURATE"),
        lambda: tf.io.decode_image(data, channels=3, expand_animations=False),
    )
    if channels == 1:
        weighted = tf.cast(image, tf.int32) * tf.constant(_GRAY_WEIGHTS, tf.int32)
        luma = tf.reduce_sum(weighted, axis=-1, keepdims=True) + 2**15
        image = tf.cast(tf.bitwise.right_shift(luma, 16), tf.uint8)
    if letterbox:
        resized = letterbox_pixels(tf.cast(image, tf.float32), image_size)
    else:
        resized = tf.image.resize(
            tf.cast(image, tf.float32), tuple(image_size), antialias=True
        )
    image = tf.cast(tf.round(tf.clip_by_value(resized, 0.0, 255.0)), tf.uint8)
    return tf.ensure_shape(image, (*image_size, channels))


@dataclasses.dataclass
class ImageSet:
    """The images of one split with their labels, read as they are needed.

    Exactly one of `files` and `pixels` is set. Files are decoded in the
    pipelines (`decode_pixels`) and scaled to `value_range` there, so the
    set is never one float array; `pixels` holds a small set in memory.
    Indexing (`images[:8]`, `images[[3, 1]]`) reads those images into an
    array.

    Attributes:
        labels: Int32 array `[N]`; `-1` where an image has no class.
        image_size: `(height, width)` of the images given out.
        channels: 1 for grayscale, 3 for RGB.
        files: Image file paths, or `None`.
        pixels: Array `[N, height, width, channels]`, uint8 in `[0, 255]`
            or float32 in `[0, 1]`; or a `PixelFile` of decoded images on
            disk (see `cache_decoded`); or `None`.
        value_range: `(low, high)` the images are given out in, as float32:
            `(0, 1)` (the default) or `(0, 255)` for models that rescale
            their own input.
        letterbox: Whether files are letterboxed to `image_size` rather
            than stretched (see `decode_pixels`). Defaults to `False`.

    Example:

    ```python
    images = ImageSet(labels=[-1, -1], image_size=(64, 64), channels=3,
                      files=["a.jpg", "b.png"])
    batches = images.batches(32)  # float32 [<=32, 64, 64, 3] in [0, 1]
    ```
    """

    labels: np.ndarray
    image_size: tuple
    channels: int
    files: list | None = None
    pixels: np.ndarray | None = None
    value_range: tuple = (0.0, 1.0)
    letterbox: bool = False

    def __post_init__(self):
        self.labels = np.asarray(self.labels, dtype="int32")
        self.image_size = tuple(int(side) for side in self.image_size)
        if (self.files is None) == (self.pixels is None):
            raise ValueError("give exactly one of files and pixels")
        if self.pixels is not None and self.pixels.shape[1:] != self.shape[1:]:
            raise ValueError(
                f"pixels must have shape [N, *image_size, channels]. Received: "
                f"pixels.shape={self.pixels.shape}, image_size={self.image_size}, "
                f"channels={self.channels}"
            )
        if len(self) != len(self.labels):
            raise ValueError(
                f"{len(self)} images but {len(self.labels)} labels. "
                f"Received: labels of shape {self.labels.shape}"
            )
        self.value_range = tuple(float(v) for v in self.value_range)

    def __len__(self):
        return len(self.files) if self.files is not None else len(self.pixels)

    @property
    def shape(self):
        """`(N, height, width, channels)`, as the array of the set would have."""
        return (len(self), *self.image_size, self.channels)

    def reader(self):
        """Returns a function from an index to its image, for `Dataset.map`.

        Returns:
            A function from a scalar (or vector) int64 tensor to a float32
            tensor `[height, width, channels]` (or a batch of them) in
            `value_range`.

        Example:

        ```python
        images = order.map(image_set.reader(), num_parallel_calls=AUTOTUNE)
        ```
        """
        low, high = self.value_range
        floats = self.pixels is not None and self.pixels.dtype != np.uint8
        scale = (high - low) / (1.0 if floats else 255.0)

        # Plain TensorFlow ops: AutoGraph would only spend seconds converting them.
        @tf.autograph.experimental.do_not_convert
        def rescale(image):
            image = tf.cast(image, tf.float32)
            if scale != 1.0:
                image = image * scale
            return image + low if low else image

        if isinstance(self.pixels, PixelFile):
            pixel_file = self.pixels
            image_shape = pixel_file.image_shape

            def load(index):
                return pixel_file.read(index).reshape(np.shape(index) + image_shape)

            @tf.autograph.experimental.do_not_convert
            def read_stored(index):
                image = tf.numpy_function(load, [index], tf.uint8, stateful=False)
                image.set_shape(index.shape.concatenate(image_shape))
                return rescale(image)

            return read_stored
        if self.pixels is not None:
            # Inside a dataset function (`every_epoch`'s), the pixels are
            # captured, not copied into its graph.
            with tf.init_scope():
                pixels = tf.constant(self.pixels)
            return tf.autograph.experimental.do_not_convert(
                lambda index: rescale(tf.gather(pixels, index))
            )
        decode = self._file_decoder()

        @tf.autograph.experimental.do_not_convert
        def read(index):
            if index.shape.rank == 0:
                return rescale(decode(index))
            # A batch of indices: one file after another.
            return rescale(tf.map_fn(decode, index, fn_output_signature=tf.uint8))

        return read

    def _file_decoder(self):
        """Returns a function from an index to its file's uint8 pixels."""
        # Inside a dataset function the paths are captured, not copied.
        with tf.init_scope():
            paths = tf.constant([str(path) for path in self.files])
        size, channels, letterbox = self.image_size, self.channels, self.letterbox
        return tf.autograph.experimental.do_not_convert(
            lambda index: decode_pixels(
                tf.gather(paths, index), size, channels, letterbox
            )
        )

    def _decoded_files(self, indices):
        """Returns uint8 batches of the files at `indices`, decoded in parallel."""
        return (
            tf.data.Dataset.from_tensor_slices(np.asarray(indices, dtype="int64"))
            .map(self._file_decoder(), num_parallel_calls=AUTOTUNE, deterministic=True)
            .batch(READ_BATCH)
            .prefetch(AUTOTUNE)
        )

    def subset(self, indices):
        """Returns the set of the images at `indices`, without reading them.

        Args:
            indices: Integer positions, in the order wanted. No default.

        Returns:
            An `ImageSet` of the same kind (files or pixels).

        Example:

        ```python
        validation = images.subset(held_out_indices)
        ```
        """
        indices = np.asarray(indices, dtype="int64").reshape(-1)
        return dataclasses.replace(
            self,
            labels=self.labels[indices],
            files=None if self.files is None else [self.files[i] for i in indices],
            pixels=None if self.pixels is None else _pixel_subset(self.pixels, indices),
        )

    def batches(self, batch_size, order=None):
        """Returns the images as a dataset of batches.

        Args:
            batch_size: Images per batch. No default.
            order: A dataset of int64 indices giving the order (e.g. from
                `epoch_shuffled_indices`), or `None` for the stored order.
                Defaults to `None`.

        Returns:
            A `tf.data.Dataset` of float32 batches
            `[<=batch_size, height, width, channels]` in `value_range`.

        Example:

        ```python
        for batch in data.images.test.batches(32):
            ...
        ```
        """
        if order is None:
            order = tf.data.Dataset.range(len(self))
        read = self.reader()
        if isinstance(self.pixels, PixelFile):
            return order.batch(batch_size).map(read, num_parallel_calls=AUTOTUNE)
        if self.pixels is not None:
            return order.batch(batch_size).map(read)
        return order.map(read, num_parallel_calls=AUTOTUNE).batch(batch_size)

    def read(self, indices):
        """Reads the images at `indices` into one array.

        Args:
            indices: Integer positions, in the order wanted. No default.

        Returns:
            Float32 array `[len(indices), height, width, channels]` in
            `value_range`.

        Example:

        ```python
        sample = images.read(sample_indices(len(images), 5000, seed=42))
        ```
        """
        indices = np.asarray(indices, dtype="int64").reshape(-1)
        if len(indices) and not (0 <= indices.min() and indices.max() < len(self)):
            raise IndexError(f"indices outside [0, {len(self)}) in {indices}")
        if self._pixels_as_given:
            return self.pixels[indices]
        order = tf.data.Dataset.from_tensor_slices(indices)
        batches = self.batches(READ_BATCH, order).prefetch(AUTOTUNE)
        return self._collect(batches, len(indices), "float32")

    def _collect(self, batches, count, dtype):
        images = np.empty((count, *self.shape[1:]), dtype=dtype)
        start = 0
        for batch in batches.as_numpy_iterator():
            images[start : start + len(batch)] = batch
            start += len(batch)
        return images

    def read_uint8(self, indices=None):
        """Reads images as their 8-bit pixels, whatever `value_range` is.

        Args:
            indices: Integer positions, in the order wanted, or `None` for
                the whole set. Defaults to `None`.

        Returns:
            A uint8 array `[len(indices), height, width, channels]`: a
            quarter of the memory of `read`'s float32.

        Example:

        ```python
        pixels = images.read_uint8()  # for a raw-pixel baseline
        ```
        """
        if indices is None:
            indices = np.arange(len(self))
        indices = np.asarray(indices, dtype="int64").reshape(-1)
        if isinstance(self.pixels, PixelFile):
            return self.pixels.read(indices)
        if self.pixels is not None and self.pixels.dtype == np.uint8:
            return self.pixels[indices]
        if self.pixels is not None:
            scaled = np.round(np.asarray(self.pixels[indices]) * 255.0)
            return np.clip(scaled, 0, 255).astype("uint8")
        return self._collect(self._decoded_files(indices), len(indices), "uint8")

    def __getitem__(self, key):
        positions = np.arange(len(self))[key]
        if np.ndim(positions) == 0:
            return self.read([positions])[0]
        return self.read(positions).reshape(*np.shape(positions), *self.shape[1:])

    @property
    def _pixels_as_given(self):
        # Float pixels in [0, 1] are what the set gives out by default.
        return (
            self.pixels is not None
            and self.pixels.dtype == np.float32
            and self.value_range == (0.0, 1.0)
        )

    def __iter__(self):
        if self._pixels_as_given:
            yield from self.pixels
            return
        for batch in self.batches(READ_BATCH).prefetch(AUTOTUNE):
            yield from batch.numpy()


def _pixel_subset(pixels, indices):
    if isinstance(pixels, PixelFile):
        return pixels.subset(indices)
    return pixels[indices]


# Changes whenever `decode_pixels` would give other pixels, so that older
# cache entries are not read.
DECODER_VERSION = 1


def cache_decoded(images, directory, fingerprint="stat", verbose=True):
    """Returns the set with its files decoded once into a file on disk.

    The decoded, resized uint8 images go to one `PixelFile` in `directory`,
    named by a digest of the files (`file_fingerprint`), the size, the
    channels and the decoder; a later run on the same files reads that file
    instead of decoding again. The pixels are those `decode_pixels` gives,
    so a cached set gives out exactly what the uncached one does.

    Args:
        images: An `ImageSet`. A set already in memory is returned as it is.
            No default.
        directory: The cache folder. No default.
        fingerprint: `"stat"` or `"content"`, as `file_fingerprint` takes
            it. Defaults to `"stat"`.
        verbose: Whether to print a line on a hit or a miss. Defaults to
            `True`.

    Returns:
        An `ImageSet` of the same images, labels and `value_range`, whose
        `pixels` is a `PixelFile`.

    Example:

    ```python
    train = cache_decoded(train, "runs/image_cache")
    ```
    """
    if images.files is None:
        return images
    key = {
        "kind": "decoded images",
        "files": file_fingerprint(images.files, fingerprint),
        "image_size": list(images.image_size),
        "channels": images.channels,
        "decoder": DECODER_VERSION,
    }
    if images.letterbox:
        key["letterbox"] = True
    directory = Path(directory).expanduser()
    stem = f"images-{len(images)}-{key_digest(key)}"
    path, key_file = directory / f"{stem}.npy", directory / f"{stem}.json"
    stored = None
    if path.is_file() and key_file.is_file():
        try:
            if json.loads(key_file.read_text()) == key:
                stored = PixelFile.open(path)
        except (OSError, ValueError):
            stored = None
    if stored is not None and stored.shape == images.shape:
        if verbose:
            print(f"image cache hit: {len(images)} decoded images from {path}")
    else:
        if verbose:
            print(f"image cache miss: decoding {len(images)} images into {path}")
        directory.mkdir(parents=True, exist_ok=True)
        decoded = images._decoded_files(np.arange(len(images)))
        stored = write_pixel_file(
            path, decoded.as_numpy_iterator(), len(images), images.shape[1:]
        )
        key_file.write_text(json.dumps(key))
    return dataclasses.replace(images, files=None, pixels=stored)


def sample_indices(size, count, seed):
    """Returns a fixed sample of `count` positions out of `size`, sorted.

    Args:
        size: Number of elements to choose from. No default.
        count: Positions wanted; all of them when it is `size` or more.
            No default.
        seed: Seed of the draw. No default.

    Returns:
        A sorted int64 array of `min(count, size)` distinct positions.

    Example:

    ```python
    sample_indices(16000, 5000, seed=42)[:3]
    ```
    """
    if count >= size:
        return np.arange(size, dtype="int64")
    chosen = np.random.default_rng(seed).choice(size, count, replace=False)
    return np.sort(chosen).astype("int64")
