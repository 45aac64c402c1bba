import numpy as np
import pytest

from keras_recipes.data.shapes import load_shapes
from keras_recipes.detection import (
    decode_yolo_targets,
    encode_yolo_batch,
    encode_yolo_targets,
)

ANCHORS = np.array([[16, 16], [10, 30], [30, 10]], "float32")
SIZE = (96, 96)


def test_object_goes_to_its_centre_cell_and_best_shaped_anchor():
    # Centre (50, 20) lies in column 50 // 8 = 6, row 20 // 8 = 2; the box is
    # tall (8 x 28), so the tall anchor (10 x 30) fits it best.
    target = encode_yolo_targets([[46, 6, 54, 34]], [2], 12, ANCHORS, 3, SIZE)
    assert target.shape == (12, 12, 3, 8)
    assert np.argwhere(target[..., 0] == 1).tolist() == [[2, 6, 1]]
    np.testing.assert_allclose(
        target[2, 6, 1], [1, 50 / 96, 20 / 96, 8 / 96, 28 / 96, 0, 0, 1], rtol=1e-6
    )
    assert target.sum() == pytest.approx(target[2, 6, 1].sum())


def test_two_objects_in_one_cell_use_two_anchors():
    # A tall and a wide box crossing at the same centre: the pedestrian and
    # the car of the course.
    boxes = [[45, 35, 55, 65], [35, 45, 65, 55]]
    target = encode_yolo_targets(boxes, [0, 1], 12, ANCHORS, 3, SIZE)
    assert np.argwhere(target[..., 0] == 1).tolist() == [[6, 6, 1], [6, 6, 2]]
    assert target[6, 6, 1, 5:].tolist() == [1, 0, 0]
    assert target[6, 6, 2, 5:].tolist() == [0, 1, 0]


def test_same_shape_in_one_cell_takes_the_next_free_anchor_then_drops():
    boxes = [[40, 40, 56, 56], [41, 41, 55, 55], [42, 42, 54, 54], [43, 43, 53, 53]]
    target = encode_yolo_targets(boxes, [0, 1, 2, 0], 12, ANCHORS, 3, SIZE)
    assert target[..., 0].sum() == 3  # three anchors, the fourth object dropped
    # Largest first: the 16x16 box keeps the square anchor.
    assert target[6, 6, 0, 3] == pytest.approx(16 / 96)


def test_encoding_round_trips_on_shapes():
    (_, _), (images, annotations), _ = load_shapes(0, 40)
    targets = encode_yolo_batch(annotations, 12, ANCHORS, 3, SIZE)
    dropped = 0
    for target, truth in zip(targets, annotations, strict=True):
        decoded = decode_yolo_targets(target, SIZE)
        dropped += len(truth["boxes"]) - len(decoded["boxes"])
        for box, label in zip(decoded["boxes"], decoded["classes"], strict=True):
            match = np.abs(truth["boxes"] - box).max(axis=1).argmin()
            np.testing.assert_allclose(truth["boxes"][match], box, atol=1e-4)
            assert truth["classes"][match] == label
    assert dropped == 0


def test_boxes_on_the_far_border_stay_in_the_last_cell():
    target = encode_yolo_targets([[80, 80, 96, 96]], [0], 12, ANCHORS, 3, SIZE)
    assert target[11, 11, 0, 0] == 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"classes": [3]}, "classes"),
        ({"anchors": [[1, 2, 3]]}, "anchors"),
        ({"anchors": [[0, 2]]}, "anchors"),
        ({"grid_size": 0}, "grid_size"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    arguments = {
        "boxes": [[0, 0, 10, 10]],
        "classes": [0],
        "grid_size": 12,
        "anchors": ANCHORS,
        "num_classes": 3,
        "image_size": SIZE,
    }
    with pytest.raises(ValueError, match=message):
        encode_yolo_targets(**{**arguments, **kwargs})


def _expected_multi_slots(box, anchors, grid, size):
    """The slots `"multi"` gives one box when no other box competes."""
    rows, columns = grid
    height, width = size
    cx = (box[0] + box[2]) / 2 / width * columns
    cy = (box[1] + box[3]) / 2 / height * rows
    column, row = int(cx), int(cy)
    cells = {(row, column)}
    cells.add((row, column + (1 if cx - column >= 0.5 else -1)))
    cells.add((row + (1 if cy - row >= 0.5 else -1), column))
    w, h = box[2] - box[0], box[3] - box[1]
    best = max(
        range(len(anchors)),
        key=lambda a: (
            min(w, anchors[a][0])
            * min(h, anchors[a][1])
            / (
                w * h
                + anchors[a][0] * anchors[a][1]
                - min(w, anchors[a][0]) * min(h, anchors[a][1])
            )
        ),
    )
    slots = {(row, column, best)}
    for a, (pw, ph) in enumerate(anchors):
        if max(w / pw, pw / w, h / ph, ph / h) < 4:
            slots |= {(r, c, a) for r, c in cells if 0 <= r < rows and 0 <= c < columns}
    return slots


@pytest.mark.parametrize("seed", range(6))
def test_multi_assignment_gives_each_box_its_cells_and_fitting_anchors(seed):
    rng = np.random.default_rng(seed)
    anchors = np.array([[6, 6], [12, 30], [40, 14], [60, 60]], "float32")
    size, grid = (96, 128), (6, 8)
    # One box in each quadrant, far enough apart that no slot is shared.
    boxes = []
    for top, left in ((0, 0), (0, 64), (48, 0), (48, 64)):
        w, h = rng.uniform(4, 40), rng.uniform(4, 30)
        x, y = left + rng.uniform(20, 44), top + rng.uniform(16, 32)
        boxes.append([x - w / 2, y - h / 2, x + w / 2, y + h / 2])
    classes = rng.integers(0, 3, 4)
    target = encode_yolo_targets(
        boxes, classes, grid, anchors, 3, size, assignment="multi"
    )
    held = {tuple(slot) for slot in np.argwhere(target[..., 0] == 1)}
    expected = set()
    for index, box in enumerate(boxes):
        slots = _expected_multi_slots(box, anchors, grid, size)
        expected |= slots
        for slot in slots:
            x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            relative = [
                x / 128,
                y / 96,
                (box[2] - box[0]) / 128,
                (box[3] - box[1]) / 96,
            ]
            np.testing.assert_allclose(target[slot][1:5], relative, rtol=1e-5)
            assert target[slot][5:].argmax() == classes[index]
    assert held == expected
    single = encode_yolo_targets(boxes, classes, grid, anchors, 3, size)
    # Every box's own slot is the one single assignment gives it.
    assert {tuple(s) for s in np.argwhere(single[..., 0] == 1)} <= held
