"""The basics' own figures: a regression's predictions, a softmax's templates."""

import matplotlib.pyplot as plt
import numpy as np

import keras_recipes.figures  # noqa: F401  (selects the Agg backend)


def plot_predictions(truth, predicted, r2, path):
    """Draws predicted against true targets, with the diagonal of perfection.

    Args:
        truth: True targets, in their own units, shape `[N]`.
        predicted: Predictions of them, in the same units, shape `[N]`.
        r2: The test R^2, for the title.
        path: PNG file to write.

    Returns:
        `path`.

    Example:

    ```python
    plot_predictions(y_test, model_predictions, 0.45, "predictions.png")
    ```
    """
    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    axis.scatter(truth, predicted, s=12, alpha=0.7)
    low = float(min(truth.min(), predicted.min()))
    high = float(truth.max())
    axis.plot([low, high], [low, high], color="gray", linestyle="--")
    axis.set_title(f"test set: R^2 = {r2:.3f}")
    axis.set_xlabel("true disease progression")
    axis.set_ylabel("predicted")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_weight_templates(kernel, class_names, path, image_shape=(8, 8)):
    """Draws each class's input weights as an image: the pixels for and against.

    Args:
        kernel: The softmax layer's weights, `[pixels, classes]`.
        class_names: The name of each class, for the titles.
        path: PNG file to write.
        image_shape: Height and width the pixels fold into. Defaults to
            `(8, 8)`.

    Returns:
        `path`.

    Example:

    ```python
    kernel = model.get_layer("output").get_weights()[0]
    plot_weight_templates(kernel, [str(d) for d in range(10)], "weights.png")
    ```
    """
    limit = float(np.abs(kernel).max())
    figure, axes = plt.subplots(1, kernel.shape[1], figsize=(1.3 * 10, 1.8))
    for index, axis in enumerate(np.atleast_1d(axes)):
        axis.imshow(
            kernel[:, index].reshape(image_shape),
            cmap="RdBu_r",
            vmin=-limit,
            vmax=limit,
        )
        axis.set_title(class_names[index])
        axis.set_xticks([])
        axis.set_yticks([])
    figure.suptitle("weights per class (red: evidence for, blue: against)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
