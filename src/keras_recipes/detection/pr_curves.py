"""Figures of detection precision-recall curves, one line per class."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _class_style(index):
    # tab10 as in `drawing.py`, so a class has one colour in every figure.
    return {
        "color": plt.get_cmap("tab10")(int(index) % 10),
        "linestyle": ("-", "--", ":", "-.")[int(index) // 10 % 4],
    }


def draw_precision_recall(axis, pr_curves, class_names):
    """Draws one interpolated precision-recall curve per class on an axis.

    Each curve is drawn as steps that hold each precision back to the
    previous recall, so the area under it is the class's AP50; the legend
    gives that AP50. A class in `class_names` without a curve (no ground
    truth box) appears in the legend only, marked "no ground truth".

    Args:
        axis: A matplotlib `Axes`.
        pr_curves: Dict from class id to a dict with `"recall"`,
            `"precision"` (arrays of equal length) and `"ap50"`, as in the
            `"pr_curves"` of `evaluate_detections`.
        class_names: The name of each class id, a list.

    Returns:
        `axis`.

    Example:

    ```python
    figure, axis = plt.subplots()
    result = evaluate_detections(y_test, predictions)
    draw_precision_recall(axis, result["pr_curves"], ["circle", "square"])
    ```
    """
    unnamed = sorted(c for c in pr_curves if not 0 <= c < len(class_names))
    if unnamed:
        raise ValueError(
            "Every class id in `pr_curves` needs a name in `class_names`. "
            f"Received: class ids {unnamed} for {len(class_names)} class_names"
        )
    for index, name in enumerate(class_names):
        curve = pr_curves.get(index)
        if curve is None:
            axis.plot([], [], label=f"{name}: no ground truth", **_class_style(index))
            continue
        recall = np.asarray(curve["recall"], dtype="float64")
        precision = np.asarray(curve["precision"], dtype="float64")
        if recall.shape != precision.shape:
            raise ValueError(
                "`recall` and `precision` must have the same shape. Received: "
                f"pr_curves[{index}] with recall.shape={recall.shape}, "
                f"precision.shape={precision.shape}"
            )
        axis.plot(
            recall,
            precision,
            drawstyle="steps-pre",
            label=f"{name}: AP50 {curve['ap50']:.3f}",
            **_class_style(index),
        )
    axis.set_xlim(0.0, 1.0)
    axis.set_ylim(0.0, 1.02)
    axis.set_xlabel("recall")
    axis.set_ylabel("precision")
    axis.grid(alpha=0.3)
    if len(class_names) > 10:
        axis.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    elif class_names:
        axis.legend(fontsize=8, loc="lower left")
    return axis


def plot_precision_recall(
    pr_curves, class_names, path, title="precision-recall at IoU 0.5"
):
    """Draws the precision-recall curves of all classes to one PNG.

    One line per class, AP50 in the legend (see `draw_precision_recall`),
    and the mean AP50 over the classes with ground truth in the title.

    Args:
        pr_curves: Dict from class id to a dict with `"recall"`,
            `"precision"` and `"ap50"`, as in the `"pr_curves"` of
            `evaluate_detections`.
        class_names: The name of each class id, a list.
        path: PNG file to write.
        title: Figure title. Defaults to `"precision-recall at IoU 0.5"`.

    Returns:
        `path`.

    Example:

    ```python
    result = evaluate_detections(y_test, predictions)
    plot_precision_recall(result["pr_curves"], class_names, "pr_curves.png")
    ```
    """
    width = 7.5 if len(class_names) > 10 else 5.5
    figure, axis = plt.subplots(figsize=(width, 4.8))
    try:
        draw_precision_recall(axis, pr_curves, class_names)
        if pr_curves:
            mean = np.mean([curve["ap50"] for curve in pr_curves.values()])
            title = f"{title} (mAP50 {mean:.3f})"
        axis.set_title(title, fontsize=10)
        figure.tight_layout()
        figure.savefig(path, dpi=110)
    finally:
        plt.close(figure)
    return path
