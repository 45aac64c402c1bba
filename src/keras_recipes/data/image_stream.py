"""Image sets read from their files as pipelines need them.

A folder of photos as float arrays can outgrow memory, so an `ImageSet`
keeps the file paths and decodes the images inside `tf.data` pipelines, in
parallel, in any order a dataset of indices gives. The embedded digits are
small and stay in memory; their `ImageSet` gives the same pipelines.
"""

import dataclasses

import numpy as np
import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE
# Images decoded per step when a few are read into an array.
READ_BATCH = 64
# Pillow's integer weights of R, G and B in grayscale, out of 2**16.
_GRAY_WEIGHTS = (19595, 38470, 7471)


def decode_pixels(path, image_size, channels):
    """Reads one image file as 8-bit pixels, as Pillow would, inside `tf.data`.

    JPEGs are decoded with the accurate integer transform and grayscale is
    Pillow's integer luma, so an image at its own size equals what
    `read_images` reads with Pillow; an image of another size is resized
    with an antialiased bilinear filter, as Pillow resizes, and stays within
    one level of it.

    Args:
        path: Scalar string tensor, the file path. No default.
        image_size: `(height, width)` to resize to. No default.
        channels: 1 for grayscale, 3 for RGB. No default.

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
    resized = tf.image.resize(
        tf.cast(image, tf.float32), tuple(image_size), antialias=True
    )
    image = tf.cast(tf.round(tf.clip_by_value(resized, 0.0, 255.0)), tf.uint8)
    return tf.ensure_shape(image, (*image_size, channels))


@dataclasses.dataclass
class ImageSet:
    """The images of one split with their labels, read as they are needed.

    Exactly one of `files` and `pixels` is set. Files are decoded in the
    pipelines (`decode_pixels`) and scaled to `[0, 1]` there, so the set is
    never one float array; `pixels` holds a small set in memory. Indexing
    (`images[:8]`, `images[[3, 1]]`) reads those images into an array.

    Attributes:
        labels: Int32 array `[N]`; `-1` where an image has no class.
        image_size: `(height, width)` of the images given out.
        channels: 1 for grayscale, 3 for RGB.
        files: Image file paths, or `None`.
        pixels: Float32 array `[N, height, width, channels]` in `[0, 1]`,
            or `None`.

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

    def __len__(self):
        return len(self.files) if self.files is not None else len(self.pixels)

    @property
    def shape(self):
        """`(N, height, width, channels)`, as the array of the set would have."""
        return (len(self), *self.image_size, self.channels)

    def reader(self):
        """Returns a function from an index to its image, for `Dataset.map`.

        Returns:
            A function from a scalar int64 tensor to a float32 tensor
            `[height, width, channels]` in `[0, 1]`.

        Example:

        ```python
        images = order.map(image_set.reader(), num_parallel_calls=AUTOTUNE)
        ```
        """
        # Inside a dataset function (`every_epoch`'s), the pixels and paths
        # are captured, not copied into its graph.
        with tf.init_scope():
            if self.pixels is not None:
                pixels = tf.constant(self.pixels, dtype=tf.float32)
            else:
                paths = tf.constant([str(path) for path in self.files])
        if self.pixels is not None:
            return tf.autograph.experimental.do_not_convert(
                lambda index: tf.gather(pixels, index)
            )
        size, channels = self.image_size, self.channels

        # Plain TensorFlow ops: AutoGraph would only spend seconds converting them.
        @tf.autograph.experimental.do_not_convert
        def read(index):
            image = decode_pixels(tf.gather(paths, index), size, channels)
            return tf.cast(image, tf.float32) / 255.0

        return read

    def batches(self, batch_size, order=None):
        """Returns the images as a dataset of batches.

        Args:
            batch_size: Images per batch. No default.
            order: A dataset of int64 indices giving the order (e.g. from
                `epoch_shuffled_indices`), or `None` for the stored order.
                Defaults to `None`.

        Returns:
            A `tf.data.Dataset` of float32 batches
            `[<=batch_size, height, width, channels]` in `[0, 1]`.

        Example:

        ```python
        for batch in data.images.test.batches(32):
            ...
        ```
        """
        if order is None:
            order = tf.data.Dataset.range(len(self))
        read = self.reader()
        if self.pixels is not None:
            return order.batch(batch_size).map(read)
        return order.map(read, num_parallel_calls=AUTOTUNE).batch(batch_size)

    def read(self, indices):
        """Reads the images at `indices` into one array.

        Args:
            indices: Integer positions, in the order wanted. No default.

        Returns:
            Float32 array `[len(indices), height, width, channels]` in `[0, 1]`.

        Example:

        ```python
        sample = images.read(sample_indices(len(images), 5000, seed=42))
        ```
        """
        indices = np.asarray(indices, dtype="int64").reshape(-1)
        if len(indices) and not (0 <= indices.min() and indices.max() < len(self)):
            raise IndexError(f"indices outside [0, {len(self)}) in {indices}")
        if self.pixels is not None:
            return self.pixels[indices]
        images = np.empty((len(indices), *self.shape[1:]), dtype="float32")
        order = tf.data.Dataset.from_tensor_slices(indices)
        start = 0
        for batch in self.batches(READ_BATCH, order).prefetch(AUTOTUNE):
            images[start : start + len(batch)] = batch.numpy()
            start += len(batch)
        return images

    def __getitem__(self, key):
        positions = np.arange(len(self))[key]
        if np.ndim(positions) == 0:
            return self.read([positions])[0]
        return self.read(positions)

    def __iter__(self):
        if self.pixels is not None:
            yield from self.pixels
            return
        for batch in self.batches(READ_BATCH).prefetch(AUTOTUNE):
            yield from batch.numpy()


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
