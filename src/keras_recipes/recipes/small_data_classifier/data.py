"""The augmented image pipelines of the `small_data_classifier` recipe."""

import dataclasses

import numpy as np
import tensorflow as tf

from keras_recipes.data.augmentation import augment_batches, build_augmentation
from keras_recipes.data.digits import load_digits, split_validation
from keras_recipes.data.image_files import SkippedFiles
from keras_recipes.data.image_folder import (
    files_dataset,
    find_splits,
    scan_class_folder,
)
from keras_recipes.epoch_seeding import epoch_shuffled_indices, every_epoch
from keras_recipes.recipes.small_data_classifier.config import channels_of
from keras_recipes.training import Datasets

AUTOTUNE = tf.data.AUTOTUNE
PREVIEW_IMAGES = 8


@dataclasses.dataclass
class AugmentedImages(Datasets):
    """Image batches of integer classes, the training ones augmented.

    Attributes:
        augmenter: The `RandomImageAugmentation` layer applied to each
            training batch, or `None` when augmentation is off.
        preview_images: A few training images drawn by the seed across the
            classes (one per class while classes last), un-augmented, shape
            `[8, height, width, channels]`, for the augmentation preview.
        preview_labels: The class name of each of `preview_images`.

    Example:

    ```python
    data = build_augmented_images(config, recipe.epoch)
    augmented = data.augmenter(data.preview_images, training=True)
    ```
    """

    augmenter: object = None
    preview_images: np.ndarray | None = None
    preview_labels: list = dataclasses.field(default_factory=list)


def build_augmented_images(config, epoch):
    """Returns the `AugmentedImages` a `small_data_classifier` config asks for.

    Args:
        config: A `SmallDataClassifierConfig`.
        epoch: The run's epoch counter (`tf.Variable`); each epoch's order
            and augmentation depend only on it and the seed.

    Returns:
        The `AugmentedImages`: training batches epoch after epoch, and
        finite validation and test batches (`None` when a split is absent).

    Example:

    ```python
    data = build_augmented_images(recipe.config, recipe.epoch)
    ```
    """
    data_config = config.data
    if data_config.source == "digits":
        splits, class_names = digits_splits(config)
    else:
        splits, class_names = folder_splits(config)
    skipped = splits.get("skipped")
    size, channels = tuple(data_config.image_size), channels_of(data_config)
    seed, batch_size = config.seed, config.train.batch_size
    augmenter = build_augmentation(data_config.augmentation, size, channels, seed=seed)

    def one_epoch(number):
        order = epoch_shuffled_indices(splits["train_size"], seed, number)
        batches = splits["train"](batch_size, order)
        if augmenter is None:
            return batches
        return augment_batches(batches, augmenter, seed, number)

    held_out = {
        name: splits[name](batch_size).prefetch(AUTOTUNE)
        if splits.get(name) is not None
        else None
        for name in ("validation", "test")
    }
    picked = preview_indices(splits["train_labels"], PREVIEW_IMAGES, seed)
    order = tf.data.Dataset.from_tensor_slices(np.asarray(picked, "int64"))
    preview, preview_labels = next(iter(splits["train"](len(picked), order)))
    return AugmentedImages(
        train=every_epoch(epoch, one_epoch).prefetch(AUTOTUNE),
        validation=held_out["validation"],
        test=held_out["test"],
        steps_per_epoch=config.train.steps_per_epoch
        or -(-splits["train_size"] // batch_size),
        input_shape=(*size, channels),
        class_names=class_names,
        random_layers=[augmenter] if augmenter is not None else [],
        skipped_files=skipped,
        augmenter=augmenter,
        preview_images=preview.numpy(),
        preview_labels=[class_names[label] for label in preview_labels.numpy()],
    )


def preview_indices(labels, count, seed):
    """Picks training images for the augmentation preview, across the classes.

    The images are shuffled by the seed, and then taken one per class in
    turn (the classes in the order their first image comes), so a preview
    of 8 images of 10 classes shows 8 classes, and one of 2 classes shows
    both, 4 each.

    Args:
        labels: The integer class of each training image, shape `[N]`.
        count: How many images to pick.
        seed: The run's seed.

    Returns:
        A list of at most `count` indices into `labels`.

    Example:

    ```python
    preview_indices(np.array([0, 0, 0, 1, 1, 1]), 4, seed=42)  # two of each
    ```
    """
    by_class = {}
    for index in np.random.default_rng(seed).permutation(len(labels)):
        by_class.setdefault(int(labels[index]), []).append(int(index))
    picked = []
    for depth in range(max(map(len, by_class.values()), default=0)):
        for indices in by_class.values():
            if depth < len(indices) and len(picked) < count:
                picked.append(indices[depth])
    return picked


def digits_splits(config):
    """Returns the embedded digits as functions from (batch size, order) to batches.

    Args:
        config: A `SmallDataClassifierConfig` with `data.source: digits`.

    Returns:
        A `(splits, class_names)` tuple; `splits` maps `train`,
        `validation` (`None` without a validation split) and `test` to a
        function `(batch_size, order=None) -> dataset`, `train_size` to
        the number of training images and `train_labels` to their classes.

    Example:

    ```python
    splits, class_names = digits_splits(config)
    first_batch = next(iter(splits["train"](32)))
    ```
    """
    (x_train, y_train), (x_test, y_test), class_names = load_digits()
    size = tuple(config.data.image_size)
    if size != (8, 8):
        x_train = tf.image.resize(x_train, size).numpy()
        x_test = tf.image.resize(x_test, size).numpy()
    (x_fit, y_fit), (x_val, y_val) = split_validation(
        x_train, y_train, config.train.validation_split, config.seed
    )

    def arrays(x, y):
        if x is None:
            return None
        x, y = tf.constant(x), tf.constant(y)

        def dataset(batch_size, order=None):
            order = order or tf.data.Dataset.range(len(x))
            # One gather per batch: a tenth of the cost of one per image.
            return order.batch(batch_size).map(
                lambda i: (tf.gather(x, i), tf.gather(y, i)),
                num_parallel_calls=AUTOTUNE,
                deterministic=True,
            )

        return dataset

    splits = {
        "train": arrays(x_fit, y_fit),
        "train_size": len(x_fit),
        "train_labels": np.asarray(y_fit),
        "validation": arrays(x_val, y_val),
        "test": arrays(x_test, y_test),
    }
    return splits, class_names


def folder_splits(config):
    """Returns a folder's images as functions from (batch size, order) to batches.

    Without a `validation/` folder, `train.validation_split` of the training
    images are held out, class by class.

    Args:
        config: A `SmallDataClassifierConfig` with `data.source: folder`.

    Returns:
        A `(splits, class_names)` tuple, as `digits_splits` returns; a split
        without a folder (or held-out images) is absent.

    Example:

    ```python
    splits, class_names = folder_splits(config)
    ```
    """
    data_config = config.data
    folders = find_splits(data_config.directory)
    skipped = SkippedFiles(skip_bad=data_config.skip_bad_files)
    class_names, train_files = scan_class_folder(folders["train"], skipped=skipped)
    files = {"train": train_files}
    for name in ("validation", "test"):
        if name in folders:
            files[name] = scan_class_folder(folders[name], class_names, skipped)[1]
    fraction = config.train.validation_split
    if "validation" not in folders and fraction > 0:
        labels = [label for _, label in train_files]
        (fit, _), (held, _) = split_validation(
            np.array(train_files, dtype=object), labels, fraction, config.seed
        )
        files["train"], files["validation"] = (
            list(map(tuple, fit)),
            list(map(tuple, held)),
        )
    size, channels = tuple(data_config.image_size), channels_of(data_config)

    def reader(split_files):
        def dataset(batch_size, order=None):
            batches = files_dataset(split_files, size, channels, order)
            return batches.batch(batch_size)

        return dataset

    splits = {name: reader(split_files) for name, split_files in files.items()}
    splits["train_size"] = len(files["train"])
    splits["skipped"] = skipped
    splits["train_labels"] = np.array([label for _, label in files["train"]])
    return splits, class_names
