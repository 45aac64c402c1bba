"""The train, validation and held-out splits of `yolo`: shapes or a folder."""

import numpy as np

from keras_recipes.data.annotations import (
    annotated_image_set,
    find_annotation_splits,
    read_annotations,
)
from keras_recipes.data.image_stream import ImageSet
from keras_recipes.data.shapes import load_shapes
from keras_recipes.errors import ConfigError, DataError

# Where each annotation format keeps its training split.
TRAIN_SPLIT_LAYOUTS = {
    "voc": "ImageSets/Main/train.txt listing Annotations/*.xml and JPEGImages/",
    "coco": "annotations/train.json",
    "yolo": "images/train/ with labels/train/ and classes.txt",
}


def load_splits(data_config, validation_split, seed):
    """Returns the images and annotations of each split and the class names.

    Args:
        data_config: The `data` section (`DetectionDataConfig`).
        validation_split: Fraction of the training images that validate when
            the data has no validation split of its own.
        seed: Seed of that validation split.

    Returns:
        A tuple `((train, validation, test), class_names)`; each split is
        `(images, annotations)`: an `ImageSet` giving out RGB images in
        `[0, 255]` (the embedded shapes in memory, a folder's files read as
        the pipelines need them) and one dict of `"boxes"` and `"classes"`
        per image. `validation` may be `None`.

    Example:

    ```python
    (train, validation, test), names = load_splits(config.data, 0.1, seed=42)
    ```
    """
    if data_config.source == "shapes":
        return _shapes_splits(data_config, validation_split, seed)
    return _folder_splits(data_config, validation_split, seed)


def split_validation(images, annotations, fraction, seed):
    """Holds out a seeded random `fraction` of the images for validation.

    Args:
        images: An `ImageSet`.
        annotations: One annotation dict per image.
        fraction: Share of the images that validate.
        seed: Seed of the choice.

    Returns:
        A tuple `(train, validation)` of `(images, annotations)` pairs, in
        their original order; `validation` is `None` when the fraction
        leaves no image for one of them.

    Example:

    ```python
    (x_fit, y_fit), validation = split_validation(images, boxes, 0.1, seed=0)
    ```
    """
    count = int(round(len(images) * fraction))
    if count == 0 or count >= len(images):
        return (images, annotations), None
    order = np.random.default_rng(seed).permutation(len(images))
    held, kept = np.sort(order[:count]), np.sort(order[count:])
    return (
        (images.subset(kept), [annotations[i] for i in kept]),
        (images.subset(held), [annotations[i] for i in held]),
    )


def _shapes_splits(data_config, validation_split, seed):
    shapes = data_config.shapes
    height, width = data_config.image_size
    if height != width:
        raise ConfigError(
            "the shapes set is square; set data.image_size to [N, N]. "
            f"Received: {data_config.image_size}"
        )
    (x_train, y_train), (x_test, y_test), class_names = load_shapes(
        shapes.num_train,
        shapes.num_test,
        image_size=height,
        seed=shapes.seed,
        max_objects=shapes.max_objects,
        pair_probability=shapes.pair_probability,
    )
    x_train, x_test = (
        ImageSet(
            labels=np.full(len(x), -1),
            image_size=(height, width),
            channels=3,
            pixels=x,
            value_range=(0, 255),
        )
        for x in (x_train, x_test)
    )
    train, validation = split_validation(x_train, y_train, validation_split, seed)
    return (train, validation, (x_test, y_test)), class_names


def _folder_splits(data_config, validation_split, seed):
    directory, annotation_format = data_config.directory, data_config.format
    present = find_annotation_splits(directory, annotation_format)
    if "train" not in present:
        raise DataError(
            f"no training split in {directory} (format {annotation_format}); "
            f"expected {TRAIN_SPLIT_LAYOUTS[annotation_format]}"
        )
    size = tuple(data_config.image_size)
    class_names = data_config.class_names or None
    records, class_names = read_annotations(
        directory, annotation_format, "train", class_names
    )
    letterbox = data_config.letterbox
    loaded = {"train": annotated_image_set(records, size, letterbox)}
    for split in ("val", "test"):
        if split in present:
            records, _ = read_annotations(
                directory, annotation_format, split, class_names
            )
            loaded[split] = annotated_image_set(records, size, letterbox)
    # The held-out split is `test`, or `val` when there is no `test`;
    # validation is `val` next to a `test`, or carved from `train`.
    if "test" in loaded:
        test = loaded["test"]
        if "val" in loaded:
            return (loaded["train"], loaded["val"], test), class_names
    elif "val" in loaded:
        test = loaded["val"]
    else:
        raise DataError(
            f"no held-out split in {directory}: add a 'test' (or 'val') split "
            f"so mAP is measured on images the model did not train on"
        )
    train, validation = split_validation(*loaded["train"], validation_split, seed)
    return (train, validation, test), class_names
