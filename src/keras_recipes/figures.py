"""PNG figures for run directories: curves, image grids, confusion matrices."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(figure, path):
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_history(history, path):
    """Plots each training metric against its validation twin, per epoch.

    Args:
        history: `dict` of metric name to per-epoch values, as in
            `History.history` (`loss`, `val_loss`, `accuracy`, ...).
        path: PNG file to write.

    Returns:
        `path`.

    Example:

    ```python
    plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, "curves.png")
    ```
    """
    names = [n for n in history if not n.startswith("val_") and n != "learning_rate"]
    names = names or list(history)
    figure, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.6))
    axes = np.atleast_1d(axes)
    for axis, name in zip(axes, names, strict=True):
        epochs = np.arange(1, len(history[name]) + 1)
        axis.plot(epochs, history[name], marker=".", label="train")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], marker=".", label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.grid(alpha=0.3)
        axis.legend()
    return _save(figure, path)


def plot_image_grid(images, path, titles=None, columns=8, row_labels=None):
    """Draws images in a grid with optional titles.

    Args:
        images: Array `[N, H, W, C]` (C is 1 or 3) with values in [0, 255] or
            [0, 1].
        path: PNG file to write.
        titles: One short title per image, or `None`. Defaults to `None`.
        columns: Images per row. Defaults to `8`.
        row_labels: A label for the start of each row, or `None`.
            Defaults to `None`.

    Returns:
        `path`.

    Example:

    ```python
    plot_image_grid(np.random.rand(16, 8, 8, 1), "grid.png", columns=4)
    ```
    """
    images = np.asarray(images, dtype="float32")
    if images.max(initial=0) > 1.0:
        images = images / 255.0
    images = np.clip(images, 0.0, 1.0)
    count, height, width, _ = images.shape
    rows = max(1, int(np.ceil(count / columns)))
    # One mosaic on one axis: a subplot per image makes matplotlib take
    # most of a second for 64 small images.
    gap_x = max(1, round(0.08 * width))
    gap_y = max(1, round((0.4 if titles is not None else 0.08) * height))
    step_x, step_y = width + gap_x, height + gap_y
    top = gap_y if titles is not None else 0
    mosaic = np.ones((top + rows * step_y - gap_y, columns * step_x - gap_x, 3))
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        y, x = top + row * step_y, column * step_x
        mosaic[y : y + height, x : x + width] = image  # gray broadcasts to RGB
    figure, axis = plt.subplots(figsize=(1.4 * columns, 1.5 * rows))
    axis.imshow(mosaic, interpolation="nearest", aspect="equal")
    axis.set_xticks([])
    if row_labels is not None:
        centres = [top + row * step_y + (height - 1) / 2 for row in range(rows)]
        axis.set_yticks(centres, row_labels[:rows], fontsize=8)
    else:
        axis.set_yticks([])
    for spine in axis.spines.values():
        spine.set_visible(False)
    if titles is not None:
        for index, title in enumerate(titles[:count]):
            row, column = divmod(index, columns)
            axis.text(
                column * step_x + (width - 1) / 2,
                top + row * step_y - 1.5,
                title,
                fontsize=8,
                ha="center",
                va="bottom",
            )
    return _save(figure, path)


def plot_confusion_matrix(matrix, class_names, path, title="confusion matrix"):
    """Draws a confusion matrix with counts in the cells.

    Args:
        matrix: Array `[K, K]`, rows the true class, columns the predicted one.
        class_names: The K class names.
        path: PNG file to write.
        title: Figure title. Defaults to `"confusion matrix"`.

    Returns:
        `path`.

    Example:

    ```python
    plot_confusion_matrix(np.eye(2) * 5, ["cat", "dog"], "confusion.png")
    ```
    """
    matrix = np.asarray(matrix)
    size = max(4.0, 0.45 * len(class_names) + 2)
    figure, axis = plt.subplots(figsize=(size, size))
    axis.imshow(matrix, cmap="Blues")
    ticks = np.arange(len(class_names))
    axis.set_xticks(ticks, class_names, rotation=90 if len(class_names) > 10 else 0)
    axis.set_yticks(ticks, class_names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    accuracy = np.trace(matrix) / max(1, matrix.sum())
    axis.set_title(f"{title} (accuracy {accuracy:.3f})")
    threshold = matrix.max(initial=0) / 2
    for (row, column), count in np.ndenumerate(matrix):
        color = "white" if count > threshold else "black"
        axis.text(column, row, int(count), ha="center", va="center", color=color)
    return _save(figure, path)
