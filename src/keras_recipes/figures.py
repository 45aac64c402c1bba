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
    rows = int(np.ceil(len(images) / columns))
    figure, axes = plt.subplots(
        rows, columns, figsize=(1.4 * columns, 1.5 * rows), squeeze=False
    )
    for index, axis in enumerate(axes.flat):
        axis.set_xticks([])
        axis.set_yticks([])
        if index >= len(images):
            axis.axis("off")
            continue
        image = images[index]
        if image.shape[-1] == 1:
            axis.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
        else:
            axis.imshow(image)
        if titles is not None:
            axis.set_title(titles[index], fontsize=8)
        if row_labels is not None and index % columns == 0:
            axis.set_ylabel(row_labels[index // columns], fontsize=8)
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
