"""Greedy non-max suppression, optionally within each class."""

import numpy as np
import tensorflow as tf

from keras_recipes.detection.boxes import convert_boxes, validate_box_format
from keras_recipes.detection.iou import box_iou


def non_max_suppression(
    boxes,
    scores,
    classes=None,
    iou_threshold=0.5,
    score_threshold=0.6,
    max_detections=100,
    box_format="xyxy",
):
    """Selects boxes by greedy non-max suppression, best score first.

    Boxes scoring below `score_threshold` are discarded. The remaining boxes
    are visited from the highest score down (ties: lower index first); a box is
    kept unless its IoU with an already kept box is at least `iou_threshold`.
    With `classes`, only boxes of the same class suppress each other.

    TensorFlow's kernels keep a box whose IoU equals the threshold exactly and
    drop a score equal to the threshold; this function suppresses the first and
    keeps the second, as the thresholds are defined above. IoU is computed in
    float32 with the formula of `box_iou`, so a box with zero area (or flipped
    corners) neither suppresses nor is suppressed. With `classes`, the IoU of
    every pair of boxes above `score_threshold` is held in memory at once.

    Args:
        boxes: Array or tensor of shape `[N, 4]` in pixels or relative units.
        scores: Array or tensor of shape `[N]`.
        classes: Optional integer array or tensor of shape `[N]`. Defaults to
            `None`, which suppresses across all boxes.
        iou_threshold: Float in `(0, 1]`. Defaults to `0.5`.
        score_threshold: Float; lower scores are discarded. Defaults to `0.6`.
        max_detections: Maximum number of boxes to keep. Defaults to `100`.
        box_format: The format of `boxes`, one of `"xyxy"`, `"yxyx"`, `"xywh"`
            or `"center_xywh"`. Defaults to `"xyxy"`.

    Returns:
        An int32 tensor of shape `[K]`, `K <= max_detections`: the indices of
        the kept boxes in decreasing order of score.

    Example:

    >>> boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]])
    >>> scores = np.array([0.9, 0.8, 0.7])
    >>> non_max_suppression(boxes, scores).numpy()
    array([0, 2], dtype=int32)
    >>> non_max_suppression(boxes, scores, classes=np.array([0, 1, 0])).numpy()
    array([0, 1, 2], dtype=int32)
    """
    validate_box_format(box_format)
    if not 0 < iou_threshold <= 1:
        raise ValueError(
            "`iou_threshold` must be in (0, 1]. "
            f"Received: iou_threshold={iou_threshold}"
        )
    if isinstance(max_detections, bool) or not (
        isinstance(max_detections, (int, np.integer)) and max_detections >= 1
    ):
        raise ValueError(
            "`max_detections` must be a positive integer. "
            f"Received: max_detections={max_detections!r}"
        )
    boxes = tf.cast(convert_boxes(boxes, box_format, "xyxy"), tf.float32)
    scores = tf.convert_to_tensor(scores)
    if not scores.dtype.is_floating:
        scores = tf.cast(scores, tf.float32)
    if classes is not None:
        classes = tf.convert_to_tensor(classes)
    _check_shapes(boxes, scores, classes)

    candidates = tf.where(scores >= tf.cast(score_threshold, scores.dtype))[:, 0]
    boxes = tf.gather(boxes, candidates)
    scores = tf.cast(tf.gather(scores, candidates), tf.float32)
    if classes is None:
        # Flipped corners are collapsed so the box is empty, as in `box_iou`;
        # TensorFlow's kernel would sort them into a non-empty box instead.
        x1, y1, x2, y2 = tf.unstack(boxes, num=4, axis=-1)
        yxyx = tf.stack([y1, x1, tf.maximum(y1, y2), tf.maximum(x1, x2)], axis=-1)
        # The kernel suppresses only IoU > threshold; the float32 number just
        # below `iou_threshold` makes that IoU >= iou_threshold.
        below = np.nextafter(np.float32(iou_threshold), np.float32(0))
        selected = tf.image.non_max_suppression(
            yxyx, scores, max_detections, iou_threshold=float(below)
        )
    else:
        classes = tf.gather(classes, candidates)
        same_class = tf.equal(classes[:, None], classes[None, :])
        overlapping = box_iou(boxes, boxes) >= iou_threshold
        # One greedy pass with suppression confined to a class equals separate
        # passes per class, and needs no coordinate offsets that cost precision.
        suppresses = tf.cast(tf.logical_and(same_class, overlapping), tf.float32)
        selected = tf.image.non_max_suppression_overlaps(
            suppresses, scores, max_detections, overlap_threshold=0.5
        )
    return tf.cast(tf.gather(candidates, selected), tf.int32)


def _check_shapes(boxes, scores, classes):
    if boxes.shape.rank != 2:
        raise ValueError(
            f"`boxes` must have shape [N, 4]. Received: boxes.shape={boxes.shape}"
        )
    expected = boxes.shape[:1]
    arrays = {"scores": scores}
    if classes is not None:
        arrays["classes"] = classes
    for name, array in arrays.items():
        if array.shape.rank != 1 or not array.shape.is_compatible_with(expected):
            raise ValueError(
                f"`{name}` must have shape [N] with N={expected[0]} boxes. "
                f"Received: {name}.shape={array.shape}"
            )
