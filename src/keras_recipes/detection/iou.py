"""Intersection over union between two sets of boxes."""

import math

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


# No Keras 3 library exports these elementwise IoU variants (KerasCV's
# losses are not maintained for Keras 3 and KerasHub keeps its own private),
# so they are written here in `keras.ops`.
IOU_KINDS = ("iou", "giou", "diou", "ciou")


def aligned_box_iou(boxes1, boxes2, kind="iou", eps=1e-9):
    """Computes IoU or one of its variants between boxes paired one to one.

    Unlike `box_iou`, which compares every box with every other, box `i` of
    `boxes1` is compared with box `i` of `boxes2` only. Besides the IoU
    itself (`"iou"`), the variants used as regression losses are:

    - `"giou"`: IoU minus the fraction of the smallest enclosing box that
      the union does not cover (Rezatofighi et al., 2019), in `[-1, 1]`;
    - `"diou"`: IoU minus the squared distance between the centres over the
      squared diagonal of the enclosing box (Zheng et al., 2020);
    - `"ciou"`: DIoU minus `alpha * v`, where `v` measures how much the
      aspect ratios differ, `4 / pi^2 * (atan(w2 / h2) - atan(w1 / h1))^2`,
      and `alpha = v / (1 - IoU + v)` is held constant in the gradient, as
      in the paper.

    `1 - aligned_box_iou(...)` is the loss. `eps` keeps the ratios finite
    for empty boxes; the variants are not invariant to scaling x and y
    differently, so give the boxes in pixels.

    Args:
        boxes1: Array or tensor `[..., 4]` of `"xyxy"` boxes.
        boxes2: Array or tensor `[..., 4]` of `"xyxy"` boxes, broadcasting
            against `boxes1`.
        kind: One of `"iou"`, `"giou"`, `"diou"` or `"ciou"`.
            Defaults to `"iou"`.
        eps: Added to the denominators. Defaults to `1e-9`.

    Returns:
        A tensor `[...]` of the paired values.

    Reference:
        - [Rezatofighi et al., 2019](https://arxiv.org/abs/1902.09630)
        - [Zheng et al., 2020](https://arxiv.org/abs/1911.08287)

    Example:

    >>> boxes1 = np.array([[0.0, 0.0, 4.0, 4.0]])
    >>> boxes2 = np.array([[2.0, 0.0, 6.0, 4.0]])
    >>> ops.convert_to_numpy(aligned_box_iou(boxes1, boxes2, "giou"))
    array([0.33333333])
    """
    if kind not in IOU_KINDS:
        raise ValueError(f"`kind` must be one of {IOU_KINDS}. Received: kind={kind!r}")
    boxes1 = ops.convert_to_tensor(boxes1)
    boxes2 = ops.convert_to_tensor(boxes2)
    dtype = backend.result_type(boxes1.dtype, boxes2.dtype)
    boxes1, boxes2 = ops.cast(boxes1, dtype), ops.cast(boxes2, dtype)
    size1 = ops.maximum(boxes1[..., 2:] - boxes1[..., :2], 0)
    size2 = ops.maximum(boxes2[..., 2:] - boxes2[..., :2], 0)
    overlap = ops.maximum(
        ops.minimum(boxes1[..., 2:], boxes2[..., 2:])
        - ops.maximum(boxes1[..., :2], boxes2[..., :2]),
        0,
    )
    intersection = overlap[..., 0] * overlap[..., 1]
    union = size1[..., 0] * size1[..., 1] + size2[..., 0] * size2[..., 1]
    union = union - intersection
    iou = intersection / (union + eps)
    if kind == "iou":
        return iou
    enclosing = ops.maximum(boxes1[..., 2:], boxes2[..., 2:]) - ops.minimum(
        boxes1[..., :2], boxes2[..., :2]
    )
    if kind == "giou":
        enclosing_area = enclosing[..., 0] * enclosing[..., 1]
        return iou - (enclosing_area - union) / (enclosing_area + eps)
    diagonal = ops.sum(ops.square(enclosing), axis=-1)
    centers = (
        boxes1[..., :2] + boxes1[..., 2:] - boxes2[..., :2] - boxes2[..., 2:]
    ) / 2
    distance = ops.sum(ops.square(centers), axis=-1)
    diou = iou - distance / (diagonal + eps)
    if kind == "diou":
        return diou
    angle1 = ops.arctan(size1[..., 0] / (size1[..., 1] + eps))
    angle2 = ops.arctan(size2[..., 0] / (size2[..., 1] + eps))
    v = (4 / math.pi**2) * ops.square(angle2 - angle1)
    alpha = ops.stop_gradient(v / (1 - iou + v + eps))
    return diou - alpha * v
