"""The basics: linear regression, logistic regression and MLPs on real tabular data.

`linear_regression` fits scikit-learn's diabetes data; `logistic_regression`,
`mlp` and `deep_mlp` classify the 8x8 digits as 64 pixel features. Each
exposes the initialisation (`model.kernel_initializer`), regularisation
(`model.l1`, `model.l2`, `model.dropout`) and optimizer settings
(`optimizer.name`, `momentum`, `nesterov`, `learning_rate`, `schedule`).

Run one with `python -m keras_recipes run mlp --set model.dropout=0.5`.
"""

import dataclasses
import sys
from typing import Literal

import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from sklearn.linear_model import LinearRegression as LeastSquares

from keras_recipes.config import RecipeConfig, param, section
from keras_recipes.data.diabetes import load_diabetes
from keras_recipes.data.digits import load_digits
from keras_recipes.data.folds import holdout_split
from keras_recipes.errors import ConfigError
from keras_recipes.models.dense import INITIALIZERS, dense_network
from keras_recipes.monitors import (
    DEAD_RELU_FILE,
    attach_probe,
    plot_dead_relu,
    read_dead_relu,
)
from keras_recipes.recipes.classification import (
    confusion_counts,
    plot_split_confusion,
)
from keras_recipes.registry import register
from keras_recipes.training import Datasets, Recipe, write_json_atomic


@dataclasses.dataclass
class TabularDataConfig:
    """How the features are prepared."""

    standardize: bool = param(
        True, doc="Zero mean, unit variance per feature (training statistics)."
    )
    train_examples: int | None = param(
        None, minimum=2, doc="Keep only this many training examples (over-fitting)."
    )


@dataclasses.dataclass
class LinearModelConfig:
    """A model without hidden layers."""

    kernel_initializer: Literal[
        "he_normal", "glorot_uniform", "truncated_normal", "uniform_fan_in"
    ] = param("glorot_uniform", doc=" | ".join(INITIALIZERS))
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
class LinearRegressionConfig(RecipeConfig):
    """Config of the `linear_regression` recipe."""

    recipe: str = param("linear_regression")
    data: TabularDataConfig = section(TabularDataConfig)
    model: LinearModelConfig = section(LinearModelConfig)


@dataclasses.dataclass
class LogisticRegressionConfig(RecipeConfig):
    """Config of the `logistic_regression` recipe."""

    recipe: str = param("logistic_regression")
    data: TabularDataConfig = section(TabularDataConfig)
    model: LinearModelConfig = section(LinearModelConfig)


@dataclasses.dataclass
class MLPConfig(RecipeConfig):
    """Config of the `mlp` recipe."""

    recipe: str = param("mlp")
    data: TabularDataConfig = section(TabularDataConfig)
    model: MLPModelConfig = section(MLPModelConfig)


@dataclasses.dataclass
class DeepMLPModelConfig(MLPModelConfig):
    """A deep multilayer perceptron."""

    hidden_units: list[int] = param([256, 256, 128, 128, 64])
    kernel_initializer: Literal[
        "he_normal", "glorot_uniform", "truncated_normal", "uniform_fan_in"
    ] = param("he_normal", doc=" | ".join(INITIALIZERS))


@dataclasses.dataclass
class DeepMLPConfig(RecipeConfig):
    """Config of the `deep_mlp` recipe."""

    recipe: str = param("deep_mlp")
    data: TabularDataConfig = section(TabularDataConfig)
    model: DeepMLPModelConfig = section(DeepMLPModelConfig)


class DenseRecipe(Recipe):
    """A fully connected network on an embedded table; subclasses pick which.

    Features are standardised with the training part's statistics (and the
    regression target too, so that one learning rate suits every
    optimizer); the validation split honours cross-validation folds.
    """

    task = "classification"

    def load_arrays(self):
        """Returns `((x_train, y_train), (x_test, y_test), class_names)`."""
        (x_train, y_train), (x_test, y_test), class_names = load_digits()
        flat = (x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1))
        return (flat[0] / 255.0, y_train), (flat[1] / 255.0, y_test), class_names

    def build_data(self):
        (x_train, y_train), (x_test, y_test), class_names = self.load_arrays()
        classify = self.task == "classification"
        (x_fit, y_fit), (x_val, y_val) = holdout_split(
            x_train,
            y_train,
            self.config.train.validation_split,
            self.config.seed,
            stratify=classify,
        )
        limit = self.config.data.train_examples
        if limit is not None:
            x_fit, y_fit = x_fit[:limit], y_fit[:limit]
        # Statistics of the whole training part (before the validation split)
        # do not depend on the seed or fold, so every run of a config scales
        # the test set alike and their predictions can be averaged.
        scaling = _scaling(x_train, y_train, self.config.data.standardize, classify)
        arrays = {
            "train": _scaled(x_fit, y_fit, scaling),
            "validation": _scaled(x_val, y_val, scaling),
            "test": _scaled(x_test, y_test, scaling),
        }
        batch_size = self.config.train.batch_size
        train = tf.data.Dataset.from_tensor_slices(arrays["train"]).shuffle(
            min(len(x_fit), self.config.train.shuffle_buffer), seed=self.config.seed
        )
        batched = {
            name: None
            if pair is None
            else tf.data.Dataset.from_tensor_slices(pair).batch(batch_size)
            for name, pair in arrays.items()
            if name != "train"
        }
        return Datasets(
            train=train.batch(batch_size).prefetch(tf.data.AUTOTUNE),
            validation=batched["validation"],
            test=batched["test"],
            steps_per_epoch=self.config.train.steps_per_epoch
            or -(-len(x_fit) // batch_size),
            input_shape=(x_fit.shape[1],),
            class_names=class_names,
            info={"train_size": len(x_fit), "arrays": arrays, "scaling": scaling},
        )

    def model_options(self):
        """Returns the `dense_network` arguments the config asks for."""
        model_config = self.config.model
        options = {
            "kernel_initializer": model_config.kernel_initializer,
            "l1": model_config.l1,
            "l2": model_config.l2,
            "seed": self.config.seed,
            "name": self.name,
        }
        if isinstance(model_config, MLPModelConfig):
            options.update(
                hidden_units=tuple(model_config.hidden_units),
                activation=model_config.activation,
                dropout=model_config.dropout,
            )
        return options

    def build_model(self, data):
        outputs = 1 if self.task == "regression" else len(data.class_names)
        activation = None if self.task == "regression" else "softmax"
        try:
            return dense_network(
                data.input_shape[0],
                outputs,
                output_activation=activation,
                **self.model_options(),
            )
        except ValueError as error:
            raise ConfigError(f"model: {error}") from None

    def build_loss(self):
        if self.task == "regression":
            return "mean_squared_error"
        return "sparse_categorical_crossentropy"

    def build_metrics(self):
        return [] if self.task == "regression" else ["accuracy"]

    def build_callbacks(self):
        callbacks = super().build_callbacks()
        attach_probe(callbacks, self.data.info["arrays"]["train"][0])
        return callbacks

    def evaluate(self, model, data):
        metrics = super().evaluate(model, data)
        x_test, y_test = data.info["arrays"]["test"]
        predicted = model.predict(x_test, verbose=0)
        if self.task == "classification":
            self.confusion = confusion_counts(y_test, predicted, len(data.class_names))
        metrics["parameters"] = model.count_params()
        metrics["train_examples"] = data.info["train_size"]
        return metrics

    def export(self, model, data):
        super().export(model, data)
        scaling = {k: np.asarray(v).tolist() for k, v in data.info["scaling"].items()}
        write_json_atomic(self.run_dir / "scaling.json", scaling)

    def figures(self, model, data, history):
        super().figures(model, data, history)
        dead = read_dead_relu(self.run_dir / DEAD_RELU_FILE)
        if dead:
            plot_dead_relu(dead, self.figure_path("dead_relu.png"))
        plot_split_confusion(self, data)


@register
class LinearRegression(DenseRecipe):
    """Linear regression by gradient descent on scikit-learn's diabetes data.

    Reports the test R^2, RMSE and MAE in the target's units, next to the
    exact least-squares solution's R^2 (`reference_r2`) on the same split:
    gradient descent should reach it.

    Example:

    ```python
    result = keras_recipes.run("linear_regression", {"optimizer.name": "sgd"})
    print(result.metrics["test_r2"], result.metrics["reference_r2"])
    ```
    """

    name = "linear_regression"
    description = "Linear regression on the diabetes data, against least squares."
    config_class = LinearRegressionConfig
    quick = {"train.epochs": 5}
    task = "regression"

    def load_arrays(self):
        (x_train, y_train), (x_test, y_test), names = load_diabetes()
        return (x_train, y_train), (x_test, y_test), names

    def evaluate(self, model, data):
        metrics = super().evaluate(model, data)
        arrays, scaling = data.info["arrays"], data.info["scaling"]
        x_test, y_test = arrays["test"]
        predicted = model.predict(x_test, verbose=0)[:, 0]
        metrics.update(_regression_scores(y_test, predicted, scaling["y_std"]))
        reference = LeastSquares().fit(*arrays["train"])
        reference_scores = _regression_scores(
            y_test, reference.predict(x_test), scaling["y_std"]
        )
        metrics["reference_r2"] = reference_scores["test_r2"]
        metrics["reference_rmse"] = reference_scores["test_rmse"]
        self.test_points = (y_test, predicted, scaling)
        return metrics

    def figures(self, model, data, history):
        super().figures(model, data, history)
        y_test, predicted, scaling = self.test_points
        truth = y_test * scaling["y_std"] + scaling["y_mean"]
        guess = predicted * scaling["y_std"] + scaling["y_mean"]
        figure, axis = plt.subplots(figsize=(4.5, 4.5))
        axis.scatter(truth, guess, s=12, alpha=0.7)
        low, high = float(min(truth.min(), guess.min())), float(truth.max())
        axis.plot([low, high], [low, high], color="gray", linestyle="--")
        r2 = _regression_scores(y_test, predicted, 1.0)["test_r2"]
        axis.set_title(f"test set: R^2 = {r2:.3f}")
        axis.set_xlabel("true disease progression")
        axis.set_ylabel("predicted")
        figure.tight_layout()
        figure.savefig(self.figure_path("predictions.png"), dpi=110)
        plt.close(figure)


@register
class LogisticRegression(DenseRecipe):
    """Softmax (multinomial logistic) regression on the 8x8 digit pixels.

    Draws each class's weights as an 8x8 template (`weights.png`): the
    pixels that vote for and against the class.

    Example:

    ```python
    result = keras_recipes.run("logistic_regression", {"model.l2": 1e-3})
    ```
    """

    name = "logistic_regression"
    description = "Softmax regression on the digits' 64 pixels; weight templates."
    config_class = LogisticRegressionConfig
    quick = {"train.epochs": 2}

    def figures(self, model, data, history):
        super().figures(model, data, history)
        kernel = model.get_layer("output").get_weights()[0]
        limit = float(np.abs(kernel).max())
        figure, axes = plt.subplots(1, kernel.shape[1], figsize=(1.3 * 10, 1.8))
        for index, axis in enumerate(np.atleast_1d(axes)):
            axis.imshow(
                kernel[:, index].reshape(8, 8), cmap="RdBu_r", vmin=-limit, vmax=limit
            )
            axis.set_title(data.class_names[index])
            axis.set_xticks([])
            axis.set_yticks([])
        figure.suptitle("weights per class (red: evidence for, blue: against)")
        figure.tight_layout()
        figure.savefig(self.figure_path("weights.png"), dpi=110)
        plt.close(figure)


@register
class MLP(DenseRecipe):
    """A one-hidden-layer perceptron on the 8x8 digit pixels.

    Example:

    ```python
    result = keras_recipes.run("mlp", {"model.hidden_units": [256]})
    ```
    """

    name = "mlp"
    description = "Multilayer perceptron on the digits' 64 pixels."
    config_class = MLPConfig
    quick = {"train.epochs": 2, "model.hidden_units": [16]}


@register
class DeepMLP(DenseRecipe):
    """A five-hidden-layer perceptron on the digits, He-initialised, with dropout.

    Example:

    ```python
    overrides = {"model.kernel_initializer": "uniform_fan_in"}
    result = keras_recipes.run("deep_mlp", overrides)
    ```
    """

    name = "deep_mlp"
    description = "Deep MLP on the digits: initialisers, dropout, learning-rate decay."
    config_class = DeepMLPConfig
    quick = {"train.epochs": 2, "model.hidden_units": [16, 16]}


def _scaling(x, y, standardize, classify):
    """Returns the statistics that standardise features (and a numeric target)."""
    scaling = {"x_mean": 0.0, "x_std": 1.0, "y_mean": 0.0, "y_std": 1.0}
    if standardize:
        std = x.std(axis=0)
        scaling["x_mean"] = x.mean(axis=0)
        scaling["x_std"] = np.where(std > 1e-8, std, 1.0)  # constant pixels
    if not classify:
        scaling["y_mean"], scaling["y_std"] = float(y.mean()), float(y.std())
    return scaling


def _scaled(x, y, scaling):
    if x is None:
        return None
    x = ((x - scaling["x_mean"]) / scaling["x_std"]).astype("float32")
    if np.issubdtype(y.dtype, np.floating):
        y = ((y - scaling["y_mean"]) / scaling["y_std"]).astype("float32")
    return x, y


def _regression_scores(y_true, y_pred, scale):
    residual = np.asarray(y_true, "float64") - np.asarray(y_pred, "float64")
    total = np.sum((y_true - np.mean(y_true)) ** 2)
    return {
        "test_r2": float(1.0 - np.sum(residual**2) / total),
        "test_rmse": float(np.sqrt(np.mean(residual**2)) * scale),
        "test_mae": float(np.mean(np.abs(residual)) * scale),
    }


if __name__ == "__main__":
    # python -m keras_recipes.recipes.basics [linear_regression | ... ] [--set ...]
    from keras_recipes.cli import main

    names = {LinearRegression.name, LogisticRegression.name, MLP.name, DeepMLP.name}
    arguments = sys.argv[1:]
    name = arguments.pop(0) if arguments and arguments[0] in names else MLP.name
    sys.exit(main(["run", name, *arguments]))
