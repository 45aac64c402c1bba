"""The stages of `transfer_digits` side by side: their metrics and figures."""

import matplotlib.pyplot as plt
import numpy as np

import keras_recipes.figures  # noqa: F401  (selects the Agg backend)
from keras_recipes.figures import plot_image_grid
from keras_recipes.recipes.transfer_digits.stages import STAGES


def stage_accuracies(draws):
    """Returns each stage's test accuracy in each draw.

    Args:
        draws: One `{stage: RunResult}` per draw of the labelled digits.

    Returns:
        `{stage: [test accuracy of each draw]}`, stages in report order.

    Example:

    ```python
    stage_accuracies(draws)["scratch"]  # [0.79, 0.81, 0.76]
    ```
    """
    return {
        stage: [float(results[stage].metrics["test_accuracy"]) for results in draws]
        for stage in STAGES
    }


def compare_stages(draws, pretraining, splits, labels_per_class):
    """Returns the metrics of a `transfer_digits` run.

    Args:
        draws: One `{stage: RunResult}` per draw of the labelled digits.
        pretraining: The `RunResult` of the pretraining on glyphs.
        splits: The first draw's `train`, `validation` and `test`
            `LabelledImages`, the same for every stage of the draw.
        labels_per_class: Labelled training digits per class.

    Returns:
        A `dict`: each stage's mean test accuracy over the draws
        (`<stage>_accuracy`) and per draw, the glyph validation accuracy,
        the sizes of the splits and the scratch stage's epochs per draw.

    Example:

    ```python
    metrics = compare_stages(draws, pretraining, splits, labels_per_class=3)
    metrics["fine_tune_accuracy"] - metrics["scratch_accuracy"]
    ```
    """
    metrics = {}
    for stage, accuracies in stage_accuracies(draws).items():
        metrics[f"{stage}_accuracy"] = float(np.mean(accuracies))
        metrics[f"{stage}_accuracy_per_draw"] = accuracies
    if "val_accuracy" in pretraining.metrics:
        metrics["glyph_val_accuracy"] = float(pretraining.metrics["val_accuracy"])
    metrics["draws"] = len(draws)
    metrics["labels_per_class"] = labels_per_class
    metrics["train_images"] = len(splits["train"])
    metrics["validation_images"] = len(splits["validation"])
    metrics["test_images"] = len(splits["test"])
    metrics["scratch_epochs_per_draw"] = [
        len(results["scratch"].history["loss"]) for results in draws
    ]
    return metrics


def plot_accuracies(accuracies, path, title="test accuracy"):
    """Draws one bar per stage at its mean accuracy, with a dot per draw.

    Args:
        accuracies: `dict` of stage name to a list of accuracies in [0, 1],
            one per draw of the labelled images.
        path: PNG file to write.
        title: Figure title. Defaults to `"test accuracy"`.

    Returns:
        `path`.

    Example:

    ```python
    plot_accuracies({"scratch": [0.74, 0.78], "bottleneck": [0.83, 0.8]}, "a.png")
    ```
    """
    figure, axis = plt.subplots(figsize=(5.5, 3.8))
    names = list(accuracies)
    means = [float(np.mean(accuracies[name])) for name in names]
    colors = ["#999999", "#4c72b0", "#dd8452"][: len(names)]
    axis.bar(names, means, color=colors, alpha=0.85)
    for index, name in enumerate(names):
        values = accuracies[name]
        axis.plot([index] * len(values), values, "k.", markersize=6)
        top = max(max(values), means[index])
        axis.text(index, top + 0.02, f"{means[index]:.3f}", ha="center")
    axis.set_ylim(0, 1.05)
    axis.set_ylabel("test accuracy (bar: mean, dots: draws)")
    axis.set_title(title, fontsize=10)
    axis.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_labelled_digits(train, path, count=24):
    """Draws the labelled training digits of a draw, in class order.

    Args:
        train: The draw's training `LabelledImages` (arrays in memory).
        path: PNG file to write.
        count: Digits drawn at most. Defaults to `24`.

    Returns:
        `path`.

    Example:

    ```python
    plot_labelled_digits(splits["train"], "labelled_digits.png")
    ```
    """
    order = np.argsort(train.labels, kind="stable")[:count]
    return plot_image_grid(
        train.arrays[order],
        path,
        titles=[f"digit {train.labels[i]}" for i in order],
        columns=8,
    )
