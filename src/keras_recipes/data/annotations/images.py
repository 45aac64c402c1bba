"""Annotated images resized to a model's input, with their boxes."""

import keras
import numpy as np
from PIL import Image

from keras_recipes.data.image_files import IMAGE_ERRORS
from keras_recipes.data.image_folder import convert_image
from keras_recipes.errors import DataError

_PROGRESS_FROM = 1000


def load_annotated_images(records, image_size):
    """Loads the images of annotation records, resized, with scaled boxes.

    Every image is resized (bilinear, aspect ratio not kept) to
    `image_size`, and its boxes are scaled by the same factors, so the boxes
    stay on their objects. Grayscale, palette and RGBA images become RGB.

    Args:
        records: A list of `AnnotatedImage`.
        image_size: `(height, width)` of the model input.

    Returns:
        `(images, annotations)`: a uint8 array `[N, height, width, 3]` and a
        list with one dict per image holding `"boxes"` (`[K, 4]` float32
        `"xyxy"` pixels of the resized image) and `"classes"` (`[K]` int32).

    Example:

    ```python
    records, names = read_annotations("data/VOC2007", "voc", "train")
    images, annotations = load_annotated_images(records, (96, 96))
    ```
    """
    height, width = image_size
    images = np.zeros((len(records), height, width, 3), "uint8")
    annotations = []
    # Large folders take a while to decode: show a progress bar for them.
    verbose = 1 if len(records) >= _PROGRESS_FROM else 0
    progress = keras.utils.Progbar(len(records), unit_name="image", verbose=verbose)
    for index, record in enumerate(records):
        try:
            with Image.open(record.path) as image:
                resized = convert_image(image, 3).resize(
                    (width, height), Image.Resampling.BILINEAR
                )
                images[index] = np.asarray(resized)
        except IMAGE_ERRORS as error:
            raise DataError(
                f"{record.source}: cannot read image {record.path}: {error}"
            ) from None
        scale = np.array([width / record.width, height / record.height] * 2, "float32")
        annotations.append(
            {
                "boxes": (record.boxes * scale).astype("float32").reshape(-1, 4),
                "classes": record.classes.astype("int32"),
            }
        )
        progress.update(index + 1)
    return images, annotations
