"""PNG figures for run directories: curves, image grids, confusion matrices."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.patches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(figure, path):
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_history(history, path, best_epoch=None, stopped_epoch=None, monitor=None):
    """Plots each training metric against its validation twin, per epoch.

    Each panel's y axis is labelled with its metric. The best epoch (by
    `monitor`, the value early stopping and the checkpoint watch) is marked
    with a dashed line and a star on the monitored curve, and the epoch where
    early stopping ended the run with a dotted line.

    Args:
        history: `dict` of metric name to per-epoch values, as in
            `History.history` (`loss`, `val_loss`, `accuracy`, ...).
        path: PNG file to write.
        best_epoch: The best epoch, counted from 1, or `None` to mark none.
            Defaults to `None`.
        stopped_epoch: The last epoch when early stopping ended the run
            before its configured number of epochs, counted from 1, or
            `None`. Defaults to `None`.
        monitor: The metric that picked `best_epoch`, e.g. `"val_loss"`.
            Defaults to `None`.

    Returns:
        `path`.

    Example:

    ```python
    plot_history(
        {"loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.7, 0.8]},
        "curves.png",
        best_epoch=2,
        stopped_epoch=3,
        monitor="val_loss",
    )
    ```
    """
    names = [n for n in history if not n.startswith("val_") and n != "learning_rate"]
    names = names or list(history)
    figure, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.8))
    axes = np.atleast_1d(axes)
    for axis, name in zip(axes, names, strict=True):
        epochs = np.arange(1, len(history[name]) + 1)
        axis.plot(epochs, history[name], marker=".", label="train")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], marker=".", label="validation")
        if best_epoch is not None:
            axis.axvline(
                best_epoch,
                color="tab:green",
                linestyle="--",
                linewidth=1,
                label=f"best epoch {best_epoch}" + (f" ({monitor})" if monitor else ""),
            )
            if monitor in (name, f"val_{name}") and best_epoch <= len(history[monitor]):
                axis.plot(
                    best_epoch,
                    history[monitor][best_epoch - 1],
                    marker="*",
                    markersize=13,
                    color="tab:green",
                    linestyle="none",
                )
        if stopped_epoch is not None:
            axis.axvline(
                stopped_epoch,
                color="tab:red",
                linestyle=":",
                linewidth=1.5,
                label=f"early stop (epoch {stopped_epoch})",
            )
        axis.set_xlabel("epoch")
        axis.set_ylabel(name.replace("_", " "))
        axis.set_title(name)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    return _save(figure, path)


def plot_image_grid(
    images,
    path,
    titles=None,
    columns=8,
    row_labels=None,
    column_labels=None,
    title=None,
    framed_column=None,
):
    """Draws images in a grid with optional titles.

    Args:
        images: Array `[N, H, W, C]` (C is 1 or 3) with values in [0, 255] or
            [0, 1].
        path: PNG file to write.
        titles: One short title per image, or `None`. Defaults to `None`.
        columns: Images per row. Defaults to `8`.
        row_labels: A label for the start of each row, or `None`.
            Defaults to `None`.
        column_labels: A label above each column, or `None`. Defaults to
            `None`.
        title: The figure's title, or `None`. Defaults to `None`.
        framed_column: The index of a column to frame, to set it apart
            (e.g. the originals beside their variants), or `None`.
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
    gap_x = max(2, round(0.12 * width))
    gap_y = max(1, round((0.4 if titles is not None else 0.08) * height))
    step_x, step_y = width + gap_x, height + gap_y
    top = gap_y if titles is not None else 0
    mosaic = np.ones((top + rows * step_y - gap_y, columns * step_x - gap_x, 3))
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        y, x = top + row * step_y, column * step_x
        mosaic[y : y + height, x : x + width] = image  # gray broadcasts to RGB
    extra = 0.45 * (title is not None) + 0.25 * (column_labels is not None)
    if title is None and column_labels is None and framed_column is None:
        size = (1.4 * columns, 1.5 * rows)
    else:  # as tall as the mosaic, so no blank band comes between title and images
        size = (1.4 * columns, 1.4 * columns * mosaic.shape[0] / mosaic.shape[1])
        size = (size[0], size[1] + extra)
    figure, axis = plt.subplots(figsize=size)
    axis.imshow(mosaic, interpolation="nearest", aspect="equal")
    if column_labels is not None:
        centres = [column * step_x + (width - 1) / 2 for column in range(columns)]
        axis.set_xticks(centres, column_labels[:columns], fontsize=8)
        axis.xaxis.tick_top()
        axis.tick_params(axis="x", length=0)
    else:
        axis.set_xticks([])
    if row_labels is not None:
        centres = [top + row * step_y + (height - 1) / 2 for row in range(rows)]
        axis.set_yticks(centres, row_labels[:rows], fontsize=8)
        axis.tick_params(axis="y", length=0)
    else:
        axis.set_yticks([])
    for spine in axis.spines.values():
        spine.set_visible(False)
    if framed_column is not None:
        # Room around the mosaic for the frame, inside the axes and its labels.
        axis.set_xlim(-0.5 - gap_x, mosaic.shape[1] - 0.5)
        axis.set_ylim(mosaic.shape[0] - 0.5 + gap_x, -0.5 - gap_x)
        used_rows = -(-(count - framed_column) // columns)
        axis.add_patch(
            matplotlib.patches.Rectangle(
                (framed_column * step_x - gap_x / 2 - 0.5, top - gap_x / 2 - 0.5),
                width + gap_x,
                used_rows * step_y - gap_y + gap_x,
                fill=False,
                edgecolor="tab:red",
                linewidth=2,
            )
        )
    if titles is not None:
        for index, text in enumerate(titles[:count]):
            row, column = divmod(index, columns)
            axis.text(
                column * step_x + (width - 1) / 2,
                top + row * step_y - 1.5,
                text,
                fontsize=8,
                ha="center",
                va="bottom",
            )
    if title is not None:
        figure.suptitle(title, fontsize=10)
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
