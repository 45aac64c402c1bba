import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_recipes.detection import (
    YoloDetections,
    decode_yolo_output,
    detection_model,
    detections_to_list,
    yolo_detections,
    yolo_detector,
)

ANCHORS = np.array([[10, 10], [6, 18], [18, 6]], "float32")
SIZE = (48, 64)  # height, width: a 3 x 4 grid of 16-pixel cells


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def reference_decode(outputs, xy_scale=1.0):
    """Boxes (xyxy pixels) and scores [N, C] of one image, slot by slot."""
    rows, columns, count, _ = outputs.shape
    boxes, scores = [], []
    for r in range(rows):
        for c in range(columns):
            for b in range(count):
                o = outputs[r, c, b].astype("float64")
                # YOLOv4's grid-sensitivity form: s * sigmoid - (s - 1) / 2.
                dx = xy_scale * _sigmoid(o[1]) - (xy_scale - 1) / 2
                dy = xy_scale * _sigmoid(o[2]) - (xy_scale - 1) / 2
                x = (c + dx) / columns * SIZE[1]
                y = (r + dy) / rows * SIZE[0]
                w, h = np.exp(o[3:5]) * ANCHORS[b]
                boxes.append([x - w / 2, y - h / 2, x + w / 2, y + h / 2])
                p = np.exp(o[5:] - o[5:].max())
                scores.append(_sigmoid(o[0]) * p / p.sum())
    return np.array(boxes), np.array(scores)


def _iou(a, b):
    width = max(min(a[2], b[2]) - max(a[0], b[0]), 0.0)
    height = max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def reference_detections(outputs, score_threshold, iou_threshold, clip=True):
    """Threshold, then greedy NMS in each class, best first: plain loops."""
    boxes, scores = reference_decode(outputs)
    if clip:
        boxes = np.clip(boxes, 0, [SIZE[1], SIZE[0]] * 2)
    kept = []
    for label in range(scores.shape[1]):
        order = sorted(
            (i for i in range(len(boxes)) if scores[i, label] >= score_threshold),
            key=lambda i: -scores[i, label],
        )
        chosen = []
        for i in order:
            if all(_iou(boxes[i], boxes[j]) < iou_threshold for j in chosen):
                chosen.append(i)
        kept += [(scores[i, label], label, boxes[i]) for i in chosen]
    kept.sort(key=lambda item: -item[0])
    return kept


def random_outputs(seed, batch=4):
    rng = np.random.default_rng(seed)
    outputs = rng.normal(0, 1, size=(batch, 3, 4, 3, 5 + 2)).astype("float32")
    outputs[..., 0] += 1.0
    outputs[..., 5:] *= 3
    return outputs


@pytest.mark.parametrize("xy_scale", [1.0, 2.0])
def test_decode_equals_the_formula(xy_scale):
    outputs = random_outputs(0)
    decoded = decode_yolo_output(outputs, ANCHORS, SIZE, xy_scale)
    for image in range(len(outputs)):
        boxes, scores = reference_decode(outputs[image], xy_scale)
        np.testing.assert_allclose(
            np.asarray(decoded["boxes"][image]).reshape(-1, 4), boxes, atol=1e-4
        )
        score = np.asarray(decoded["objectness"][image])[..., None] * np.asarray(
            decoded["class_probabilities"][image]
        )
        np.testing.assert_allclose(score.reshape(-1, 2), scores, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("thresholds", [(0.6, 0.5), (0.2, 0.3), (0.05, 0.7)])
def test_detections_equal_threshold_and_per_class_nms(seed, thresholds):
    score_threshold, iou_threshold = thresholds
    outputs = random_outputs(seed)
    found = detections_to_list(
        yolo_detections(outputs, ANCHORS, SIZE, score_threshold, iou_threshold)
    )
    for image, result in zip(outputs, found, strict=True):
        expected = reference_detections(image, score_threshold, iou_threshold)
        assert len(result["scores"]) == len(expected)
        np.testing.assert_allclose(
            result["scores"], [e[0] for e in expected], rtol=1e-5
        )
        assert result["classes"].tolist() == [e[1] for e in expected]
        np.testing.assert_allclose(
            result["boxes"],
            np.array([e[2] for e in expected]).reshape(-1, 4),
            rtol=1e-4,
            atol=1e-3,
        )


def test_boxes_stay_in_pixels_without_clipping():
    # TensorFlow's combined NMS clips to [0, 1] by default; pixels must survive.
    outputs = random_outputs(1)
    outputs[..., 3:5] = 2.0  # boxes wider than the image
    found = detections_to_list(
        yolo_detections(outputs, ANCHORS, SIZE, 0.0, 1.0, clip_boxes=False)
    )
    expected = reference_detections(outputs[0], 0.0, 1.0, clip=False)
    widths = found[0]["boxes"][:, 2] - found[0]["boxes"][:, 0]
    assert widths.max() > 64
    assert widths.max() == pytest.approx(max(e[2][2] - e[2][0] for e in expected))
    clipped = detections_to_list(yolo_detections(outputs, ANCHORS, SIZE, 0.0, 1.0))
    assert clipped[0]["boxes"].min() >= 0
    assert (
        clipped[0]["boxes"][:, 2].max() <= 64 and clipped[0]["boxes"][:, 3].max() <= 48
    )


def test_max_detections_keeps_the_best():
    outputs = random_outputs(2)
    everything = detections_to_list(yolo_detections(outputs, ANCHORS, SIZE, 0.0, 0.5))
    top = detections_to_list(
        yolo_detections(outputs, ANCHORS, SIZE, 0.0, 0.5, max_detections=3)
    )
    for full, best in zip(everything, top, strict=True):
        np.testing.assert_allclose(best["scores"], full["scores"][:3])


def test_saved_model_returns_the_same_detections(tmp_path):
    model = yolo_detector(
        input_shape=(32, 32, 3),
        anchors=ANCHORS,
        num_classes=2,
        filters=(4, 8),
        head_filters=8,
    )
    # Biases that make every slot a confident detection.
    head = model.get_layer("head_output")
    kernel, bias = head.get_weights()
    head.set_weights([kernel, bias + np.tile([8.0, 0, 0, 0, 0, 0, 0], 3)])
    images = np.random.default_rng(0).uniform(0, 255, (3, 32, 32, 3)).astype("float32")
    expected = yolo_detections(
        model.predict(images, verbose=0), ANCHORS, (32, 32), 0.3, 0.5, 20
    )
    detector = detection_model(
        model, ANCHORS, score_threshold=0.3, iou_threshold=0.5, max_detections=20
    )
    direct = detector(images)
    detector.export(str(tmp_path / "saved"), verbose=False)
    loaded = tf.saved_model.load(str(tmp_path / "saved"))
    served = loaded.serve(images)
    assert int(np.asarray(expected["num_detections"]).sum()) > 3
    for result in (direct, served):
        for key in ("boxes", "scores", "classes", "num_detections"):
            np.testing.assert_allclose(
                np.asarray(result[key]), np.asarray(expected[key]), rtol=1e-4, atol=1e-3
            )


def test_detections_layer_round_trips(tmp_path):
    model = yolo_detector(
        input_shape=(32, 32, 3),
        anchors=ANCHORS,
        num_classes=2,
        filters=(4, 8),
        head_filters=8,
    )
    detector = detection_model(
        model, ANCHORS, score_threshold=0.0, max_detections=7, xy_scale=2.0
    )
    detector.save(tmp_path / "detector.keras")
    again = keras.saving.load_model(tmp_path / "detector.keras")
    layer = again.get_layer("yolo_detections")
    assert isinstance(layer, YoloDetections)
    assert layer.max_detections == 7 and layer.anchors == ANCHORS.tolist()
    assert layer.xy_scale == 2.0
    images = np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 3))
    images = images.astype("float32")
    expected = yolo_detections(
        model(images), ANCHORS, (32, 32), 0.0, 0.5, 7, xy_scale=2.0
    )
    for key in ("scores", "boxes"):
        np.testing.assert_allclose(
            np.asarray(again(images)[key]), np.asarray(expected[key]), rtol=1e-5
        )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"iou_threshold": 0}, "iou_threshold"),
        ({"max_detections": 0}, "max_detections"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        yolo_detections(random_outputs(0), ANCHORS, SIZE, **kwargs)


def test_anchor_count_must_match():
    with pytest.raises(ValueError, match="anchors"):
        decode_yolo_output(random_outputs(0), ANCHORS[:2], SIZE)
