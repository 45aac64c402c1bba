"""Conversion between bounding-box formats."""

from keras import backend, ops

BOX_FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh")


def validate_box_format(box_format, name="box_format"):
    """Raises a `ValueError` unless `box_format` is one of `BOX_FORMATS`.

    Args:
        box_format: The value to check.
        name: The argument name to report in the error message.
            Defaults to `"box_format"`.

    Returns:
        `None`.

    Example:

    >>> validate_box_format("xyxy")
    """
    if box_format not in BOX_FORMATS:
        raise ValueError(
            f"`{name}` must be one of {BOX_FORMATS}. Received: {name}={box_format!r}"
        )


def convert_boxes(boxes, source, target):
    """Converts bounding boxes from one format to another.

    The formats are `"xyxy"` (left, top, right, bottom), `"yxyx"` (top, left,
    bottom, right; TensorFlow's order), `"xywh"` (left, top, width, height; the
    COCO order) and `"center_xywh"` (centre x, centre y, width, height; the
    YOLO order). Coordinates may be in pixels or relative to the image size.

    Args:
        boxes: Array or tensor of shape `[..., 4]`; leading axes are kept.
        source: The format of `boxes`.
        target: The format to convert to.

    Returns:
        A tensor of the same shape as `boxes` in the `target` format. Integer
        boxes are cast to the default float type first.

    Example:

    >>> boxes = np.array([[10.0, 20.0, 50.0, 40.0]])
    >>> ops.convert_to_numpy(convert_boxes(boxes, "xyxy", "center_xywh"))
    array([[30., 30., 40., 20.]])
    """
    validate_box_format(source, "source")
    validate_box_format(target, "target")
    boxes = ops.convert_to_tensor(boxes)
    if len(boxes.shape) == 0 or boxes.shape[-1] not in (4, None):
        raise ValueError(
            f"`boxes` must have shape [..., 4]. Received: boxes.shape={boxes.shape}"
        )
    if not backend.is_float_dtype(boxes.dtype):
        boxes = ops.cast(boxes, backend.floatx())
    if source == target:
        return boxes
    return _from_xyxy(*_to_xyxy(boxes, source), target)


def _to_xyxy(boxes, source):
    a, b, c, d = ops.unstack(boxes, num=4, axis=-1)
    if source == "xyxy":
        return a, b, c, d
    if source == "yxyx":
        return b, a, d, c
    if source == "xywh":
        return a, b, a + c, b + d
    return a - c / 2, b - d / 2, a + c / 2, b + d / 2


def _from_xyxy(x1, y1, x2, y2, target):
    if target == "xyxy":
        values = (x1, y1, x2, y2)
    elif target == "yxyx":
        values = (y1, x1, y2, x2)
    elif target == "xywh":
        values = (x1, y1, x2 - x1, y2 - y1)
    else:
        values = ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)
    return ops.stack(values, axis=-1)
