"""The basics recipes: linear and logistic regression, and two perceptrons."""

from sklearn.linear_model import LinearRegression as LeastSquares

from keras_recipes.data.diabetes import load_diabetes
from keras_recipes.recipes.basics.config import (
    DeepMLPConfig,
    LinearRegressionConfig,
    LogisticRegressionConfig,
    MLPConfig,
)
from keras_recipes.recipes.basics.dense import DenseClassifier, DenseRecipe
from keras_recipes.recipes.basics.evaluation import (
    RegressionEvaluation,
    regression_scores,
)
from keras_recipes.recipes.basics.figures import (
    plot_predictions,
    plot_weight_templates,
)


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
    config_class = LinearRegressionConfig
    quick = {"train.epochs": 5}

    def load_arrays(self):
        """Returns the diabetes table: 10 features, disease progression."""
        return load_diabetes()

    def build_loss(self, data):
        """Returns the mean squared error."""
        return "mean_squared_error"

    def evaluate(self, model, data):
        """Scores the test predictions, and the least-squares fit beside them.

        Args:
            model: The trained model.
            data: What `build_data` returned.

        Returns:
            A `RegressionEvaluation` with the test targets and predictions.
        """
        metrics = super().evaluate(model, data).metrics
        x_test, y_test = data.test_arrays
        predicted = model.predict(x_test, verbose=0)[:, 0]
        y_std = data.scaling["y_std"]
        metrics.update(regression_scores(y_test, predicted, y_std))
        reference = LeastSquares().fit(*data.train_arrays)
        reference_scores = regression_scores(y_test, reference.predict(x_test), y_std)
        metrics["reference_r2"] = reference_scores["test_r2"]
        metrics["reference_rmse"] = reference_scores["test_rmse"]
        return RegressionEvaluation(metrics, targets=y_test, predictions=predicted)

    def figures(self, model, data, history, evaluation):
        """Draws the base figures and the test predictions (`predictions.png`).

        Args:
            model: The trained model.
            data: What `build_data` returned.
            history: Metric name to per-epoch values, over the whole run.
            evaluation: What `evaluate` returned.
        """
        super().figures(model, data, history, evaluation)
        mean, std = data.scaling["y_mean"], data.scaling["y_std"]
        plot_predictions(
            evaluation.targets * std + mean,
            evaluation.predictions * std + mean,
            evaluation.metrics["test_r2"],
            self.figure_path("predictions.png"),
        )


class LogisticRegression(DenseClassifier):
    """Softmax (multinomial logistic) regression on the 8x8 digit pixels.

    Draws each class's weights as an 8x8 template (`weights.png`): the
    pixels that vote for and against the class.

    Example:

    ```python
    result = keras_recipes.run("logistic_regression", {"model.l2": 1e-3})
    ```
    """

    name = "logistic_regression"
    config_class = LogisticRegressionConfig
    quick = {"train.epochs": 2}

    def figures(self, model, data, history, evaluation):
        """Draws the base figures and the weight templates (`weights.png`).

        Args:
            model: The trained model.
            data: What `build_data` returned.
            history: Metric name to per-epoch values, over the whole run.
            evaluation: What `evaluate` returned.
        """
        super().figures(model, data, history, evaluation)
        kernel = model.get_layer("output").get_weights()[0]
        plot_weight_templates(kernel, data.class_names, self.figure_path("weights.png"))


class MLP(DenseClassifier):
    """A one-hidden-layer perceptron on the 8x8 digit pixels.

    Example:

    ```python
    result = keras_recipes.run("mlp", {"model.hidden_units": [256]})
    ```
    """

    name = "mlp"
    config_class = MLPConfig
    quick = {"train.epochs": 2, "model.hidden_units": [16]}


class DeepMLP(DenseClassifier):
    """A five-hidden-layer perceptron on the digits, He-initialised, with dropout.

    Example:

    ```python
    overrides = {"model.kernel_initializer": "uniform_fan_in"}
    result = keras_recipes.run("deep_mlp", overrides)
    ```
    """

    name = "deep_mlp"
    config_class = DeepMLPConfig
    quick = {"train.epochs": 2, "model.hidden_units": [16, 16]}
