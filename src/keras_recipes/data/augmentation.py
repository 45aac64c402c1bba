"""Image augmentation as Keras preprocessing layers, built from config."""

import dataclasses
from typing import Literal

import keras

from keras_recipes.config import param
from keras_recipes.errors import ConfigError


@dataclasses.dataclass
class AugmentationConfig:
    """Random transformations applied to training images only."""

    enabled: bool = param(True)
    flip: Literal["none", "horizontal", "vertical", "horizontal_and_vertical"] = param(
        "none"
    )
    rotation: float = param(0.0, minimum=0, maximum=1, doc="Fraction of a turn.")
    zoom: float = param(0.0, minimum=0, below=1, doc="Zoom in or out by up to.")
    translation: float = param(0.0, minimum=0, below=1, doc="Fraction of size.")
    shear: float = param(0.0, minimum=0, maximum=1, doc="Shear factor.")
    crop: float = param(
        0.0, minimum=0, below=1, doc="Random crop of up to, resized back."
    )
    contrast: float = param(0.0, minimum=0, maximum=1)
    brightness: float = param(0.0, minimum=0, maximum=1)
    hue: float = param(0.0, minimum=0, maximum=1, doc="Colour shift; RGB only.")
    saturation: float = param(0.0, minimum=0, maximum=1, doc="RGB only.")
    fill_mode: Literal["reflect", "constant", "nearest", "wrap"] = param("constant")


def build_augmentation(config, image_size, channels, seed=0):
    """Returns a `keras.Sequential` of random layers, or `None` if none is on.

    The layers expect pixel values in [0, 255] and are meant for the training
    `tf.data` pipeline (`dataset.map(lambda x, y: (augment(x, training=True), y))`).

    Args:
        config: An `AugmentationConfig`.
        image_size: `(height, width)` of the images.
        channels: 1 for grayscale, 3 for RGB.
        seed: Base seed; each layer gets its own from it. Defaults to `0`.

    Returns:
        A `keras.Sequential` named `"augmentation"`, or `None`.

    Example:

    ```python
    augment = build_augmentation(config.data.augmentation, (8, 8), 1, seed=42)
    ```
    """
    if not config.enabled:
        return None
    if channels != 3 and (config.hue or config.saturation):
        raise ConfigError(
            "data.augmentation.hue and .saturation need RGB images; set them to 0 "
            f"for {channels}-channel images"
        )
    height, width = image_size
    fill = {"fill_mode": config.fill_mode}
    layers = []
    if config.flip != "none":
        layers.append(keras.layers.RandomFlip(config.flip, seed=seed))
    if config.rotation:
        layers.append(
            keras.layers.RandomRotation(config.rotation, seed=seed + 1, **fill)
        )
    if config.zoom:
        layers.append(keras.layers.RandomZoom(config.zoom, seed=seed + 2, **fill))
    if config.translation:
        layers.append(
            keras.layers.RandomTranslation(
                config.translation, config.translation, seed=seed + 3, **fill
            )
        )
    if config.shear:
        layers.append(
            keras.layers.RandomShear(config.shear, config.shear, seed=seed + 4, **fill)
        )
    if config.crop:
        crop_height = max(1, round(height * (1 - config.crop)))
        crop_width = max(1, round(width * (1 - config.crop)))
        layers.append(keras.layers.RandomCrop(crop_height, crop_width, seed=seed + 5))
        layers.append(keras.layers.Resizing(height, width))
    if config.contrast:
        layers.append(
            keras.layers.RandomContrast(
                config.contrast, value_range=(0, 255), seed=seed + 6
            )
        )
    if config.brightness:
        layers.append(
            keras.layers.RandomBrightness(
                config.brightness, value_range=(0, 255), seed=seed + 7
            )
        )
    if config.hue:
        layers.append(
            keras.layers.RandomHue(config.hue, value_range=(0, 255), seed=seed + 8)
        )
    if config.saturation:
        layers.append(
            keras.layers.RandomSaturation(
                config.saturation, value_range=(0, 255), seed=seed + 9
            )
        )
    if not layers:
        return None
    return keras.Sequential(layers, name="augmentation")
