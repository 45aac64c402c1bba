"""The settings of the `autoencoder` recipe; importing them starts no TensorFlow."""

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
from keras_recipes.data.sections import ImageArraysConfig
from keras_recipes.errors import ConfigError

DEFAULT_DENOISING_NOISE = 0.5


@dataclasses.dataclass
class AutoencoderDataConfig(ImageArraysConfig):
    """Images in [0, 1], and the noise a denoising autoencoder learns to remove."""

    noise_factor: float | None = param(
        None,
        minimum=0,
        doc="Std of the Gaussian noise added to training inputs (then clipped "
        "to [0, 1]); null: 0.5 for kind denoising, 0 for the others.",
    )


@dataclasses.dataclass
class AutoencoderModelConfig:
    """Which autoencoder, and its sizes."""

    kind: Literal["dense", "linear", "deep", "conv", "sparse", "denoising"] = param(
        "deep", doc="dense | linear | deep | conv | sparse | denoising (conv + noise)"
    )
    code_size: int = param(
        8, minimum=1, doc="Units of the code; PCA gets as many components."
    )
    hidden_units: list[int] = param(
        [128, 64], doc="deep: encoder widths, outermost first (decoder mirrors)."
    )
    filters: list[int] = param(
        [32, 16], doc="conv, denoising: filters of each Conv/MaxPool stage."
    )
    dense_code: bool = param(
        True,
        doc="conv, denoising: a Dense code of code_size units after the "
        "convolutions; false: the pooled feature map is the code.",
    )
    activity_l1: float = param(
        1e-4, minimum=0, doc="sparse: L1 activity penalty on the code."
    )
    loss: Literal["mse", "binary_crossentropy"] = param(
        "mse", doc="Reconstruction loss; linear needs mse."
    )

    def validate(self, key):
        if self.kind == "linear" and self.loss != "mse":
            raise ConfigError(
                f"{key}.kind=linear has an unbounded output, so it needs "
                f"{key}.loss=mse. Received: loss={self.loss}"
            )
        if self.kind == "sparse" and self.activity_l1 <= 0:
            raise ConfigError(
                f"{key}.kind=sparse needs {key}.activity_l1 > 0. "
                f"Received: activity_l1={self.activity_l1}"
            )
        if self.kind == "deep" and not self.hidden_units:
            raise ConfigError(f"{key}.hidden_units is empty; give e.g. [128, 64]")
        if self.kind in ("conv", "denoising") and not self.filters:
            raise ConfigError(f"{key}.filters is empty; give e.g. [32, 16]")


@dataclasses.dataclass
class AutoencoderConfig(RecipeConfig):
    """Config of the `autoencoder` recipe.

    The defaults train for up to 120 epochs on the embedded 8x8 digits with
    a code of 8 units, so PCA keeps 8 of the 64 pixel directions.
    """

    description: ClassVar[str] = (
        "Dense, linear, deep, conv, sparse and denoising autoencoders vs PCA."
    )

    recipe: str = param("autoencoder")
    data: AutoencoderDataConfig = section(AutoencoderDataConfig)
    model: AutoencoderModelConfig = section(AutoencoderModelConfig)
    optimizer: OptimizerConfig = section(
        OptimizerConfig, learning_rate=0.002, schedule={"name": "cosine"}
    )
    train: TrainConfig = section(TrainConfig, epochs=120)
    callbacks: CallbacksConfig = section(
        CallbacksConfig, early_stopping={"patience": 30}
    )

    def validate(self, key):
        super().validate(key)
        if self.model.kind == "denoising" and self.data.noise_factor == 0:
            raise ConfigError(
                "model.kind=denoising needs noise: set data.noise_factor above 0 "
                "(e.g. 0.5) or null"
            )


def noise_factor_of(config):
    """Returns the noise std a config trains with (0 for a plain autoencoder).

    Args:
        config: An `AutoencoderConfig`. No default.

    Returns:
        A float, `data.noise_factor`, or 0.5 for `kind: denoising` and 0
        otherwise when it is null.

    Example:

    ```python
    noise_factor_of(load_config("autoencoder", {"model.kind": "denoising"}))
    ```
    """
    if config.data.noise_factor is not None:
        return float(config.data.noise_factor)
    return DEFAULT_DENOISING_NOISE if config.model.kind == "denoising" else 0.0
