"""The `small_data_classifier` settings; importing them starts no TensorFlow."""

import dataclasses
from typing import ClassVar, Literal

from keras_recipes.config import (
    CallbacksConfig,
    OptimizerConfig,
    RecipeConfig,
    TrainConfig,
    param,
    section,
)
from keras_recipes.data.sections import AugmentationConfig
from keras_recipes.data.source_checks import check_folder_source, check_image_size
from keras_recipes.errors import ConfigError


@dataclasses.dataclass
class ClassifierDataConfig:
    """Where the images come from and how they are prepared."""

    # The Keras blog's cats-vs-dogs size: what a folder of photos gets
    # unless `image_size` or `color_mode` is set.
    folder_defaults: ClassVar[dict] = {"image_size": [150, 150], "color_mode": "rgb"}

    source: Literal["digits", "folder"] = param(
        "digits", doc="digits (embedded) | folder (data.directory)"
    )
    directory: str | None = param(
        None, doc="Class subfolders, or train/ validation/ [test/] of them."
    )
    image_size: list[int] = param(
        [16, 16],
        doc="Height and width fed to the model (the 8x8 digits, upsampled: room "
        "for two conv blocks); a folder gets 150x150 unless set.",
    )
    color_mode: Literal["grayscale", "rgb"] = param(
        "grayscale", doc="A folder gets rgb unless set."
    )
    skip_bad_files: bool = param(
        False,
        doc="Skip unreadable files in the folder (listed in skipped_files.txt) "
        "instead of stopping.",
    )
    augmentation: AugmentationConfig = section(
        AugmentationConfig, rotation=0.03, zoom=0.1, translation=0.1
    )

    def validate(self, key):
        check_image_size(key, self.image_size)
        check_folder_source(key, self.source, self.directory)
        if self.source == "digits" and self.color_mode != "grayscale":
            raise ConfigError(
                f"the digits are grayscale; set {key}.color_mode=grayscale "
                f"or use {key}.source=folder"
            )


@dataclasses.dataclass
class SmallCNNConfig:
    """Sizes of the small CNN."""

    filters: list[int] = param([32, 64], doc="Filters per conv block.")
    kernel_size: int = param(3, minimum=1)
    dense_units: int = param(128, minimum=1)
    dropout: float = param(0.5, minimum=0, below=1)
    padding: Literal["same", "valid"] = param("same")


@dataclasses.dataclass
class SmallDataClassifierConfig(RecipeConfig):
    """Config of the `small_data_classifier` recipe.

    The defaults train for up to 60 epochs on the embedded handwritten
    digits, upsampled to 16x16, with light augmentation and a cosine
    learning-rate schedule.
    """

    description: ClassVar[str] = (
        "Small CNN with augmentation for small image sets (digits, folders)."
    )

    recipe: str = param("small_data_classifier")
    data: ClassifierDataConfig = section(ClassifierDataConfig)
    model: SmallCNNConfig = section(SmallCNNConfig)
    optimizer: OptimizerConfig = section(
        OptimizerConfig, learning_rate=0.002, schedule={"name": "cosine"}
    )
    train: TrainConfig = section(TrainConfig, epochs=60, validation_split=0.15)
    callbacks: CallbacksConfig = section(
        CallbacksConfig, early_stopping={"patience": 15}
    )


def channels_of(data_config):
    """Returns the channels of the images a data section gives.

    Args:
        data_config: A data section with a `color_mode`.

    Returns:
        `1` for grayscale, `3` for RGB.

    Example:

    ```python
    channels_of(load_config("small_data_classifier").data)  # 1
    ```
    """
    return 1 if data_config.color_mode == "grayscale" else 3
