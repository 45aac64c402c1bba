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


def batched_class_nms(
    boxes,
    scores,
    iou_threshold=0.5,
    score_threshold=0.6,
    max_detections=100,
):
    """Per-class greedy non-max suppression of a batch, in ops every runtime has.

    The same selection as `yolo_detections`' combined NMS: candidates are
    (box, class) pairs scoring at least `score_threshold`; the best
    remaining pair is kept, and it removes the pairs of its class whose box
    has an IoU of at least `iou_threshold` with its box (the IoU of
    `box_iou`); this repeats until `max_detections` are kept or none is
    left. Ties go to the lower box index, then the lower class. It is one
    `tf.while_loop` of comparisons, `argmax` and `one_hot` products, with
    no NMS kernel: ONNX (via tf2onnx) and the LiteRT builtins both hold it,
    where LiteRT cannot run `combined_non_max_suppression` and tf2onnx
    cannot convert `non_max_suppression_padded`.

    Args:
        boxes: Tensor `[batch, N, 4]` in `"xyxy"`.
        scores: Tensor `[batch, N, C]`, one score per box and class.
        iou_threshold: IoU at which a box of the same class is removed.
            Defaults to `0.5`.
        score_threshold: Smallest score kept. Defaults to `0.6`.
        max_detections: Most detections per image. Defaults to `100`.

    Returns:
        A dict of tensors: `"boxes"` `[batch, K, 4]`, `"scores"`
        `[batch, K]`, `"classes"` `[batch, K]` (int32) and
        `"num_detections"` `[batch]` (int32), with `K = max_detections`;
        best score first, and zeros after the `num_detections` valid rows.

    Example:

    >>> boxes = np.array([[[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]]])
    >>> scores = np.array([[[0.9, 0.1], [0.8, 0.7], [0.7, 0.1]]])
    >>> found = batched_class_nms(boxes, scores, max_detections=3)
    >>> found["classes"].numpy().tolist(), found["num_detections"].numpy()
    ([[0, 1, 0]], array([3], dtype=int32))
    """
    if not 0 < iou_threshold <= 1:
        raise ValueError(
            "`iou_threshold` must be in (0, 1]. "
            f"Received: iou_threshold={iou_threshold}"
        )
    if int(max_detections) != max_detections or max_detections < 1:
        raise ValueError(
            "`max_detections` must be a positive integer. "
            f"Received: max_detections={max_detections}"
        )
    boxes = tf.cast(tf.convert_to_tensor(boxes), tf.float32)
    scores = tf.cast(tf.convert_to_tensor(scores), tf.float32)
    if boxes.shape.rank != 3 or scores.shape.rank != 3:
        raise ValueError(
            "`boxes` must have shape [batch, N, 4] and `scores` [batch, N, C]. "
            f"Received: boxes.shape={boxes.shape}, scores.shape={scores.shape}"
        )
    num_classes = scores.shape[2]
    if num_classes is None:
        raise ValueError(
            "`scores` must have a known number of classes. "
            f"Received: scores.shape={scores.shape}"
        )
    count = int(max_detections)
    batch, num_boxes = tf.shape(scores)[0], tf.shape(scores)[1]
    # Candidate n * C + c is box n in class c.
    flat = tf.reshape(scores, (batch, -1))
    live = flat >= tf.constant(score_threshold, tf.float32)
    lowest = tf.fill(tf.shape(flat), tf.float32.min)
    slots = tf.range(count)
    candidates = tf.range(num_boxes * num_classes)

    def step(index, live, kept_boxes, kept_scores, kept_classes, kept):
        # Indexing with None or `...` inside the loop makes strided slices
        # that LiteRT's builtins lack: expand_dims and unstack instead.
        found = tf.reduce_any(live, axis=1)
        remaining = tf.where(live, flat, lowest)
        best = tf.argmax(remaining, axis=1, output_type=tf.int32)
        best_score = tf.reduce_max(remaining, axis=1)
        box_index, class_index = best // num_classes, best % num_classes
        box_mask = tf.one_hot(box_index, num_boxes, dtype=tf.float32)
        best_box = tf.reduce_sum(tf.expand_dims(box_mask, 2) * boxes, axis=1)
        overlap = _iou_with_each(best_box, boxes)
        same_class = tf.one_hot(class_index, num_classes, dtype=tf.float32)
        removed = tf.expand_dims(tf.cast(overlap >= iou_threshold, tf.float32), 2)
        removed = removed * tf.expand_dims(same_class, 1)
        removed = tf.reshape(removed, tf.shape(flat)) > 0
        chosen = tf.equal(tf.expand_dims(candidates, 0), tf.expand_dims(best, 1))
        live = tf.logical_and(live, tf.logical_not(tf.logical_or(removed, chosen)))
        slot = tf.cast(tf.equal(tf.expand_dims(slots, 0), index), tf.float32)
        slot = slot * tf.expand_dims(tf.cast(found, tf.float32), 1)
        kept_boxes += tf.expand_dims(slot, 2) * tf.expand_dims(best_box, 1)
        kept_scores += slot * tf.expand_dims(best_score, 1)
        kept_classes += tf.cast(slot, tf.int32) * tf.expand_dims(class_index, 1)
        kept += tf.cast(found, tf.int32)
        return index + 1, live, kept_boxes, kept_scores, kept_classes, kept

    def more(index, live, *_):
        return tf.logical_and(index < count, tf.reduce_any(live))

    start = (
        tf.constant(0),
        live,
        tf.zeros((batch, count, 4)),
        tf.zeros((batch, count)),
        tf.zeros((batch, count), tf.int32),
        tf.zeros((batch,), tf.int32),
    )
    _, _, kept_boxes, kept_scores, kept_classes, kept = tf.while_loop(more, step, start)
    return {
        "boxes": kept_boxes,
        "scores": kept_scores,
        "classes": kept_classes,
        "num_detections": kept,
    }


def _iou_with_each(box, boxes):
    """IoU of one box `[batch, 4]` with each of `boxes` `[batch, N, 4]`.

    The formula of `box_iou`, in ops that LiteRT's builtins hold.
    """
    x1, y1, x2, y2 = tf.unstack(boxes, num=4, axis=2)
    bx1, by1, bx2, by2 = (tf.expand_dims(c, 1) for c in tf.unstack(box, num=4, axis=1))
    width = tf.maximum(tf.minimum(bx2, x2) - tf.maximum(bx1, x1), 0.0)
    height = tf.maximum(tf.minimum(by2, y2) - tf.maximum(by1, y1), 0.0)
    intersection = width * height
    box_area = tf.maximum(bx2 - bx1, 0.0) * tf.maximum(by2 - by1, 0.0)
    areas = tf.maximum(x2 - x1, 0.0) * tf.maximum(y2 - y1, 0.0)
    union = box_area + areas - intersection
    nonempty = union > 0
    return tf.where(nonempty, intersection / tf.where(nonempty, union, 1.0), 0.0)
