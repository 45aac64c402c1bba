"""The settings of the `vae` recipe; importing them starts no TensorFlow."""

import dataclasses
from typing import ClassVar

from keras_recipes.config import (
    CallbacksConfig,
    OptimizerConfig,
    RecipeConfig,
    TrainConfig,
    param,
    section,
)
from keras_recipes.data.sections import ImageArraysConfig


@dataclasses.dataclass
class VAEModelConfig:
    """Sizes of the encoder and decoder, and the weight of the KL term."""

    latent_dim: int = param(
        2, minimum=1, doc="Latent size; 2 adds the scatter and manifold figures."
    )
    hidden_units: list[int] = param(
        [128, 64], doc="Encoder's Dense widths, outermost first (decoder mirrors)."
    )
    conv_filters: list[int] = param(
        [], doc="Filters of stride-2 convolutions before the Dense layers."
    )
    beta: float = param(1.0, minimum=0, doc="Weight of the KL term in the loss.")


@dataclasses.dataclass
class VAEConfig(RecipeConfig):
    """Config of the `vae` recipe.

    The defaults train for up to 120 epochs on the embedded 8x8 digits with
    a 2-D latent space, which the latent scatter and manifold figures draw.
    """

    description: ClassVar[str] = (
        "Variational autoencoder: negative ELBO, latent plots, samples."
    )

    recipe: str = param("vae")
    data: ImageArraysConfig = section(ImageArraysConfig)
    model: VAEModelConfig = section(VAEModelConfig)
    optimizer: OptimizerConfig = section(
        OptimizerConfig, learning_rate=0.002, schedule={"name": "cosine"}
    )
    train: TrainConfig = section(TrainConfig, epochs=120)
    callbacks: CallbacksConfig = section(
        CallbacksConfig, early_stopping={"patience": 30}
    )
