"""What a regression's evaluation measures: R^2, RMSE and MAE, and the points."""

import dataclasses

import numpy as np

from keras_recipes.training import Evaluation


@dataclasses.dataclass
class RegressionEvaluation(Evaluation):
    """What `LinearRegression.evaluate` measured.

    Attributes:
        metrics: Metric name to value, written to `metrics.json`.
        targets: The test targets, standardised (`TabularData.scaling`
            holds the statistics that undo it), shape `[N]`.
        predictions: The model's predictions of them, in the same units.

    Example:

    ```python
    evaluation = recipe.evaluate(model, data)
    evaluation.metrics["test_r2"], evaluation.predictions[:5]
    ```
    """

    targets: np.ndarray | None = None
    predictions: np.ndarray | None = None


def regression_scores(y_true, y_pred, scale):
    """Returns the test R^2, and the RMSE and MAE in the target's units.

    Args:
        y_true: True targets, standardised.
        y_pred: Predictions, standardised alike.
        scale: The target's standard deviation, which turns a standardised
            error back into the target's units.

    Returns:
        A `dict` with `test_r2`, `test_rmse` and `test_mae`.

    Example:

    ```python
    regression_scores(np.array([0.0, 1.0]), np.array([0.1, 0.8]), scale=50.0)
    ```
    """
    residual = np.asarray(y_true, "float64") - np.asarray(y_pred, "float64")
    total = np.sum((y_true - np.mean(y_true)) ** 2)
    return {
        "test_r2": float(1.0 - np.sum(residual**2) / total),
        "test_rmse": float(np.sqrt(np.mean(residual**2)) * scale),
        "test_mae": float(np.mean(np.abs(residual)) * scale),
    }
