import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_recipes.detection import YoloLoss, encode_yolo_targets
from keras_recipes.detection.targets import xy_scale

ANCHORS = np.array([[12, 12], [8, 24], [24, 8]], "float32")
SIZE = (64, 64)
GRID = 4
WEIGHTS = {
    "coord_weight": 5.0,
    "object_weight": 1.3,
    "noobj_weight": 0.5,
    "class_weight": 0.7,
    "ignore_threshold": 0.4,
}


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _bce(label, logit):
    p = _sigmoid(logit)
    return -(label * np.log(p) + (1 - label) * np.log(1 - p))


def _iou(a, b):
    width = max(min(a[2], b[2]) - max(a[0], b[0]), 0.0)
    height = max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _variant(a, b, kind):
    """IoU, GIoU, DIoU or CIoU of two `xyxy` boxes, from the papers' formulas."""
    iou = _iou(a, b)
    if kind == "iou":
        return iou
    left, top = min(a[0], b[0]), min(a[1], b[1])
    right, bottom = max(a[2], b[2]), max(a[3], b[3])
    if kind == "giou":
        union = _area(a) + _area(b) - _intersection(a, b)
        hull = (right - left) * (bottom - top)
        return iou - (hull - union) / hull
    rho2 = ((a[0] + a[2]) / 2 - (b[0] + b[2]) / 2) ** 2 + (
        (a[1] + a[3]) / 2 - (b[1] + b[3]) / 2
    ) ** 2
    c2 = (right - left) ** 2 + (bottom - top) ** 2
    if kind == "diou":
        return iou - rho2 / c2
    v = (
        4
        / math.pi**2
        * (
            math.atan((b[2] - b[0]) / (b[3] - b[1]))
            - math.atan((a[2] - a[0]) / (a[3] - a[1]))
        )
        ** 2
    )
    return iou - rho2 / c2 - v / (1 - iou + v) * v


def _area(box):
    return (box[2] - box[0]) * (box[3] - box[1])


def _intersection(a, b):
    width = max(min(a[2], b[2]) - max(a[0], b[0]), 0.0)
    height = max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)
    return width * height


def reference_loss(
    target, output, box_loss="squared", objectness_target="one", xy_scale=1.0
):
    """The YOLO loss of one image, slot by slot in float64."""
    target, output = target.astype("float64"), output.astype("float64")
    rows, columns, count = target.shape[:3]
    anchors = ANCHORS / [SIZE[1], SIZE[0]]
    truths = [
        (s[1] - s[3] / 2, s[2] - s[4] / 2, s[1] + s[3] / 2, s[2] + s[4] / 2)
        for s in target.reshape(-1, target.shape[-1])
        if s[0] == 1
    ]
    total = 0.0
    for r in range(rows):
        for c in range(columns):
            for b in range(count):
                t, o = target[r, c, b], output[r, c, b]
                shift = (xy_scale - 1) / 2
                dx, dy = xy_scale * _sigmoid(o[1:3]) - shift
                x, y = (c + dx) / columns, (r + dy) / rows
                w, h = np.exp(o[3:5]) * anchors[b]
                box = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
                if t[0] == 1:
                    if box_loss == "squared":
                        offset = np.clip(
                            [t[1] * columns - c, t[2] * rows - r], -shift, 1 + shift
                        )
                        xy = (dx - offset[0]) ** 2 + (dy - offset[1]) ** 2
                        log_wh = np.log(np.maximum(t[3:5], 1e-6) / anchors[b])
                        wh = sum((o[3 + i] - log_wh[i]) ** 2 for i in range(2))
                        coordinates = (2 - t[3] * t[4]) * (xy + wh)
                    else:
                        truth = (t[1] - t[3] / 2, t[2] - t[4] / 2)
                        truth += (t[1] + t[3] / 2, t[2] + t[4] / 2)
                        pixels = [SIZE[1], SIZE[0]] * 2
                        coordinates = 1 - _variant(
                            np.multiply(box, pixels),
                            np.multiply(truth, pixels),
                            box_loss,
                        )
                    total += WEIGHTS["coord_weight"] * coordinates
                    label = 1.0
                    if objectness_target == "iou":
                        label = _iou(box, truth_box(t))
                    total += WEIGHTS["object_weight"] * _bce(label, o[0])
                    logits = o[5:] - o[5:].max()
                    log_p = logits - np.log(np.exp(logits).sum())
                    total -= WEIGHTS["class_weight"] * (t[5:] * log_p).sum()
                else:
                    best = max((_iou(box, truth) for truth in truths), default=0)
                    if best < WEIGHTS["ignore_threshold"]:
                        total += WEIGHTS["noobj_weight"] * _bce(0, o[0])
    return total


def truth_box(slot):
    """The `xyxy` box, relative to the image, of an assigned target slot."""
    x, y, w, h = slot[1:5]
    return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)


def random_case(seed, batch=3, assignment="single"):
    rng = np.random.default_rng(seed)
    targets = []
    for _ in range(batch):
        count = rng.integers(1, 5)
        centers = rng.uniform(8, 56, size=(count, 2))
        sizes = rng.uniform(4, 30, size=(count, 2))
        boxes = np.concatenate([centers - sizes / 2, centers + sizes / 2], 1)
        boxes = np.clip(boxes, 0, 64)
        classes = rng.integers(3, size=count)
        targets.append(
            encode_yolo_targets(
                boxes, classes, GRID, ANCHORS, 3, SIZE, assignment=assignment
            )
        )
    targets = np.stack(targets)
    outputs = rng.normal(0, 1.5, size=targets.shape).astype("float32")
    # Some predictions sit right on their true boxes, so the ignore rule acts.
    outputs[..., 3:5] += rng.uniform(-0.3, 0.3, size=outputs[..., 3:5].shape)
    return targets, outputs


@pytest.mark.parametrize("seed", range(4))
def test_loss_equals_slot_by_slot_reference(seed):
    targets, outputs = random_case(seed)
    loss = YoloLoss(ANCHORS, SIZE, reduction=None, **WEIGHTS)
    values = keras.ops.convert_to_numpy(loss(targets, outputs))
    expected = [reference_loss(t, o) for t, o in zip(targets, outputs, strict=True)]
    np.testing.assert_allclose(values, expected, rtol=2e-4)


@pytest.mark.parametrize(
    "box_loss, objectness_target, assignment",
    [
        ("giou", "one", "single"),
        ("diou", "iou", "single"),
        ("ciou", "iou", "multi"),
        ("squared", "iou", "multi"),
    ],
)
def test_iou_box_losses_and_objectness_equal_the_reference(
    box_loss, objectness_target, assignment
):
    targets, outputs = random_case(11, assignment=assignment)
    scale = xy_scale(assignment)
    loss = YoloLoss(
        ANCHORS,
        SIZE,
        reduction=None,
        box_loss=box_loss,
        objectness_target=objectness_target,
        xy_scale=scale,
        **WEIGHTS,
    )
    values = keras.ops.convert_to_numpy(loss(targets, outputs))
    expected = [
        reference_loss(t, o, box_loss, objectness_target, scale)
        for t, o in zip(targets, outputs, strict=True)
    ]
    np.testing.assert_allclose(values, expected, rtol=2e-4)


def test_ignore_threshold_spares_a_good_box_without_an_object():
    # All three anchors of the object's cell predict its box exactly; only the
    # assigned one is an object, the other two are ignored rather than pushed
    # towards 0. The 45 remaining slots of the 4 x 4 x 3 grid are penalised.
    target = encode_yolo_targets([[20, 20, 32, 32]], [0], GRID, ANCHORS, 3, SIZE)
    output = np.full(target.shape, -2.0, "float32")
    output[1, 1, :, 1:3] = np.log(0.625 / 0.375)  # centre (26, 26)
    output[1, 1, :, 3:5] = np.log(12 / ANCHORS)  # 12 x 12
    loss = YoloLoss(ANCHORS, SIZE, reduction=None)
    no_object = float(loss.components(target[None], output[None])["no_object"][0])
    assert no_object == pytest.approx(45 * 0.5 * _bce(0, -2.0), rel=1e-5)
    # Moved half a box away (IoU 1/3), they are penalised again.
    output[1, 1, 1:, 1:3] = 0.0  # centre (24, 24)
    output[1, 1, 1:, 3:5] = np.log(12 / ANCHORS[1:]) + np.log(2)  # 24 x 24
    no_object = float(loss.components(target[None], output[None])["no_object"][0])
    assert no_object == pytest.approx(47 * 0.5 * _bce(0, -2.0), rel=1e-5)


@pytest.mark.parametrize("box_loss", ["squared", "giou", "ciou"])
def test_loss_and_gradient_stay_finite(box_loss):
    targets, outputs = random_case(7)
    # Zero-size boxes: a point and a line.
    targets[0, 1, 1, 0, :5] = [1, 0.3, 0.3, 0.0, 0.0]
    targets[1, 2, 2, 1, :5] = [1, 0.6, 0.6, 0.0, 0.2]
    loss = YoloLoss(ANCHORS, SIZE, box_loss=box_loss, objectness_target="iou")
    for scale in (1.0, 1e3, 1e4):
        for sign in (1.0, -1.0):
            logits = tf.Variable(np.sign(outputs) * scale * sign)
            with tf.GradientTape() as tape:
                value = loss(targets, logits)
            gradient = tape.gradient(value, logits)
            assert np.isfinite(value.numpy()), (scale, sign)
            assert np.all(np.isfinite(gradient.numpy())), (scale, sign)


def test_perfect_prediction_costs_almost_nothing():
    target = encode_yolo_targets([[20, 20, 32, 42]], [2], GRID, ANCHORS, 3, SIZE)
    output = np.full(target.shape, -30.0, "float32")
    cell = target[..., 0] == 1
    ((r, c, b),) = np.argwhere(cell)
    offset = np.array([target[r, c, b, 1] * GRID - c, target[r, c, b, 2] * GRID - r])
    output[r, c, b, 0] = 30.0
    output[r, c, b, 1:3] = np.log(offset / (1 - offset))
    output[r, c, b, 3:5] = np.log(target[r, c, b, 3:5] * 64 / ANCHORS[b])
    output[r, c, b, 5:] = [-30, -30, 30]
    value = float(YoloLoss(ANCHORS, SIZE)(target[None], output[None]))
    assert value < 1e-4


def test_config_round_trip():
    loss = YoloLoss(ANCHORS, SIZE, **WEIGHTS)
    again = YoloLoss.from_config(loss.get_config())
    targets, outputs = random_case(3)
    assert float(again(targets, outputs)) == pytest.approx(
        float(loss(targets, outputs))
    )


def test_bad_weights_raise():
    with pytest.raises(ValueError, match="noobj_weight"):
        YoloLoss(ANCHORS, SIZE, noobj_weight=-1)
    with pytest.raises(ValueError, match="ignore_threshold"):
        YoloLoss(ANCHORS, SIZE, ignore_threshold=0)
