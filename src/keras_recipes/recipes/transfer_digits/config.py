"""The settings of `transfer_digits` and its `glyph_pretraining` part; no TensorFlow."""

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
from keras_recipes.data.sections import AugmentationConfig
from keras_recipes.data.source_checks import check_image_size
from keras_recipes.errors import ConfigError
from keras_recipes.recipes.vgg16_bottleneck.config import Approach

# The classes of `keras_recipes.data.glyphs`: A-Z, then a-z.
GLYPH_LETTERS = 52


@dataclasses.dataclass
class GlyphSourceConfig:
    """The large, diverse source: letters rendered from matplotlib's fonts."""

    samples_per_class: int = param(
        100, minimum=1, doc="Rendered images per letter (52 letters)."
    )
    seed: int = param(0, minimum=0, doc="Seed of the rendering.")


@dataclasses.dataclass
class GlyphDataConfig(GlyphSourceConfig):
    """The rendered letters, at the size the network reads."""

    image_size: list[int] = param([8, 8], doc="Height and width (8: native).")

    def validate(self, key):
        check_image_size(key, self.image_size, smallest=8)


@dataclasses.dataclass
class FewDigitsConfig:
    """The target: a few labelled real digits per class."""

    labels_per_class: int = param(3, minimum=1, doc="Labelled training digits.")
    draws: int = param(
        3, minimum=1, doc="Draws of the labelled digits; accuracies are averaged."
    )
    validation_per_class: int = param(
        5, minimum=1, doc="Digits per class for early stopping (every stage)."
    )
    image_size: list[int] = param(
        [8, 8], doc="Height and width (8: native), of the letters too."
    )
    augmentation: AugmentationConfig = section(
        AugmentationConfig, rotation=0.03, zoom=0.1, translation=0.1
    )

    def validate(self, key):
        check_image_size(key, self.image_size, smallest=8)


@dataclasses.dataclass
class BaseCNNConfig:
    """The network: small-CNN blocks (the base), then the top."""

    filters: list[int] = param([32, 64], doc="Filters per conv block.")
    kernel_size: int = param(3, minimum=1)
    units: int = param(256, minimum=1, doc="Units of the top's hidden layer.")
    dropout: float = param(0.5, minimum=0, below=1)
    cut_layer: str = param("block2_pool", doc="Last layer of the saved base.")


def _optimizer(name, rate, momentum=0.0):
    return lambda: OptimizerConfig(name=name, learning_rate=rate, momentum=momentum)


@dataclasses.dataclass
class StagesConfig:
    """The three runs on the few digits: one budget, their own optimizers."""

    epochs: int = param(150, minimum=1, doc="Epoch budget of every stage.")
    patience: int = param(20, minimum=0, doc="Early stopping on val_loss.")
    batch_size: int = param(16, minimum=1)
    approach: Approach = param(
        "small_similar", doc="The transfer case: which blocks are fine-tuned."
    )
    scratch_optimizer: OptimizerConfig = dataclasses.field(
        default_factory=_optimizer("adam", 1e-3)
    )
    bottleneck_optimizer: OptimizerConfig = dataclasses.field(
        default_factory=_optimizer("adam", 1e-3)
    )
    fine_tune_optimizer: OptimizerConfig = dataclasses.field(
        default_factory=_optimizer("sgd", 1e-3, 0.9)
    )
    verbose: int = param(0, minimum=0, maximum=2, doc="Keras verbosity of stages.")


def check_glyph_split(samples_key, samples_per_class, validation_split):
    """Stops a validation split that would hold out fewer glyphs than letters.

    The split is stratified, so it needs at least one glyph of each letter.

    Args:
        samples_key: The config key of the glyphs per letter, for the message.
        samples_per_class: Rendered glyphs per letter.
        validation_split: `train.validation_split`, the held-out fraction.

    Returns:
        The number of glyphs held out.

    Example:

    ```python
    check_glyph_split("glyphs.samples_per_class", 100, 0.1)  # 520
    ```
    """
    held_out = round(validation_split * GLYPH_LETTERS * samples_per_class)
    if 0 < held_out < GLYPH_LETTERS:
        raise ConfigError(
            f"train.validation_split={validation_split} holds out {held_out} "
            f"glyphs, fewer than the {GLYPH_LETTERS} letters; raise "
            f"{samples_key} or train.validation_split"
        )
    return held_out


@dataclasses.dataclass
class GlyphPretrainingConfig(RecipeConfig):
    """Config of the `glyph_pretraining` recipe, the first part of `transfer_digits`.

    `train.validation_split` of the glyphs is held out for early stopping.
    """

    description: ClassVar[str] = (
        "Small CNN on 52 letters rendered from fonts; saves its conv base."
    )

    recipe: str = param("glyph_pretraining")
    data: GlyphDataConfig = section(GlyphDataConfig)
    model: BaseCNNConfig = section(BaseCNNConfig)
    train: TrainConfig = section(
        TrainConfig, epochs=15, batch_size=64, validation_split=0.1, verbose=2
    )
    callbacks: CallbacksConfig = section(
        CallbacksConfig, early_stopping={"patience": 5}
    )

    def validate(self, key):
        super().validate(key)
        check_glyph_split(
            "data.samples_per_class",
            self.data.samples_per_class,
            self.train.validation_split,
        )


@dataclasses.dataclass
class TransferDigitsConfig(RecipeConfig):
    """Config of the `transfer_digits` recipe.

    `glyphs`, `model`, `optimizer`, `train` and `callbacks` drive the
    pretraining on glyphs (`train.validation_split` of the glyphs is held
    out for it); `data` and `stages` drive the three runs on the digits.
    """

    description: ClassVar[str] = (
        "Letters rendered from fonts -> a few real digits: transfer, offline."
    )

    recipe: str = param("transfer_digits")
    data: FewDigitsConfig = section(FewDigitsConfig)
    model: BaseCNNConfig = section(BaseCNNConfig)
    glyphs: GlyphSourceConfig = section(GlyphSourceConfig)
    stages: StagesConfig = section(StagesConfig)
    train: TrainConfig = section(
        TrainConfig, epochs=15, batch_size=64, validation_split=0.1, verbose=2
    )
    callbacks: CallbacksConfig = section(
        CallbacksConfig, early_stopping={"patience": 5}
    )

    def validate(self, key):
        super().validate(key)
        if self.distribute.strategy in ("multi_worker", "tpu"):
            raise ConfigError(
                f"transfer_digits runs its stage recipes one after another in "
                f"one process, so distribute.strategy can be 'none' or "
                f"'mirrored'. Received: {self.distribute.strategy!r}"
            )
        check_glyph_split(
            "glyphs.samples_per_class",
            self.glyphs.samples_per_class,
            self.train.validation_split,
        )
