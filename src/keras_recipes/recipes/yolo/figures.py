"""The figures of a `yolo` run: anchors and detections on test images."""

from keras_recipes.detection.drawing import plot_anchors, plot_detections
from keras_recipes.detection.pr_curves import plot_precision_recall
from keras_recipes.recipes.yolo.detect import keep_scores

# Test images drawn with their detections: always the first ones.
SAMPLE_SIZE = 12


def plot_yolo_figures(data, evaluation, score_threshold, folder):
    """Draws `anchors.png`, `detections.png` and `precision_recall.png`.

    The detections are those evaluation found, cut at `score_threshold`;
    nothing runs the model again.

    Args:
        data: The run's `YoloData`.
        evaluation: The run's `YoloEvaluation`.
        score_threshold: Smallest score drawn; at least
            `evaluation.score_threshold`.
        folder: The `figures` folder (a `Path`).

    Returns:
        `None`.

    Example:

    ```python
    plot_yolo_figures(data, evaluation, 0.6, run_dir / "figures")
    ```
    """
    if score_threshold < evaluation.score_threshold:
        raise ValueError(
            f"`score_threshold` must be at least the evaluation's "
            f"{evaluation.score_threshold}. Received: {score_threshold}"
        )
    plot_anchors(
        data.box_sizes,
        data.anchors,
        folder / "anchors.png",
        title=f"training box sizes and {len(data.anchors)} anchors",
    )
    count = min(SAMPLE_SIZE, len(data.test_images))
    plot_detections(
        data.test_images[:count],
        folder / "detections.png",
        truths=data.test_annotations[:count],
        predictions=keep_scores(evaluation.detections[:count], score_threshold),
        class_names=data.class_names,
        title=f"test images: predicted (solid, score >= {score_threshold:g}) "
        f"and true (dashed) boxes",
    )
    plot_precision_recall(
        evaluation.pr_curves, data.class_names, folder / "precision_recall.png"
    )
