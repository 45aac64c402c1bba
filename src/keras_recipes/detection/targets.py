"""YOLO target encoding: each object goes to one grid cell and one anchor."""

import numpy as np

ASSIGNMENTS = ("single", "multi")
# With `"multi"` an anchor takes a box whose sides are within this factor of
# its own (YOLOv5's `anchor_t`).
ANCHOR_RATIO = 4.0


def xy_scale(assignment):
    """Returns how far past its cell a predicted centre reaches, per assignment.

    A centre is `(cell + xy_scale * sigmoid(t) - (xy_scale - 1) / 2) / S`:
    with `"single"` assignment it stays in its cell (`1.0`, YOLOv2); with
    `"multi"`, where the two nearest neighbours of a box's cell predict it
    too, it spans half a cell either side (`2.0`, YOLOv5).

    Args:
        assignment: `"single"` or `"multi"`.

    Returns:
        A float.

    Example:

    >>> xy_scale("multi")
    2.0
    """
    if assignment not in ASSIGNMENTS:
        raise ValueError(
            f"`assignment` must be one of {ASSIGNMENTS}. "
            f"Received: assignment={assignment!r}"
        )
    return 2.0 if assignment == "multi" else 1.0


def grid_shape(grid_size):
    """Returns `(rows, columns)` from an int or a pair.

    Args:
        grid_size: An int `S` for an `S x S` grid, or `(rows, columns)`.

    Returns:
        A tuple of two positive ints.

    Example:

    >>> grid_shape(12)
    (12, 12)
    """
    if isinstance(grid_size, (int, np.integer)) and not isinstance(grid_size, bool):
        grid_size = (grid_size, grid_size)
    grid_size = tuple(grid_size)
    if len(grid_size) != 2 or any(int(s) != s or s < 1 for s in grid_size):
        raise ValueError(
            "`grid_size` must be a positive int or (rows, columns). "
            f"Received: grid_size={grid_size}"
        )
    return int(grid_size[0]), int(grid_size[1])


def check_anchors(anchors):
    """Returns anchors as a float32 `[B, 2]` array of positive `(w, h)`.

    Args:
        anchors: Anchor widths and heights, shape `[B, 2]`.

    Returns:
        A NumPy float32 array `[B, 2]`.

    Example:

    >>> check_anchors([[10, 20], [30, 15]]).shape
    (2, 2)
    """
    array = np.asarray(anchors, dtype="float32")
    if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
        raise ValueError(
            f"`anchors` must have shape [B, 2] (width, height). Received: "
            f"anchors={np.asarray(anchors).tolist()}"
        )
    if not np.all(np.isfinite(array) & (array > 0)):
        raise ValueError(
            f"`anchors` must be positive. Received: anchors={array.tolist()}"
        )
    return array


def encode_yolo_targets(
    boxes,
    classes,
    grid_size,
    anchors,
    num_classes,
    image_size,
    assignment="single",
):
    """Encodes one image's boxes as the YOLO target grid `[S, S, B, 5 + C]`.

    Each object goes to the grid cell that holds its centre and, in that
    cell, to the anchor whose shape has the highest IoU with the object's
    (both placed at one corner). When that anchor is already taken by an
    earlier object of the same cell, the object takes the next best free
    anchor, so two objects in one cell use two anchors; when every anchor of
    the cell is taken the object is dropped. Objects are placed largest
    first.

    With `assignment="multi"` (YOLOv5) every object is then also given, in
    free slots only, every anchor whose width and height are both within a
    factor 4 of its own, in its cell and in the two neighbouring cells
    nearest its centre (left or right, above or below): three to nine slots
    learn each box instead of one. Such targets need the wider centres of
    `xy_scale("multi")` in the loss and the decoding.

    The last axis of an assigned slot is `[Pc=1, x, y, w, h, c_1 .. c_C]`,
    with the box centre and size relative to the image (0 to 1) and a
    one-hot class; every other slot is zero. (The deep-learning course
    writes `bh` before `bw`; here the box follows the `"center_xywh"` order.)

    Args:
        boxes: Array `[N, 4]` of `"xyxy"` boxes in pixels of the model input.
        classes: Integer array `[N]` of class ids in `[0, num_classes)`.
        grid_size: An int `S`, or `(rows, columns)`.
        anchors: Anchor `(w, h)` pairs in pixels, shape `[B, 2]`.
        num_classes: The number of classes `C`.
        image_size: `(height, width)` of the model input in pixels.
        assignment: `"single"` or `"multi"`. Defaults to `"single"`.

    Returns:
        A float32 NumPy array `[rows, columns, B, 5 + C]`.

    Example:

    >>> target = encode_yolo_targets(
    ...     boxes=[[0, 0, 16, 32]], classes=[1], grid_size=2,
    ...     anchors=[[16, 16], [16, 32]], num_classes=2, image_size=(64, 64))
    >>> target[0, 0, 1].tolist()
    [1.0, 0.125, 0.25, 0.25, 0.5, 0.0, 1.0]
    """
    rows, columns = grid_shape(grid_size)
    anchors = check_anchors(anchors)
    height, width = image_size
    boxes = np.asarray(boxes, dtype="float64").reshape(-1, 4)
    classes = np.asarray(classes).reshape(-1)
    if len(classes) != len(boxes):
        raise ValueError(
            "`classes` must have one entry per box. "
            f"Received: {len(classes)} classes for {len(boxes)} boxes"
        )
    if len(classes) and (classes.min() < 0 or classes.max() >= num_classes):
        raise ValueError(
            f"`classes` must lie in [0, {num_classes}). "
            f"Received: classes={classes.tolist()}"
        )
    target = np.zeros((rows, columns, len(anchors), 5 + num_classes), "float32")
    sizes = np.maximum(boxes[:, 2:] - boxes[:, :2], 0.0)
    centers = (boxes[:, :2] + boxes[:, 2:]) / 2
    relative = np.concatenate([centers, sizes], axis=1) / [width, height, width, height]
    intersection = np.prod(np.minimum(sizes[:, None], anchors[None]), axis=-1)
    union = np.prod(sizes, axis=1)[:, None] + np.prod(anchors, axis=1) - intersection
    shape_iou = intersection / np.maximum(union, 1e-12)
    order = np.argsort(-np.prod(sizes, axis=1), kind="stable")
    grid_xy = relative[:, :2] * [columns, rows]
    cells = np.minimum(np.maximum(np.floor(grid_xy), 0), [columns - 1, rows - 1])
    cells = cells.astype(int)

    def place(index, row, column, anchor):
        slot = target[row, column, anchor]
        if slot[0] != 0:
            return False
        slot[0] = 1.0
        slot[1:5] = relative[index]
        slot[5 + int(classes[index])] = 1.0
        return True

    for index in order:
        column, row = cells[index]
        for anchor in np.argsort(-shape_iou[index], kind="stable"):
            if place(index, row, column, anchor):
                break
    if xy_scale(assignment) == 1.0:
        return target
    ratio = sizes[:, None] / anchors[None]
    ratio = np.maximum(ratio, 1 / np.maximum(ratio, 1e-12)).max(axis=-1)
    for index in order:
        column, row = cells[index]
        fraction = grid_xy[index] - cells[index]
        step_x = -1 if fraction[0] < 0.5 else 1
        step_y = -1 if fraction[1] < 0.5 else 1
        neighbours = [(row, column), (row, column + step_x), (row + step_y, column)]
        for cell_row, cell_column in neighbours:
            if not (0 <= cell_row < rows and 0 <= cell_column < columns):
                continue
            for anchor in np.flatnonzero(ratio[index] < ANCHOR_RATIO):
                place(index, cell_row, cell_column, anchor)
    return target


def encode_yolo_batch(
    annotations, grid_size, anchors, num_classes, image_size, assignment="single"
):
    """Encodes the boxes of many images with `encode_yolo_targets`.

    Args:
        annotations: List of dicts with `"boxes"` (`"xyxy"` pixels) and
            `"classes"`, one per image.
        grid_size: An int `S`, or `(rows, columns)`.
        anchors: Anchor `(w, h)` pairs in pixels, shape `[B, 2]`.
        num_classes: The number of classes.
        image_size: `(height, width)` of the model input in pixels.
        assignment: `"single"` or `"multi"`, as in `encode_yolo_targets`.
            Defaults to `"single"`.

    Returns:
        A float32 NumPy array `[N, rows, columns, B, 5 + C]`.

    Example:

    ```python
    targets = encode_yolo_batch(y_train, 12, anchors, 3, (96, 96))
    ```
    """
    rows, columns = grid_shape(grid_size)
    targets = np.zeros(
        (len(annotations), rows, columns, len(anchors), 5 + num_classes), "float32"
    )
    for i, annotation in enumerate(annotations):
        targets[i] = encode_yolo_targets(
            annotation["boxes"],
            annotation["classes"],
            grid_size,
            anchors,
            num_classes,
            image_size,
            assignment,
        )
    return targets


def decode_yolo_targets(target, image_size):
    """Reads the boxes and classes back from one encoded target grid.

    Targets of `assignment="multi"` give each box once per slot it holds.

    Args:
        target: Array `[rows, columns, B, 5 + C]` from `encode_yolo_targets`.
        image_size: `(height, width)` of the model input in pixels.

    Returns:
        A dict with `"boxes"` (`[N, 4]` `"xyxy"` pixels) and `"classes"`
        (`[N]` int32), in grid order.

    Example:

    ```python
    decode_yolo_targets(encode_yolo_targets(boxes, classes, ...), (96, 96))
    ```
    """
    target = np.asarray(target)
    slots = target[target[..., 0] > 0.5]
    height, width = image_size
    centers = slots[:, 1:3] * [width, height]
    sizes = slots[:, 3:5] * [width, height]
    boxes = np.concatenate([centers - sizes / 2, centers + sizes / 2], axis=1)
    return {
        "boxes": boxes.astype("float32"),
        "classes": slots[:, 5:].argmax(axis=1).astype("int32"),
    }
