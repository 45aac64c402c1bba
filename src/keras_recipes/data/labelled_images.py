"""One split of labelled images, as files on disk or an array in memory.

Feature caching needs to know what a split is made of without reading it
(file paths, sizes and times, or a digest of an array), and fine-tuning
needs the same images as a `tf.data` pipeline at any size. `LabelledImages`
keeps both, and `select_per_class` draws the few labelled images of a
few-shot experiment.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from keras_recipes.data.feature_cache import array_fingerprint, file_fingerprint
from keras_recipes.data.image_folder import files_dataset


@dataclasses.dataclass
class LabelledImages:
    """The images of one split with their integer labels.

    Exactly one of `files` and `arrays` is set.

    Attributes:
        labels: int32 array `[N]`.
        files: Image file paths, or `None`.
        arrays: float32 array `[N, H, W, C]` in [0, 255], or `None`.

    Example:

    ```python
    split = LabelledImages(labels=y, arrays=x)
    dataset = split.dataset((32, 32), channels=3).batch(16)
    ```
    """

    labels: np.ndarray
    files: list | None = None
    arrays: np.ndarray | None = None

    def __post_init__(self):
        self.labels = np.asarray(self.labels, dtype="int32")
        if (self.files is None) == (self.arrays is None):
            raise ValueError("give exactly one of files and arrays")
        if len(self) != len(self.labels):
            raise ValueError(
                f"{len(self)} images but {len(self.labels)} labels. "
                f"Received: labels of shape {self.labels.shape}"
            )

    def __len__(self):
        return len(self.files) if self.files is not None else len(self.arrays)

    def subset(self, indices):
        """Returns the images at `indices`, in that order.

        Args:
            indices: Integer positions.

        Returns:
            A new `LabelledImages`.

        Example:

        ```python
        few = split.subset(select_per_class(split.labels, 3, seed=0))
        ```
        """
        indices = np.asarray(indices, dtype="int64")
        if self.files is not None:
            return LabelledImages(
                self.labels[indices], files=[self.files[i] for i in indices]
            )
        return LabelledImages(self.labels[indices], arrays=self.arrays[indices])

    def fingerprint(self, mode="stat"):
        """Returns a digest that changes when the images or labels change.

        Args:
            mode: For files, `"stat"` (paths, sizes, modification times) or
                `"content"` (paths and content hashes). Arrays are always
                hashed whole. Defaults to `"stat"`.

        Returns:
            A hex SHA-256 string.

        Example:

        ```python
        split.fingerprint("content")
        ```
        """
        if self.files is not None:
            files = file_fingerprint(self.files, mode)
            return array_fingerprint(
                np.frombuffer(files.encode(), "uint8"), self.labels
            )
        return array_fingerprint(self.arrays, self.labels)

    def dataset(self, image_size, channels, order=None):
        """Returns the split as an unbatched `tf.data.Dataset` of `(image, label)`.

        Files are decoded and resized (bilinear) in the pipeline; arrays are
        resized the same way. Grayscale becomes RGB and back as `channels`
        asks.

        Args:
            image_size: `(height, width)` of the images given out.
            channels: 1 (grayscale) or 3 (RGB).
            order: A dataset of indices giving the order to read the images
                in (e.g. from `epoch_shuffled_indices`), or `None` for the
                stored order. Defaults to `None`.

        Returns:
            A dataset of float32 images `[height, width, channels]` in
            [0, 255] and int32 labels.

        Example:

        ```python
        split.dataset((150, 150), 3).batch(32)
        ```
        """
        size = tuple(int(s) for s in image_size)
        if self.files is not None:
            files = list(zip(self.files, self.labels.tolist(), strict=True))
            return files_dataset(files, size, channels, order)
        # Inside `every_epoch`'s function, the arrays are captured, not
        # copied into its graph.
        with tf.init_scope():
            arrays = tf.constant(self.arrays, dtype="float32")
            labels = tf.constant(self.labels)
        if order is None:
            order = tf.data.Dataset.range(len(self))
        return order.map(
            lambda i: (_resize(_convert_channels(arrays[i], channels), size), labels[i])
        )


def _convert_channels(image, channels):
    have = image.shape[-1]
    if have == channels:
        return image
    if have == 1 and channels == 3:
        return tf.image.grayscale_to_rgb(image)
    if have == 3 and channels == 1:
        return tf.image.rgb_to_grayscale(image)
    raise ValueError(f"cannot turn {have} channels into {channels}")


def _resize(image, size):
    if tuple(image.shape[:2]) == size:
        return image
    resized = tf.image.resize(image, size, method="bilinear")
    return tf.ensure_shape(resized, (*size, image.shape[-1]))


def select_per_class(labels, count, seed, exclude=None):
    """Returns the positions of `count` randomly chosen examples of each class.

    The draw depends only on the labels, `count`, `seed` and `exclude`, so
    every recipe of an experiment sees the same few labelled images, and a
    smaller `count` keeps a subset of the images of a larger one.

    Args:
        labels: Integer labels.
        count: Examples to keep per class.
        seed: Seed of the draw.
        exclude: Positions not to choose (e.g. those taken for validation),
            or `None`. Defaults to `None`.

    Returns:
        A sorted int64 array of positions.

    Example:

    ```python
    select_per_class(y_train, 3, seed=42)  # 3 positions per class
    ```
    """
    labels = np.asarray(labels)
    if count < 1:
        raise ValueError(f"count must be at least 1. Received: count={count}")
    blocked = np.zeros(len(labels), bool)
    if exclude is not None:
        blocked[np.asarray(exclude, dtype="int64")] = True
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):
        candidates = np.flatnonzero((labels == label) & ~blocked)
        if len(candidates) < count:
            raise ValueError(
                f"class {label} has {len(candidates)} examples to choose from, "
                f"fewer than count={count}"
            )
        # A prefix of one permutation: the draw of 3 is part of the draw of 5.
        chosen.append(rng.permutation(candidates)[:count])
    return np.sort(np.concatenate(chosen))
