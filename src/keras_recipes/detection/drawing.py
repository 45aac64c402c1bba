"""Figures of detections: predicted and true boxes drawn on images."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.patches as patches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

_TRUTH_COLOUR = "white"


def _class_colour(index):
    return plt.get_cmap("tab10")(int(index) % 10)


def draw_boxes(axis, image, truth=None, predicted=None, class_names=None):
    """Draws an image with true boxes (dashed) and predicted ones (solid).

    Args:
        axis: A matplotlib `Axes`.
        image: Array `[height, width, 3]`, values in [0, 255].
        truth: Dict with `"boxes"` (`"xyxy"` pixels) and `"classes"`, or
            `None`. Defaults to `None`.
        predicted: Dict with `"boxes"`, `"classes"` and `"scores"`, or
            `None`. Defaults to `None`.
        class_names: Names of the class ids, or `None` for the ids.
            Defaults to `None`.

    Returns:
        `axis`.

    Example:

    ```python
    figure, axis = plt.subplots()
    draw_boxes(axis, image, truth=y_test[0], predicted=predictions[0])
    ```
    """

    def name(index):
        return class_names[int(index)] if class_names is not None else str(int(index))

    axis.imshow(np.clip(np.asarray(image), 0, 255).astype("uint8"))
    axis.set_xticks([])
    axis.set_yticks([])
    if truth is not None:
        for box in np.asarray(truth["boxes"]).reshape(-1, 4):
            x1, y1, x2, y2 = box
            axis.add_patch(
                patches.Rectangle(
                    (x1, y1),
                    x2 - x1,
                    y2 - y1,
                    fill=False,
                    linestyle="--",
                    linewidth=1.0,
                    edgecolor=_TRUTH_COLOUR,
                )
            )
    if predicted is not None:
        boxes = np.asarray(predicted["boxes"]).reshape(-1, 4)
        for box, label, score in zip(
            boxes, predicted["classes"], predicted["scores"], strict=True
        ):
            x1, y1, x2, y2 = box
            colour = _class_colour(label)
            axis.add_patch(
                patches.Rectangle(
                    (x1, y1),
                    x2 - x1,
                    y2 - y1,
                    fill=False,
                    linewidth=1.5,
                    edgecolor=colour,
                )
            )
            axis.text(
                x1,
                y1,
                f"{name(label)} {score:.2f}",
                fontsize=6,
                color="black",
                verticalalignment="bottom",
                bbox={"facecolor": colour, "edgecolor": "none", "pad": 0.5},
            )
    return axis


def plot_detections(
    images, path, truths=None, predictions=None, class_names=None, columns=4, title=None
):
    """Draws a grid of images with their true and predicted boxes to a PNG.

    Args:
        images: Array `[N, height, width, 3]`, values in [0, 255].
        path: PNG file to write.
        truths: One true-box dict per image, or `None`. Defaults to `None`.
        predictions: One predicted-box dict per image, or `None`.
            Defaults to `None`.
        class_names: Names of the class ids. Defaults to `None`.
        columns: Images per row. Defaults to `4`.
        title: Figure title. Defaults to `None`.

    Returns:
        `path`.

    Example:

    ```python
    plot_detections(x_test[:8], "detections.png", y_test[:8], predictions[:8],
                    class_names)
    ```
    """
    count = len(images)
    rows = max(1, int(np.ceil(count / columns)))
    figure, axes = plt.subplots(
        rows, columns, figsize=(3.0 * columns, 3.0 * rows), squeeze=False
    )
    for index, axis in enumerate(axes.flat):
        if index >= count:
            axis.axis("off")
            continue
        draw_boxes(
            axis,
            images[index],
            truth=None if truths is None else truths[index],
            predicted=None if predictions is None else predictions[index],
            class_names=class_names,
        )
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_anchors(box_wh, anchors, path, title="box sizes and anchors"):
    """Plots the training boxes' widths and heights with the anchors on top.

    Args:
        box_wh: Array `[N, 2]` of box widths and heights in pixels.
        anchors: Array `[B, 2]` of anchor widths and heights in pixels.
        path: PNG file to write.
        title: Figure title. Defaults to `"box sizes and anchors"`.

    Returns:
        `path`.

    Example:

    ```python
    plot_anchors(box_wh, kmeans_anchors(box_wh, 3), "anchors.png")
    ```
    """
    box_wh = np.asarray(box_wh).reshape(-1, 2)
    anchors = np.asarray(anchors).reshape(-1, 2)
    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    axis.scatter(box_wh[:, 0], box_wh[:, 1], s=4, alpha=0.3, label="training boxes")
    axis.scatter(
        anchors[:, 0], anchors[:, 1], s=80, marker="x", color="red", label="anchors"
    )
    for width, height in anchors:
        axis.annotate(f"{width:.0f}x{height:.0f}", (width, height), fontsize=8)
    axis.set_xlabel("width (pixels)")
    axis.set_ylabel("height (pixels)")
    axis.set_title(title)
    axis.legend(fontsize=8)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
