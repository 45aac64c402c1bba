"""The portable NMS the exported detectors hold selects what TensorFlow's does."""

import numpy as np
import pytest
import tensorflow as tf

from keras_recipes.detection import batched_class_nms, yolo_detections

ANCHORS = np.array([[15.5, 15.8], [34.6, 18.0], [18.2, 34.4]], "float32")
SIZE = (96, 96)


def _outputs(count, seed=0):
    """Raw outputs of a detector part way through training: a few objects."""
    rng = np.random.default_rng(seed)
    outputs = rng.normal(0, 1, size=(count, 12, 12, 3, 8)).astype("float32")
    outputs[..., 0] = rng.normal(-5, 2, size=outputs.shape[:-1])
    objects = rng.uniform(size=outputs.shape[:-1]) < 0.04
    outputs[..., 0][objects] = rng.normal(3, 1.5, size=objects.sum())
    outputs[..., 5:] *= 3
    return outputs


@pytest.mark.parametrize("threshold, limit", [(0.01, 100), (0.6, 100), (0.3, 7)])
def test_portable_nms_equals_combined_nms(threshold, limit):
    outputs = tf.constant(_outputs(16))

    @tf.function
    def both(batch):
        return [
            yolo_detections(batch, ANCHORS, SIZE, threshold, 0.5, limit, nms=method)
            for method in ("combined", "portable")
        ]

    combined, portable = both(outputs)
    counts = combined["num_detections"].numpy()
    assert counts.max() > 1
    assert counts.tolist() == portable["num_detections"].numpy().tolist()
    for key in ("boxes", "scores", "classes"):
        np.testing.assert_array_equal(portable[key].numpy(), combined[key].numpy())


def test_suppression_stays_within_a_class_and_thresholds_are_inclusive():
    boxes = np.array([[[0, 0, 10, 10], [0, 0, 10, 20], [0, 0, 0, 5]]], "float32")
    # Box 1 overlaps box 0 with an IoU of exactly 0.5; box 2 has no area.
    scores = np.array([[[0.9, 0.0], [0.6, 0.8], [0.7, 0.0]]], "float32")
    found = batched_class_nms(boxes, scores, 0.5, 0.6, max_detections=4)
    count = int(found["num_detections"][0])
    # (0, class 0), (1, class 1), (2, class 0): box 1's class-0 score is
    # removed by box 0 (IoU 0.5 >= 0.5); its class-1 score of 0.8 stays.
    assert count == 3
    assert found["classes"][0, :count].numpy().tolist() == [0, 1, 0]
    np.testing.assert_allclose(found["scores"][0].numpy(), [0.9, 0.8, 0.7, 0])
    assert not found["boxes"][0, count:].numpy().any()


def test_nothing_above_the_threshold_gives_zeros():
    boxes = tf.zeros((2, 5, 4))
    found = batched_class_nms(boxes, tf.fill((2, 5, 3), 0.1), 0.5, 0.6, 10)
    assert found["num_detections"].numpy().tolist() == [0, 0]
    assert not found["scores"].numpy().any()
