"""Figures of a style transfer run: images side by side, loss terms."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(figure, path):
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_side_by_side(images, titles, path):
    """Draws RGB images in one row at their own aspect ratio.

    Args:
        images: Arrays `[H, W, 3]` with values in [0, 255].
        titles: One title per image.
        path: PNG file to write.

    Returns:
        `path`.

    Example:

    ```python
    plot_side_by_side([content, style, result],
                      ["content", "style", "result"], "side_by_side.png")
    ```
    """
    height, width = images[0].shape[:2]
    panel = 4.0 * width / height
    figure, axes = plt.subplots(
        1, len(images), figsize=(panel * len(images), 4.4), squeeze=False
    )
    for axis, image, title in zip(axes[0], images, titles, strict=True):
        axis.imshow(np.clip(np.asarray(image) / 255.0, 0.0, 1.0))
        axis.set_title(title)
        axis.axis("off")
    return _save(figure, path)


def plot_loss_terms(history, path):
    """Plots the weighted loss terms per optimisation step on a log scale.

    Args:
        history: `dict` with per-step lists under `"loss"`, `"content"`,
            `"style"` and `"variation"`.
        path: PNG file to write.

    Returns:
        `path`.

    Example:

    ```python
    plot_loss_terms({"loss": [2.0, 1.0], "content": [0.0, 0.1],
                     "style": [1.9, 0.8], "variation": [0.1, 0.1]}, "loss.png")
    ```
    """
    figure, axis = plt.subplots(figsize=(6.0, 3.8))
    for name, style in (
        ("loss", "-"),
        ("content", "--"),
        ("style", "--"),
        ("variation", ":"),
    ):
        values = np.asarray(history[name], dtype="float64")
        steps = np.arange(len(values))
        positive = values > 0  # a log axis cannot show the content term's 0
        axis.plot(steps[positive], values[positive], style, label=name)
    axis.set_yscale("log")
    axis.set_xlabel("step")
    axis.set_title("weighted loss terms")
    axis.grid(alpha=0.3)
    axis.legend()
    return _save(figure, path)
