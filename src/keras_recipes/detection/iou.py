"""Intersection over union between two sets of boxes."""

from keras import backend, ops

from keras_recipes.detection.boxes import convert_boxes, validate_box_format


def box_iou(boxes1, boxes2, box_format="xyxy"):
    """Computes the intersection over union (IoU) of every pair of boxes.

    A box whose right edge lies left of its left edge (or bottom above top) is
    empty. Boxes with zero area have an IoU of 0 with every box, themselves
    included, so the result never contains NaN.

    Args:
        boxes1: Array or tensor of shape `[..., N, 4]`.
        boxes2: Array or tensor of shape `[..., M, 4]`; leading axes must
            broadcast against those of `boxes1`.
        box_format: The format of both sets of boxes, one of `"xyxy"`,
            `"yxyx"`, `"xywh"` or `"center_xywh"`. Defaults to `"xyxy"`.

    Returns:
        A tensor of shape `[..., N, M]` with values in `[0, 1]`.

    Example:

    >>> boxes1 = np.array([[0.0, 0.0, 4.0, 4.0]])
    >>> boxes2 = np.array([[2.0, 0.0, 6.0, 4.0], [0.0, 0.0, 4.0, 4.0]])
    >>> ops.convert_to_numpy(box_iou(boxes1, boxes2))
    array([[0.33333333, 1.        ]])
    """
    validate_box_format(box_format)
    boxes1 = convert_boxes(boxes1, box_format, "xyxy")
    boxes2 = convert_boxes(boxes2, box_format, "xyxy")
    for name, boxes in (("boxes1", boxes1), ("boxes2", boxes2)):
        if len(boxes.shape) < 2:
            raise ValueError(
                f"`{name}` must have shape [..., N, 4]. "
                f"Received: {name}.shape={boxes.shape}"
            )
    dtype = backend.result_type(boxes1.dtype, boxes2.dtype)
    boxes1 = ops.expand_dims(ops.cast(boxes1, dtype), -2)
    boxes2 = ops.expand_dims(ops.cast(boxes2, dtype), -3)
    top_left = ops.maximum(boxes1[..., :2], boxes2[..., :2])
    bottom_right = ops.minimum(boxes1[..., 2:], boxes2[..., 2:])
    intersection = _area(ops.concatenate([top_left, bottom_right], axis=-1))
    union = _area(boxes1) + _area(boxes2) - intersection
    nonempty = union > 0
    return ops.where(nonempty, intersection / ops.where(nonempty, union, 1), 0)


def _area(boxes):
    sizes = ops.maximum(boxes[..., 2:] - boxes[..., :2], 0)
    return sizes[..., 0] * sizes[..., 1]
