"""The labelled images of the transfer recipes, and datasets of their features."""

import dataclasses

import numpy as np
import tensorflow as tf

from keras_recipes.data.digits import load_digits, split_validation
from keras_recipes.data.image_folder import find_splits, scan_class_folder
from keras_recipes.data.labelled_images import LabelledImages, select_per_class
from keras_recipes.epoch_seeding import epoch_shuffled_indices, every_epoch
from keras_recipes.errors import DataError
from keras_recipes.training import Datasets

AUTOTUNE = tf.data.AUTOTUNE
SPLITS = ("train", "validation", "test")


@dataclasses.dataclass
class FeatureData(Datasets):
    """Batches of a frozen base's features with their classes.

    Attributes:
        frozen: The `FrozenBase` the features come from; the exported
            classifier puts it under the trained top.
        images: Split name to its `LabelledImages` (`None` when absent), for
            test-time crops and anything else that needs the pixels.
        features: Split name to its features array `[N, ...]`, in the
            order of `images[split]`.
        cache_hits: Splits whose features the cache held.
        cache_misses: Splits whose features were extracted.

    Example:

    ```python
    data = VGG16Bottleneck(config).build_data()
    data.features["test"].shape, data.images["test"].labels
    ```
    """

    frozen: object = None
    images: dict = dataclasses.field(default_factory=dict)
    features: dict = dataclasses.field(default_factory=dict)
    cache_hits: int = 0
    cache_misses: int = 0


def load_splits(config, skipped=None):
    """Returns the train, validation and test `LabelledImages` of a config.

    The embedded digits or a folder (class subfolders, or `train/`,
    `validation/` and `test/` of them). Without validation images,
    `data.validation_per_class` (else `train.validation_split`) of the
    training images are held out; `data.labels_per_class` keeps only that
    many training images per class.

    Args:
        config: A `VGG16BottleneckConfig` or a config with the same `data`.
        skipped: A `SkippedFiles` recording the files a folder's scan left
            out. Defaults to `None`: unreadable files stop the scan.

    Returns:
        A `(splits, class_names)` tuple: split name to `LabelledImages` (or
        `None` when absent), and the class names.

    Example:

    ```python
    splits, class_names = load_splits(load_config("vgg16_bottleneck"))
    len(splits["train"])
    ```
    """
    data_config = config.data
    if data_config.source == "digits":
        (x_train, y_train), (x_test, y_test), class_names = load_digits()
        splits = {
            "train": LabelledImages(y_train, arrays=x_train),
            "validation": None,
            "test": LabelledImages(y_test, arrays=x_test),
        }
    else:
        folders = find_splits(data_config.directory)
        class_names, files = scan_class_folder(folders["train"], skipped=skipped)
        splits = {"train": _files_split(files), "validation": None, "test": None}
        for name in ("validation", "test"):
            if name in folders:
                _, files = scan_class_folder(folders[name], class_names, skipped)
                splits[name] = _files_split(files)
    if splits["validation"] is None:
        splits["train"], splits["validation"] = _hold_out(config, splits["train"])
    per_class = data_config.labels_per_class
    if per_class:
        chosen = _select(config, splits["train"], per_class, "labels")
        splits["train"] = splits["train"].subset(chosen)
    return splits, list(class_names)


def _select(config, split, count, what):
    try:
        return select_per_class(split.labels, count, config.seed)
    except ValueError as error:
        raise DataError(f"data.{what}_per_class={count}: {error}; lower it") from None


def _hold_out(config, train):
    per_class = config.data.validation_per_class
    if per_class:
        chosen = _select(config, train, per_class, "validation")
        rest = np.setdiff1d(np.arange(len(train)), chosen)
        return train.subset(rest), train.subset(chosen)
    fraction = config.train.validation_split
    if fraction == 0:
        return train, None
    (kept, _), (held, _) = split_validation(
        np.arange(len(train)), train.labels, fraction, config.seed
    )
    return train.subset(np.sort(kept)), train.subset(np.sort(held))


def _files_split(files):
    return LabelledImages([label for _, label in files], files=[p for p, _ in files])


def feature_datasets(config, epoch, features, labels, class_names):
    """Returns the `Datasets` of `(features, label)` batches.

    Args:
        config: The recipe's config (`seed`, `train.batch_size`,
            `train.steps_per_epoch`).
        epoch: The run's epoch counter; each epoch's order depends only on
            it and the seed.
        features: Split name to features array; `train` is required.
        labels: Split name to labels array, for the same splits.
        class_names: The class names.

    Returns:
        A `Datasets`: training batches epoch after epoch, and finite
        validation and test batches (`None` for a split not in `features`).

    Example:

    ```python
    data = feature_datasets(config, recipe.epoch, features, labels, names)
    ```
    """
    batch_size = config.train.batch_size
    count = len(labels["train"])
    train_features = tf.constant(features["train"])
    train_labels = tf.constant(labels["train"])

    def one_epoch(number):
        order = epoch_shuffled_indices(count, config.seed, number)
        return order.batch(batch_size).map(
            lambda i: (tf.gather(train_features, i), tf.gather(train_labels, i))
        )

    batched = {
        name: tf.data.Dataset.from_tensor_slices((features[name], labels[name]))
        .batch(batch_size)
        .prefetch(AUTOTUNE)
        if name in features
        else None
        for name in ("validation", "test")
    }
    return Datasets(
        train=every_epoch(epoch, one_epoch).prefetch(AUTOTUNE),
        validation=batched["validation"],
        test=batched["test"],
        steps_per_epoch=config.train.steps_per_epoch or -(-count // batch_size),
        input_shape=tuple(features["train"].shape[1:]),
        class_names=list(class_names),
    )
