"""The `vgg16_fine_tune` settings; importing them starts no TensorFlow."""

import dataclasses
from typing import ClassVar

from keras_recipes.config import OptimizerConfig, param, section
from keras_recipes.data.sections import AugmentationConfig
from keras_recipes.recipes.vgg16_bottleneck.config import (
    TransferDataConfig,
    VGG16BottleneckConfig,
)


@dataclasses.dataclass
class FineTuneDataConfig(TransferDataConfig):
    """The images, and the augmentation used while fine-tuning."""

    augmentation: AugmentationConfig = section(
        AugmentationConfig, flip="horizontal", shear=0.2, zoom=0.2
    )


@dataclasses.dataclass
class FineTuneConfig:
    """Where the top comes from and how much of the base trains."""

    top_run: str | None = param(
        None,
        doc="A vgg16_bottleneck run directory whose trained top (top.keras) to "
        "start from; null: train the top here first, on cached features.",
    )
    train_top_first: bool = param(
        True,
        doc="With no top_run: train the top on bottleneck features first "
        "(false starts from a random top, as a from-scratch baseline does).",
    )
    top_epochs: int = param(50, minimum=1, doc="Epochs of that first top training.")
    top_optimizer: OptimizerConfig = section(OptimizerConfig, name="rmsprop")
    trainable_from: int | str | None = param(
        None,
        doc="First trainable layer of the base: a layer name, a block (block5), "
        "or a count of frozen leading layers (0 trains all); null: the "
        "approach's choice (the last block: block5 for VGG16).",
    )


@dataclasses.dataclass
class VGG16FineTuneConfig(VGG16BottleneckConfig):
    """Config of the `vgg16_fine_tune` recipe.

    The defaults are the Keras blog post's: VGG16's last conv block and the
    top trained together with SGD (1e-4, momentum 0.9) on augmented 150x150
    images of `data/cats_and_dogs` (about 94% on 2,000 cats and dogs).
    """

    description: ClassVar[str] = (
        "Fine-tune the last conv block of VGG16 (or any base) and the top."
    )

    recipe: str = param("vgg16_fine_tune")
    data: FineTuneDataConfig = section(FineTuneDataConfig)
    optimizer: OptimizerConfig = section(
        OptimizerConfig, name="sgd", learning_rate=1e-4, momentum=0.9
    )
    fine_tune: FineTuneConfig = section(FineTuneConfig)
