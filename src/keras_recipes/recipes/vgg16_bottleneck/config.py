"""The `vgg16_bottleneck` settings; importing them starts no TensorFlow."""

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
from keras_recipes.data.source_checks import check_folder_source, check_image_size
from keras_recipes.errors import ConfigError

MODEL_FILE_SUFFIXES = (".keras", ".h5")
Approach = Literal[
    "small_similar", "small_different", "large_similar", "large_different"
]
# The `keras.applications` bases `keras_recipes.weights` knows, by name; kept
# here too so that checking a config starts no TensorFlow.
APPLICATION_NAMES = (
    "ConvNeXtTiny",
    "DenseNet121",
    "EfficientNetB0",
    "EfficientNetV2B0",
    "InceptionV3",
    "MobileNet",
    "MobileNetV2",
    "MobileNetV3Large",
    "MobileNetV3Small",
    "ResNet101",
    "ResNet152",
    "ResNet50",
    "ResNet50V2",
    "VGG16",
    "VGG19",
    "Xception",
)


def is_model_file(name):
    """Returns whether a base name is a model file rather than an application.

    Args:
        name: The `base.name` setting.

    Returns:
        `True` for a name ending in `.keras` or `.h5`.

    Example:

    ```python
    is_model_file("runs/x/base.keras")  # True
    ```
    """
    return str(name).lower().endswith(MODEL_FILE_SUFFIXES)


def channels_of(data_config):
    """Returns the channels of the images a data section gives.

    Args:
        data_config: A data section with a `color_mode`.

    Returns:
        `1` for grayscale, `3` for RGB.

    Example:

    ```python
    channels_of(load_config("vgg16_bottleneck").data)  # 3
    ```
    """
    return 1 if data_config.color_mode == "grayscale" else 3


@dataclasses.dataclass
class TransferDataConfig:
    """Where the images come from, their size, and how many labels to keep."""

    source: Literal["folder", "digits"] = param(
        "folder", doc="folder (data.directory) | digits (embedded, offline tries)"
    )
    directory: str | None = param(
        "data/cats_and_dogs",
        doc="Class subfolders, or train/ validation/ [test/] of them.",
    )
    image_size: list[int] = param([150, 150], doc="Height and width fed to the base.")
    color_mode: Literal["rgb", "grayscale"] = param(
        "rgb", doc="keras.applications bases take rgb."
    )
    skip_bad_files: bool = param(
        False,
        doc="Skip unreadable files in the folder (listed in skipped_files.txt) "
        "instead of stopping.",
    )
    labels_per_class: int | None = param(
        None, minimum=1, doc="Keep only this many training images per class."
    )
    validation_per_class: int | None = param(
        None,
        minimum=1,
        doc="Without a validation/ folder: validation images per class taken "
        "from the training images (default: train.validation_split of them).",
    )

    def validate(self, key):
        check_image_size(key, self.image_size)
        check_folder_source(
            key,
            self.source,
            self.directory,
            "class subfolders, or train/ and validation/ of them",
        )


@dataclasses.dataclass
class BaseConfig:
    """The pretrained base: which network, which weights, where to cut it."""

    name: str = param(
        "VGG16",
        doc="A keras.applications model (VGG16, ResNet50, ...) or a "
        ".keras/.h5 model file.",
    )
    weights: str | None = param(
        "imagenet",
        doc="imagenet (Keras downloads them on first use) | saved (a model "
        "file's own) | null (random, for tests and baselines) | a local "
        "weights file.",
    )
    cut_layer: str | None = param(
        None,
        doc="Last layer kept (e.g. block4_pool); null: the approach's choice "
        "(block5_pool for small_similar).",
    )
    preprocessing: str = param(
        "auto",
        doc="auto (the application's preprocess_input; none for a model file) "
        "| none | an application name.",
    )

    def validate(self, key):
        model_file = is_model_file(self.name)
        if model_file and self.weights == "imagenet":
            raise ConfigError(
                f"{key}.weights is 'imagenet' but {key}.name is a model file "
                f"({self.name}); set {key}.weights=saved for its own weights, "
                f"null for random ones, or a weights file"
            )
        if not model_file and self.weights == "saved":
            raise ConfigError(
                f"{key}.weights=saved needs {key}.name to be a .keras/.h5 model "
                f"file. Received: name={self.name}"
            )
        known = {name.lower() for name in APPLICATION_NAMES} | {"auto", "none"}
        if self.preprocessing.lower() not in known:
            raise ConfigError(
                f"{key}.preprocessing must be auto, none or one of "
                f"{', '.join(APPLICATION_NAMES)}. Received: {self.preprocessing}"
            )


@dataclasses.dataclass
class FeatureCacheConfig:
    """Where bottleneck features are cached and how data files are recognised."""

    enabled: bool = param(True)
    directory: str | None = param(None, doc="Default: <runs root>/feature_cache.")
    fingerprint: Literal["stat", "content"] = param(
        "stat",
        doc="stat (paths, sizes, modification times) | content (file hashes).",
    )


@dataclasses.dataclass
class TopConfig:
    """The top model trained on the base's features."""

    pooling: Literal["flatten", "avg", "max"] = param(
        "flatten", doc="flatten (the blog's) | avg | max (global pooling)."
    )
    units: int = param(256, minimum=1, doc="Units of the hidden dense layer.")
    dropout: float = param(0.5, minimum=0, below=1)


@dataclasses.dataclass
class EvaluationConfig:
    """Test-time options."""

    ten_crop: bool = param(
        False, doc="Also report test accuracy averaged over ten crops per image."
    )
    crop_fraction: float = param(
        0.875, minimum=0.5, maximum=1, doc="Crop side over loaded side (224/256)."
    )
    flip: bool = param(
        True, doc="Mirrored crops too (ten); false gives five (digits, text)."
    )


@dataclasses.dataclass
class VGG16BottleneckConfig(RecipeConfig):
    """Config of the `vgg16_bottleneck` recipe.

    The defaults are the Keras blog post's: VGG16 with ImageNet weights,
    150x150 images of `data/cats_and_dogs`, a FLATTEN -> DENSE 256 ->
    DROPOUT 0.5 top trained with RMSprop (about 90% on 2,000 cats and dogs).
    """

    description: ClassVar[str] = (
        "Frozen VGG16 (or any base) features, cached; a small top on them."
    )

    recipe: str = param("vgg16_bottleneck")
    approach: Approach = param(
        "small_similar",
        doc="small_similar | small_different | large_similar | large_different: "
        "data size x likeness to the base's data; sets the cut (and fine-tuned "
        "blocks). See keras_recipes.models.transfer_approaches.",
    )
    data: TransferDataConfig = section(TransferDataConfig)
    model: TopConfig = section(TopConfig)
    base: BaseConfig = section(BaseConfig)
    cache: FeatureCacheConfig = section(FeatureCacheConfig)
    evaluation: EvaluationConfig = section(EvaluationConfig)
    optimizer: OptimizerConfig = section(OptimizerConfig, name="rmsprop")
    train: TrainConfig = section(TrainConfig, epochs=50, batch_size=16)
    callbacks: CallbacksConfig = section(
        CallbacksConfig, early_stopping={"patience": 10}
    )
