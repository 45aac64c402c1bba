"""Config sections shared by the image recipes' `data` settings.

They import no TensorFlow, so a recipe's config can be shown and checked
without starting it.
"""

import dataclasses
from typing import ClassVar, Literal

from keras_recipes.config import param
from keras_recipes.data.source_checks import check_folder_source, check_image_size
from keras_recipes.errors import ConfigError


@dataclasses.dataclass
class ImageArraysConfig:
    """Where the images come from and their size; pixels are scaled to [0, 1]."""

    # What a folder of photos gets unless `image_size` or `color_mode` is set.
    folder_defaults: ClassVar[dict] = {"image_size": [64, 64], "color_mode": "rgb"}

    source: Literal["digits", "folder"] = param(
        "digits", doc="digits (embedded) | folder (data.directory)"
    )
    directory: str | None = param(
        None,
        doc="Folder of images at any depth (first-level subfolders are "
        "classes, used only to colour plots), or train/ validation/ test/ "
        "folders of them.",
    )
    image_size: list[int] = param(
        [8, 8], doc="Height and width fed to the model; a folder gets 64x64."
    )
    color_mode: Literal["grayscale", "rgb"] = param(
        "grayscale", doc="A folder gets rgb unless set."
    )
    test_split: float = param(
        0.2,
        minimum=0,
        below=1,
        doc="Fraction held out for testing, folder without test/.",
    )
    pca_max_images: int = param(
        5000,
        minimum=1,
        doc="The PCA baseline is fitted on at most this many training "
        "images, a fixed sample drawn with the seed.",
    )
    skip_bad_files: bool = param(
        False,
        doc="Skip unreadable files in the folder (listed in skipped_files.txt) "
        "instead of stopping.",
    )

    def validate(self, key):
        check_image_size(key, self.image_size)
        check_folder_source(key, self.source, self.directory)
        if self.source == "digits" and self.color_mode != "grayscale":
            raise ConfigError(
                f"the digits are grayscale; set {key}.color_mode=grayscale "
                f"or use {key}.source=folder"
            )

    @property
    def channels(self):
        """Number of channels: 1 for grayscale, 3 for RGB."""
        return 1 if self.color_mode == "grayscale" else 3


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
