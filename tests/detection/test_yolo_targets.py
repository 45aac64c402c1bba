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
