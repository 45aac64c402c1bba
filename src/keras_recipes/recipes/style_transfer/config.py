"""The settings of the `style_transfer` recipe; importing them starts no
TensorFlow."""

import dataclasses
from typing import ClassVar, Literal

from keras_recipes.config import OptimizerConfig, RecipeConfig, param, section
from keras_recipes.errors import ConfigError


@dataclasses.dataclass
class StyleDataConfig:
    """The content and style images and the output size."""

    content: str = param("chelsea", doc="Image file, or embedded photo name.")
    style: str = param("immunohistochemistry", doc="Image file, or photo name.")
    height: int = param(256, minimum=8, doc="Output height in pixels.")
    width: int | None = param(
        None, minimum=8, doc="Output width; null keeps the content's aspect ratio."
    )


@dataclasses.dataclass
class StyleModelConfig:
    """The VGG feature extractor and the weights of the cost's terms."""

    backbone: Literal["VGG16", "VGG19"] = param("VGG19")
    weights: str | None = param(
        "imagenet", doc="imagenet | null (random: for tests) | a weights file."
    )
    content_layers: list[str] = param(["block5_conv2"])
    style_layers: list[str] = param([f"block{i}_conv1" for i in range(1, 6)])
    style_layer_weights: list[float] | None = param(
        None, doc="lambda per style layer; null: equal, summing to 1."
    )
    content_weight: float = param(
        5e-8, minimum=0, doc="alpha (the content loss is 1/2 sum of squares)."
    )
    style_weight: float = param(
        1e-6, minimum=0, doc="beta, shared by the style layers (lambda_l)."
    )
    variation_weight: float = param(1e-6, minimum=0, doc="Total variation.")

    def validate(self, key):
        if not self.content_layers or not self.style_layers:
            raise ConfigError(
                f"{key}.content_layers and {key}.style_layers must each name "
                f"at least one layer, e.g. [block5_conv2]"
            )
        weights = self.style_layer_weights
        if weights is not None and len(weights) != len(self.style_layers):
            raise ConfigError(
                f"{key}.style_layer_weights has {len(weights)} weights for "
                f"{len(self.style_layers)} style layers; give one per layer "
                f"or null for equal weights"
            )


@dataclasses.dataclass
class StyleTrainConfig:
    """How the image is optimised."""

    steps: int = param(1000, minimum=1, doc="Optimisation steps.")
    save_every: int = param(100, minimum=1, doc="Steps between saved images.")
    init: Literal["content", "noise", "mix"] = param(
        "content", doc="Start from the content image, noise, or a mix."
    )
    noise_ratio: float = param(0.6, minimum=0, maximum=1, doc="mix: noise share.")
    clip: bool = param(True, doc="Keep pixels in [0, 255] after each step.")
    jit_compile: bool = param(
        False,
        doc="Compile the step with XLA: measured faster than a plain "
        "tf.function on a quiet CPU at 256x256, slower on a busy one.",
    )
    mixed_precision: Literal["auto", "float32", "mixed_float16", "mixed_bfloat16"] = (
        param(
            "auto",
            doc="Dtype policy of the feature extractor; costs stay in float32.",
        )
    )
    verbose: Literal[0, 1, 2] = param(1, doc="Progress bar: 0 none, 2 at the end.")


@dataclasses.dataclass
class NoSettings:
    """This recipe has no settings in this section."""


@dataclasses.dataclass
class StyleTransferConfig(RecipeConfig):
    """Config of the `style_transfer` recipe.

    The defaults follow the Keras example: VGG19 with ImageNet weights,
    SGD with a learning rate of 100 (pixels are in [0, 255]) decaying by
    0.96 every 100 steps. The optimizer's schedule counts steps where other
    recipes count epochs.
    """

    description: ClassVar[str] = (
        "Neural style transfer: VGG features, Gram matrices, image descent."
    )

    recipe: str = param("style_transfer")
    data: StyleDataConfig = section(StyleDataConfig)
    model: StyleModelConfig = section(StyleModelConfig)
    optimizer: OptimizerConfig = section(
        OptimizerConfig,
        name="sgd",
        learning_rate=100.0,
        schedule={"name": "exponential", "decay_epochs": 100, "decay_rate": 0.96},
    )
    train: StyleTrainConfig = section(StyleTrainConfig)
    callbacks: NoSettings = section(NoSettings)
    export: NoSettings = section(NoSettings)
    # One image is optimised at a time: there is nothing to distribute.
    distribute: NoSettings = section(NoSettings)

    def validate(self, key):
        pass
