"""Annotated images resized to a model's input, with their boxes."""

import numpy as np

from keras_recipes.data.image_files import image_problems
from keras_recipes.data.image_stream import ImageSet
from keras_recipes.data.letterbox import letterbox_boxes
from keras_recipes.errors import DataError


def annotated_image_set(records, image_size, letterbox=False):
    """Returns the images of annotation records as a set read from disk.

    Every file is checked once, in parallel, so a bad image stops the run
    before training, with its annotation file named; the pixels are read in
    the pipelines. Each image is resized (antialiased bilinear, aspect ratio
    not kept) to `image_size`, or with `letterbox` scaled to fit and padded
    (`letterbox_placement`), and its boxes are moved by the same transform,
    so the boxes stay on their objects. Grayscale, palette and RGBA images
    become RGB.

    Args:
        records: A list of `AnnotatedImage`.
        image_size: `(height, width)` of the model input.
        letterbox: Keep each image's aspect ratio and pad. Defaults to
            `False`.

    Returns:
        `(images, annotations)`: an `ImageSet` of RGB files given out in
        `[0, 255]`, and a list with one dict per image holding `"boxes"`
        (`[K, 4]` float32 `"xyxy"` pixels of the resized image) and
        `"classes"` (`[K]` int32).

    Example:

    ```python
    records, names = read_annotations("data/VOC2007", "voc", "train")
    images, annotations = annotated_image_set(records, (96, 96))
    first = images[0]  # float32 [96, 96, 3] in [0, 255]
    ```
    """
    paths = [record.path for record in records]
    for record, problem in zip(records, image_problems(paths), strict=True):
        if problem is not None:
            raise DataError(f"{record.source}: {problem}")
    height, width = image_size
    annotations = []
    for record in records:
        if letterbox:
            boxes = letterbox_boxes(
                record.boxes, record.height, record.width, image_size
            )
        else:
            scale = [width / record.width, height / record.height] * 2
            boxes = record.boxes * np.array(scale, "float32")
        annotations.append(
            {
                "boxes": boxes.astype("float32").reshape(-1, 4),
                "classes": record.classes.astype("int32"),
            }
        )
    images = ImageSet(
        labels=np.full(len(records), -1),
        image_size=image_size,
        channels=3,
        files=paths,
        value_range=(0, 255),
        letterbox=letterbox,
    )
    return images, annotations
