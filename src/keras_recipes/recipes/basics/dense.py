"""The bases of the basics recipes: a dense network on a table, and its classifier."""

import json

import keras
import numpy as np

from keras_recipes.callbacks import AtomicBackupAndRestore
from keras_recipes.errors import ConfigError, UserError
from keras_recipes.exporting import standardized_model
from keras_recipes.models.dense import dense_network
from keras_recipes.monitors import (
    DEAD_RELU_FILE,
    DeadReLUMonitor,
    plot_dead_relu,
    read_dead_relu,
)
from keras_recipes.recipes.basics.config import MLPModelConfig
from keras_recipes.recipes.basics.data import digit_pixels, tabular_data
from keras_recipes.recipes.classification import ClassifierRecipe
from keras_recipes.saving import write_json_atomic
from keras_recipes.training import Recipe


class DenseRecipe(Recipe):
    """A fully connected network on a table; subclasses pick the table and task.

    `build_data` standardises the features with the training part's
    statistics (and a regression target too, so that one learning rate
    suits every optimizer) and returns `TabularData`; its validation split
    honours cross-validation folds. `callbacks.dead_relu` adds a
    `DeadReLUMonitor` probing the training examples, and `scaling.json`
    keeps the statistics beside the model.

    Subclasses set `classify` and implement `load_arrays`.

    Example:

    ```python
    class HousingRegression(DenseRecipe):
        name = "housing_regression"
        config_class = LinearRegressionConfig

        def load_arrays(self):
            return (x_train, y_train), (x_test, y_test), feature_names
    ```
    """

    # Whether the targets are classes (softmax outputs) or numbers.
    classify = False

    def load_arrays(self):
        """Returns the raw table to learn from.

        Returns:
            `((x_train, y_train), (x_test, y_test), names)`, features in rows.
        """
        raise NotImplementedError(f"{type(self).__name__} must define load_arrays")

    def build_data(self):
        """Returns the standardised, batched table as `TabularData`.

        Returns:
            The `TabularData`.
        """
        return tabular_data(self.load_arrays(), self.config, self.classify)

    def model_options(self):
        """Returns the `dense_network` arguments the config asks for.

        Returns:
            A `dict` of keyword arguments.
        """
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
        """Returns the dense network: softmax outputs per class, or one number.

        Args:
            data: What `build_data` returned.

        Returns:
            The uncompiled `keras.Model`.
        """
        outputs = len(data.class_names) if self.classify else 1
        try:
            return dense_network(
                data.input_shape[0],
                outputs,
                output_activation="softmax" if self.classify else None,
                **self.model_options(),
            )
        except ValueError as error:
            raise ConfigError(f"model: {error}") from None

    def build_callbacks(self, data, history=None):
        """Returns the shared callbacks, and the dead ReLU monitor if it is on.

        The monitor probes the first `callbacks.dead_relu.samples` training
        examples after every epoch and writes `dead_relu.csv`, which
        `diagnose` reads, and `logs/dead_relu` for TensorBoard.

        Args:
            data: What `build_data` returned.
            history: On resume, the finished epochs' history, else `None`.

        Returns:
            A list of `keras.callbacks.Callback`.
        """
        callbacks = super().build_callbacks(data, history)
        settings = self.config.callbacks.dead_relu
        if settings.enabled:
            monitor = DeadReLUMonitor(
                data.train_arrays[0],
                log_dir=self.run_dir / "logs" / "dead_relu",
                path=self.run_dir / DEAD_RELU_FILE,
                samples=settings.samples,
                append=bool(history),
            )
            # Before the history file and the backup, which come last.
            last = (keras.callbacks.CSVLogger, AtomicBackupAndRestore)
            position = next(
                (i for i, c in enumerate(callbacks) if isinstance(c, last)),
                len(callbacks),
            )
            callbacks.insert(position, monitor)
        return callbacks

    def evaluate(self, model, data):
        """Adds the parameter and training-example counts to the evaluation.

        Args:
            model: The trained model.
            data: What `build_data` returned.

        Returns:
            The evaluation of the base class, its metrics completed.
        """
        evaluation = super().evaluate(model, data)
        evaluation.metrics["parameters"] = model.count_params()
        evaluation.metrics["train_examples"] = data.train_size
        return evaluation

    def export(self, model, data, evaluation):
        """Saves the model, and the scaling statistics as `scaling.json`.

        Args:
            model: The trained model.
            data: What `build_data` returned.
            evaluation: What `evaluate` returned.
        """
        super().export(model, data, evaluation)
        scaling = {k: np.asarray(v).tolist() for k, v in data.scaling.items()}
        write_json_atomic(self.run_dir / "scaling.json", scaling)

    def scaling(self, data):
        """Returns the statistics the features were scaled with.

        Args:
            data: What `build_data` returned, or `None` to read the run's
                `scaling.json`.

        Returns:
            A dict of `x_mean`, `x_std`, `y_mean`, `y_std` (NumPy arrays or
            floats).
        """
        if data is not None:
            return data.scaling
        path = self.run_dir / "scaling.json"
        if not path.is_file():
            raise UserError(f"{self.run_dir} has no scaling.json; was it finished?")
        return {k: np.asarray(v) for k, v in json.loads(path.read_text()).items()}

    def serving_model(self, model, data):
        """Returns the network for raw rows: standardised inside, in target units.

        A row of raw features goes in; a regression's output comes back in
        the target's units (`y * y_std + y_mean`).

        Args:
            model: The trained network.
            data: What `build_data` returned, or `None` to read the run's
                `scaling.json`.

        Returns:
            The serving `keras.Model`.
        """
        scaling = self.scaling(data)
        target = {}
        if not self.classify:
            target = {
                "target_mean": float(scaling["y_mean"]),
                "target_std": float(scaling["y_std"]),
            }
        return standardized_model(
            model,
            scaling["x_mean"],
            scaling["x_std"],
            name=f"{self.name}_serving",
            **target,
        )

    def figures(self, model, data, history, evaluation):
        """Draws the base figures, and the dead ReLU units per epoch if logged.

        Args:
            model: The trained model.
            data: What `build_data` returned.
            history: Metric name to per-epoch values, over the whole run.
            evaluation: What `evaluate` returned.
        """
        super().figures(model, data, history, evaluation)
        dead = read_dead_relu(self.run_dir / DEAD_RELU_FILE)
        if dead:
            plot_dead_relu(dead, self.figure_path("dead_relu.png"))


class DenseClassifier(DenseRecipe, ClassifierRecipe):
    """A dense network classifying the 8x8 digits from their 64 pixels.

    `ClassifierRecipe` supplies the loss, the accuracy, the evaluation with
    its confusion counts, `classes.json` and the confusion figure.

    Example:

    ```python
    class WideMLP(DenseClassifier):
        name = "wide_mlp"
        config_class = MLPConfig
    ```
    """

    classify = True

    def load_arrays(self):
        """Returns the digits as rows of 64 pixels in [0, 1]."""
        return digit_pixels()

    def serving_model(self, model, data):
        """Returns the classifier for 8x8 digit images with pixels in [0, 255].

        The image is flattened, divided by 255 and standardised inside, as
        `build_data` prepared the pixels; out come the class probabilities.

        Args:
            model: The trained network.
            data: What `build_data` returned, or `None` to read the run's
                `scaling.json`.

        Returns:
            The serving `keras.Model`.
        """
        scaling = self.scaling(data)
        return standardized_model(
            model,
            255.0 * np.asarray(scaling["x_mean"]),
            255.0 * np.asarray(scaling["x_std"]),
            input_shape=(8, 8, 1),
            name=f"{self.name}_serving",
        )

    def predict(self, model, paths):
        """Refuses image files: the model reads standardised pixel rows.

        Args:
            model: The run's model.
            paths: Image file paths.
        """
        raise UserError(
            f"recipe '{self.name}' does not support predict: its model reads "
            f"rows of 64 standardised pixels (see scaling.json), not image files"
        )
