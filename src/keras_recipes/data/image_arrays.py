"""The train, validation and test images of the autoencoder recipes.

Autoencoders need no labels, so any folder of images will do, or the
embedded digits. `load_image_splits` splits them three ways and gives each
split as an `ImageSet`, which a folder's images stream from disk through;
`load_image_arrays` reads the same splits into float32 arrays in `[0, 1]`,
for small sets. Labels are kept where there are any (the digit, or a
first-level subfolder's name) to colour latent-space plots.
"""

import dataclasses
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_recipes.data.digits import load_digits, split_validation
from keras_recipes.data.image_files import (
    SkippedFiles,
    check_image,
    list_folder_images,
)
from keras_recipes.data.image_folder import find_splits, load_images
from keras_recipes.data.image_stream import ImageSet
from keras_recipes.errors import DataError

# The held-out test images of a folder without test/ do not depend on the
# run's seed, so test errors stay comparable across seeds (as for the digits).
FOLDER_TEST_SPLIT_SEED = 0


@dataclasses.dataclass
class ImageArrays:
    """Training, validation and test images with their labels.

    Attributes:
        train: Float32 array `[N, height, width, channels]` in `[0, 1]`.
        validation: The same for validation, or `None`.
        test: The same for testing.
        train_labels: Int array `[N]`; `-1` where an image has no class.
        validation_labels: Labels of `validation`, or `None`.
        test_labels: Labels of `test`.
        class_names: Names of the labels `0, 1, ...`; empty when unlabelled.
    """

    train: np.ndarray
    validation: np.ndarray | None
    test: np.ndarray
    train_labels: np.ndarray
    validation_labels: np.ndarray | None
    test_labels: np.ndarray
    class_names: list


@dataclasses.dataclass
class ImageSplits:
    """Training, validation and test images, each an `ImageSet`.

    A folder's sets hold file paths and decode the images as pipelines read
    them; the digits' sets hold their pixels.

    Attributes:
        train: The training `ImageSet`.
        validation: The validation `ImageSet`, or `None`.
        test: The test `ImageSet`.
        class_names: Names of the labels `0, 1, ...`; empty when unlabelled.
        skipped: The `SkippedFiles` of a folder's scan, or `None`.
    """

    train: ImageSet
    validation: ImageSet | None
    test: ImageSet
    class_names: list
    skipped: SkippedFiles | None = None


def load_image_splits(config, validation_split=0.2, seed=0):
    """Finds the images an `ImageArraysConfig` describes, split three ways.

    The splits are those of `load_image_arrays`, but no image of a folder
    is read: each split is an `ImageSet` of file paths, whose pipelines
    decode the images as they are needed. The digits stay in memory.

    Args:
        config: An `ImageArraysConfig`. No default.
        validation_split: Fraction of the training images held out for
            validation when there is no `validation/` folder.
            Defaults to `0.2`.
        seed: Seed of the validation split. Defaults to `0`.

    Returns:
        An `ImageSplits`.

    Example:

    ```python
    splits = load_image_splits(ImageArraysConfig(), validation_split=0.2)
    len(splits.train), splits.train.shape[1:]  # 1149, (8, 8, 1)
    ```
    """
    skipped = None
    if config.source == "digits":
        arrays = _digits_arrays(config, validation_split, seed)
        class_names, source = arrays.class_names, "pixels"
        splits = {
            split: (getattr(arrays, split), getattr(arrays, f"{split}_labels"))
            for split in ("train", "validation", "test")
        }
    else:
        skipped = SkippedFiles(skip_bad=config.skip_bad_files)
        splits, class_names = _folder_splits(config, validation_split, seed, skipped)
        source = "files"
    size, channels = tuple(config.image_size), config.channels
    sets = {
        split: None
        if images is None
        else ImageSet(labels, size, channels, **{source: images})
        for split, (images, labels) in splits.items()
    }
    return ImageSplits(**sets, class_names=class_names, skipped=skipped)


def load_image_arrays(config, validation_split=0.2, seed=0):
    """Loads the images an `ImageArraysConfig` describes, split three ways.

    The digits keep their fixed test split, and validation images are taken
    from the training ones. A folder's `test/` and `validation/` subfolders
    are used when present; otherwise a `config.test_split` fraction of the
    images is held out for testing (always the same images) and a
    `validation_split` fraction of the rest for validation (chosen by `seed`).

    Args:
        config: An `ImageArraysConfig`. No default.
        validation_split: Fraction of the training images held out for
            validation when there is no `validation/` folder.
            Defaults to `0.2`.
        seed: Seed of the validation split. Defaults to `0`.

    Returns:
        An `ImageArrays`.

    Example:

    ```python
    arrays = load_image_arrays(ImageArraysConfig(), validation_split=0.2)
    arrays.train.shape  # (1149, 8, 8, 1)
    ```
    """
    if config.source == "digits":
        return _digits_arrays(config, validation_split, seed)
    return _folder_arrays(config, validation_split, seed)


def list_image_files(paths):
    """Expands files and folders into a sorted list of checked image files.

    Args:
        paths: Image files and folders; folders are searched at any depth.
            No default.

    Returns:
        A list of `Path`s, each folder's images sorted, in the order given.

    Example:

    ```python
    files = list_image_files(["data/new", "extra.png"])
    ```
    """
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            found = list_folder_images(path)
            if not found:
                raise DataError(f"no image files in folder {path}")
            files.extend(found)
        elif path.is_file():
            check_image(path)
            files.append(path)
        else:
            raise DataError(f"no such image file or folder: {path}")
    return files


def read_images(paths, image_size, channels):
    """Reads image files as one float32 array scaled to `[0, 1]`.

    Args:
        paths: Image files, as `list_image_files` returns. No default.
        image_size: `(height, width)` to resize to. No default.
        channels: 1 for grayscale, 3 for RGB. No default.

    Returns:
        Array `[N, height, width, channels]` in `[0, 1]`.

    Example:

    ```python
    images = read_images(list_image_files(["data/new"]), (8, 8), 1)
    ```
    """
    return (load_images(paths, tuple(image_size), channels) / 255.0).astype("float32")


def _digits_arrays(config, validation_split, seed):
    (x_train, y_train), (x_test, y_test), class_names = load_digits()
    size = tuple(config.image_size)
    x_train, x_test = x_train / 255.0, x_test / 255.0
    if size != (8, 8):
        x_train = tf.image.resize(x_train, size).numpy()
        x_test = tf.image.resize(x_test, size).numpy()
    (x_fit, y_fit), (x_val, y_val) = split_validation(
        x_train, y_train, validation_split, seed
    )
    return ImageArrays(
        train=x_fit.astype("float32"),
        validation=None if x_val is None else x_val.astype("float32"),
        test=x_test.astype("float32"),
        train_labels=y_fit,
        validation_labels=y_val,
        test_labels=y_test,
        class_names=class_names,
    )


def _folder_arrays(config, validation_split, seed):
    splits, class_names = _folder_splits(config, validation_split, seed)
    arrays = {
        split: (None, None)
        if files is None
        else (read_images(files, config.image_size, config.channels), labels)
        for split, (files, labels) in splits.items()
    }
    return ImageArrays(
        train=arrays["train"][0],
        validation=arrays["validation"][0],
        test=arrays["test"][0],
        train_labels=arrays["train"][1],
        validation_labels=arrays["validation"][1],
        test_labels=arrays["test"][1],
        class_names=class_names,
    )


def _folder_splits(config, validation_split, seed, skipped=None):
    # `{split: (paths, labels) or (None, None)}` and the class names.
    folders = find_splits(config.directory)
    files = {name: _labelled_files(folder, skipped) for name, folder in folders.items()}
    if "test" not in files:
        files["train"], files["test"] = _split(
            files["train"], config.test_split, FOLDER_TEST_SPLIT_SEED
        )
        if not files["test"]:
            raise DataError(
                f"no test images: {config.directory} has no test/ folder and "
                f"data.test_split is {config.test_split}; set data.test_split "
                f"above 0 or add a test/ folder"
            )
    if "validation" not in files and validation_split > 0:
        files["train"], files["validation"] = _split(
            files["train"], validation_split, seed
        )
    if len(files["train"]) < 2:
        raise DataError(
            f"only {len(files['train'])} training image(s) left in "
            f"{config.directory}; add images or lower data.test_split and "
            f"train.validation_split"
        )
    class_names = sorted(
        {name for split in files.values() for _, name in split if name is not None}
    )
    index = {name: label for label, name in enumerate(class_names)}
    splits = {}
    for split in ("train", "validation", "test"):
        pairs = files.get(split)
        if not pairs:
            splits[split] = (None, None)
            continue
        paths = [path for path, _ in pairs]
        labels = np.array([index.get(name, -1) for _, name in pairs], "int32")
        splits[split] = (paths, labels)
    return splits, class_names


def _labelled_files(folder, skipped=None):
    files = list_folder_images(folder, skipped)
    if not files:
        raise DataError(f"no image files in folder {folder} (check data.directory)")
    pairs = []
    for path in files:
        parts = path.relative_to(folder).parts
        pairs.append((path, parts[0] if len(parts) > 1 else None))
    return pairs


def _split(pairs, fraction, seed):
    if fraction <= 0:
        return pairs, []
    order = np.random.default_rng(seed).permutation(len(pairs))
    held = max(1, round(fraction * len(pairs)))
    kept = sorted(order[held:])
    taken = sorted(order[:held])
    return [pairs[i] for i in kept], [pairs[i] for i in taken]
