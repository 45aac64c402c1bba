"""The settings of the basics recipes; no TensorFlow is imported."""

import dataclasses
import typing
from typing import ClassVar, Literal

from keras_recipes.config import (
    CallbacksConfig,
    OptimizerConfig,
    RecipeConfig,
    TrainConfig,
    param,
    section,
)
from keras_recipes.errors import ConfigError

# The initialisers of `keras_recipes.models.dense.INITIALIZERS`.
Initializer = Literal[
    "he_normal", "glorot_uniform", "truncated_normal", "uniform_fan_in"
]


@dataclasses.dataclass
class TabularDataConfig:
    """How the features are prepared."""

    standardize: bool = param(
        True, doc="Zero mean, unit variance per feature (training statistics)."
    )
    train_examples: int | None = param(
        None, minimum=2, doc="Keep only this many training examples (over-fitting)."
    )
    shuffle_buffer: int = param(
        10000, minimum=1, doc="tf.data shuffle buffer of the training examples."
    )


@dataclasses.dataclass
class LinearModelConfig:
    """A model without hidden layers."""

    kernel_initializer: Initializer = param(
        "glorot_uniform", doc=" | ".join(typing.get_args(Initializer))
    )
    l1: float = param(0.0, minimum=0, doc="L1 penalty on the weights.")
    l2: float = param(0.0, minimum=0, doc="L2 penalty on the weights.")


@dataclasses.dataclass
class MLPModelConfig(LinearModelConfig):
    """A multilayer perceptron."""

    hidden_units: list[int] = param([128], doc="Units of each hidden layer.")
    activation: Literal["relu", "tanh", "sigmoid", "elu"] = param("relu")
    dropout: float = param(0.0, minimum=0, below=1, doc="After each hidden layer.")

    def validate(self, key):
        if not self.hidden_units or min(self.hidden_units) < 1:
            raise ConfigError(
                f"{key}.hidden_units must list positive sizes, e.g. [128]. "
                f"Received: {self.hidden_units}"
            )


@dataclasses.dataclass
class DeadReLUConfig:
    """The monitor of ReLU units that never fire on the training examples."""

    enabled: bool = param(False, doc="Log dead ReLU units per layer (dead_relu.csv).")
    samples: int = param(512, minimum=1, doc="Training examples probed.")


@dataclasses.dataclass
class BasicsCallbacksConfig(CallbacksConfig):
    """Keras callbacks, and the dead ReLU monitor of the dense networks."""

    dead_relu: DeadReLUConfig = section(DeadReLUConfig)


@dataclasses.dataclass
class LinearRegressionConfig(RecipeConfig):
    """Config of the `linear_regression` recipe.

    Mini-batch SGD with Nesterov momentum on the diabetes data.
    """

    description: ClassVar[str] = (
        "Linear regression on the diabetes data, against least squares."
    )

    recipe: str = param("linear_regression")
    data: TabularDataConfig = section(TabularDataConfig)
    model: LinearModelConfig = section(LinearModelConfig)
    optimizer: OptimizerConfig = section(
        OptimizerConfig, name="sgd", learning_rate=0.01, momentum=0.9, nesterov=True
    )
    train: TrainConfig = section(
        TrainConfig, epochs=200, batch_size=32, validation_split=0.2
    )
    callbacks: BasicsCallbacksConfig = section(
        BasicsCallbacksConfig, early_stopping={"patience": 20}
    )


@dataclasses.dataclass
class LogisticRegressionConfig(RecipeConfig):
    """Config of the `logistic_regression` recipe: Adagrad, a little L2."""

    description: ClassVar[str] = (
        "Softmax regression on the digits' 64 pixels; weight templates."
    )

    recipe: str = param("logistic_regression")
    data: TabularDataConfig = section(TabularDataConfig)
    model: LinearModelConfig = section(LinearModelConfig, l2=0.001)
    optimizer: OptimizerConfig = section(
        OptimizerConfig, name="adagrad", learning_rate=0.1
    )
    train: TrainConfig = section(
        TrainConfig, epochs=100, batch_size=32, validation_split=0.15
    )
    callbacks: BasicsCallbacksConfig = section(
        BasicsCallbacksConfig, early_stopping={"patience": 10}
    )


@dataclasses.dataclass
class MLPConfig(RecipeConfig):
    """Config of the `mlp` recipe: 128 ReLU units, He-initialised, dropout."""

    description: ClassVar[str] = "Multilayer perceptron on the digits' 64 pixels."

    recipe: str = param("mlp")
    data: TabularDataConfig = section(TabularDataConfig)
    model: MLPModelConfig = section(
        MLPModelConfig, kernel_initializer="he_normal", dropout=0.3
    )
    optimizer: OptimizerConfig = section(
        OptimizerConfig, name="adam", learning_rate=0.001
    )
    train: TrainConfig = section(
        TrainConfig, epochs=100, batch_size=32, validation_split=0.15
    )
    callbacks: BasicsCallbacksConfig = section(
        BasicsCallbacksConfig, early_stopping={"patience": 10}
    )


@dataclasses.dataclass
class DeepMLPConfig(RecipeConfig):
    """Config of the `deep_mlp` recipe.

    Five hidden ReLU layers: He initialisation, dropout, L2, SGD with
    Nesterov momentum and a learning rate shrinking 5% every epoch; the dead
    ReLU monitor is on.
    """

    description: ClassVar[str] = (
        "Deep MLP on the digits: initialisers, dropout, learning-rate decay."
    )

    recipe: str = param("deep_mlp")
    data: TabularDataConfig = section(TabularDataConfig)
    model: MLPModelConfig = section(
        MLPModelConfig,
        hidden_units=[256, 256, 128, 128, 64],
        kernel_initializer="he_normal",
        dropout=0.3,
        l2=0.0001,
    )
    optimizer: OptimizerConfig = section(
        OptimizerConfig,
        name="sgd",
        learning_rate=0.02,
        momentum=0.9,
        nesterov=True,
        schedule={"name": "exponential", "decay_epochs": 1, "decay_rate": 0.95},
    )
    train: TrainConfig = section(
        TrainConfig, epochs=80, batch_size=32, validation_split=0.15
    )
    callbacks: BasicsCallbacksConfig = section(
        BasicsCallbacksConfig,
        early_stopping={"patience": 15},
        dead_relu={"enabled": True},
    )
