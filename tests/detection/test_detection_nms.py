import numpy as np
import pytest
import tensorflow as tf

from keras_recipes.detection import convert_boxes, non_max_suppression


def reference_iou(a, b):
    width = max(min(a[2], b[2]) - max(a[0], b[0]), 0.0)
    height = max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)
    intersection = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    union -= intersection
    return intersection / union if union > 0 else 0.0


def reference_nms(boxes, scores, classes, iou_threshold, score_threshold, limit):
    """Brute-force greedy suppression over Python floats."""
    boxes = boxes.tolist()
    classes = [0] * len(boxes) if classes is None else classes.tolist()
    order = sorted(
        (i for i in range(len(boxes)) if scores[i] >= score_threshold),
        key=lambda i: (-scores[i], i),
    )
    kept = []
    for i in order:
        if len(kept) == limit:
            break
        if all(
            classes[j] != classes[i]
            or reference_iou(boxes[i], boxes[j]) < iou_threshold
            for j in kept
        ):
            kept.append(i)
    return kept


def random_case(rng, num_boxes=60, num_classes=3):
    centers = rng.uniform(0, 400, size=(6, 2))[rng.integers(6, size=num_boxes)]
    centers += rng.normal(0, 6, size=(num_boxes, 2))
    sizes = rng.uniform(10, 60, size=(num_boxes, 2))
    boxes = np.concatenate([centers - sizes / 2, centers + sizes / 2], axis=1)
    scores = rng.uniform(size=num_boxes)
    classes = rng.integers(num_classes, size=num_boxes)
    return boxes.astype("float32"), scores.astype("float32"), classes


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("with_classes", [False, True])
def test_nms_matches_brute_force_reference(seed, with_classes):
    rng = np.random.default_rng(seed)
    boxes, scores, classes = random_case(rng)
    classes = classes if with_classes else None
    for iou_threshold, score_threshold, limit in [
        (0.5, 0.6, 100),
        (0.3, 0.0, 100),
        (0.7, 0.2, 5),
    ]:
        kept = non_max_suppression(
            boxes,
            scores,
            classes=classes,
            iou_threshold=iou_threshold,
            score_threshold=score_threshold,
            max_detections=limit,
        )
        expected = reference_nms(
            boxes, scores, classes, iou_threshold, score_threshold, limit
        )
        assert kept.numpy().tolist() == expected


def test_nms_reads_other_box_formats():
    boxes, scores, classes = random_case(np.random.default_rng(42))
    expected = non_max_suppression(boxes, scores, classes, score_threshold=0.0)
    for box_format in ("yxyx", "xywh", "center_xywh"):
        converted = convert_boxes(boxes, "xyxy", box_format)
        kept = non_max_suppression(
            converted, scores, classes, score_threshold=0.0, box_format=box_format
        )
        np.testing.assert_array_equal(kept, expected)


@pytest.mark.parametrize("classes", [None, np.array([1, 1, 1, 1])])
def test_nms_threshold_equality_follows_the_course(classes):
    # Box 1 covers half of box 0: IoU is exactly 0.5, so box 1 is suppressed.
    # Box 3 scores exactly the score threshold, so it is kept.
    boxes = np.array([[0, 0, 4, 1], [0, 0, 2, 1], [10, 10, 12, 12], [20, 20, 21, 21]])
    scores = np.array([0.9, 0.8, 0.59, 0.6], dtype="float32")
    kept = non_max_suppression(boxes, scores, classes=classes)
    assert kept.numpy().tolist() == [0, 3]


def test_nms_breaks_score_ties_by_lower_index_and_skips_other_classes():
    boxes = np.array([[50, 50, 60, 60], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 9, 10]])
    scores = np.array([0.7, 0.7, 0.7, 0.8])
    assert non_max_suppression(boxes, scores).numpy().tolist() == [3, 0]
    kept = non_max_suppression(boxes, scores, classes=np.array([0, 1, 2, 1]))
    assert kept.numpy().tolist() == [3, 0, 2]


def test_nms_handles_no_candidates_and_flipped_boxes():
    boxes = np.array([[0.0, 0.0, 10.0, 10.0], [10.0, 10.0, 0.0, 0.0]])
    kept = non_max_suppression(boxes, np.array([0.1, 0.2]))
    assert kept.numpy().tolist() == []
    # A flipped box is empty, as in box_iou, so it suppresses nothing.
    for classes in (None, np.array([0, 0])):
        kept = non_max_suppression(boxes, np.array([0.7, 0.9]), classes)
        assert kept.numpy().tolist() == [1, 0]


def test_nms_runs_inside_tf_function():
    boxes, scores, classes = random_case(np.random.default_rng(7))
    signature = [
        tf.TensorSpec([None, 4]),
        tf.TensorSpec([None]),
        tf.TensorSpec([None], tf.int64),
    ]

    @tf.function(input_signature=signature)
    def select(boxes, scores, classes):
        return (
            non_max_suppression(boxes, scores, score_threshold=0.1),
            non_max_suppression(boxes, scores, classes, score_threshold=0.1),
        )

    kept, kept_per_class = select(boxes, scores, classes)
    assert kept.numpy().tolist() == reference_nms(boxes, scores, None, 0.5, 0.1, 100)
    expected = reference_nms(boxes, scores, classes, 0.5, 0.1, 100)
    assert kept_per_class.numpy().tolist() == expected


def test_nms_rejects_bad_arguments():
    boxes, scores = np.zeros((3, 4)), np.zeros(3)
    with pytest.raises(ValueError, match="Received: iou_threshold=0"):
        non_max_suppression(boxes, scores, iou_threshold=0)
    with pytest.raises(ValueError, match="Received: max_detections=0"):
        non_max_suppression(boxes, scores, max_detections=0)
    with pytest.raises(ValueError, match="Received: box_format='xyx'"):
        non_max_suppression(boxes, scores, box_format="xyx")
    with pytest.raises(ValueError, match=r"Received: scores.shape=\(2,\)"):
        non_max_suppression(boxes, scores[:2])
    with pytest.raises(ValueError, match=r"Received: classes.shape=\(3, 1\)"):
        non_max_suppression(boxes, scores, classes=np.zeros((3, 1)))
