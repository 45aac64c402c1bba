import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import ops

from keras_recipes.detection import BOX_FORMATS, convert_boxes

XYXY = np.array([[10.0, 20.0, 50.0, 40.0], [-4.0, 0.0, 0.0, 6.0]])
EXPECTED = {
    "xyxy": XYXY,
    "yxyx": np.array([[20.0, 10.0, 40.0, 50.0], [0.0, -4.0, 6.0, 0.0]]),
    "xywh": np.array([[10.0, 20.0, 40.0, 20.0], [-4.0, 0.0, 4.0, 6.0]]),
    "center_xywh": np.array([[30.0, 30.0, 40.0, 20.0], [-2.0, 3.0, 4.0, 6.0]]),
}


@pytest.mark.parametrize("source", BOX_FORMATS)
@pytest.mark.parametrize("target", BOX_FORMATS)
def test_convert_boxes_matches_hand_values(source, target):
    converted = convert_boxes(EXPECTED[source], source, target)
    np.testing.assert_allclose(ops.convert_to_numpy(converted), EXPECTED[target])


def test_convert_boxes_keeps_leading_axes_and_accepts_tensors():
    boxes = tf.constant(np.tile(XYXY, (3, 1, 1)), dtype=tf.float32)
    converted = convert_boxes(boxes, "xyxy", "xywh")
    assert tuple(converted.shape) == (3, 2, 4)
    np.testing.assert_allclose(converted.numpy()[2], EXPECTED["xywh"])


def test_convert_boxes_casts_integers_to_float():
    converted = convert_boxes(np.array([[0, 0, 3, 3]]), "xyxy", "center_xywh")
    assert converted.dtype == tf.float32
    np.testing.assert_allclose(converted.numpy(), [[1.5, 1.5, 3.0, 3.0]])


def test_convert_boxes_rejects_bad_arguments():
    with pytest.raises(ValueError, match="Received: source='xyz'"):
        convert_boxes(XYXY, "xyz", "xyxy")
    with pytest.raises(ValueError, match="Received: target='cxcywh'"):
        convert_boxes(XYXY, "xyxy", "cxcywh")
    with pytest.raises(ValueError, match=r"Received: boxes.shape=\(2, 3\)"):
        convert_boxes(XYXY[:, :3], "xyxy", "yxyx")


coordinates = st.floats(-1000, 1000, allow_nan=False)
sizes = st.floats(0, 1000, allow_nan=False)
xyxy_boxes = st.lists(st.tuples(coordinates, coordinates, sizes, sizes), max_size=5)


@settings(max_examples=40, deadline=None)
@given(xyxy_boxes, st.sampled_from(BOX_FORMATS), st.sampled_from(BOX_FORMATS))
def test_convert_boxes_round_trips(rows, source, target):
    xyxy = np.array([[x, y, x + w, y + h] for x, y, w, h in rows]).reshape(-1, 4)
    boxes = ops.convert_to_numpy(convert_boxes(xyxy, "xyxy", source))
    there = convert_boxes(boxes, source, target)
    back = ops.convert_to_numpy(convert_boxes(there, target, source))
    np.testing.assert_allclose(back, boxes, rtol=0, atol=1e-9)
