import keras
import numpy as np
import pytest

from keras_recipes.detection import (
    YoloLoss,
    detections_to_list,
    encode_yolo_batch,
    evaluate_detections,
    kmeans_anchors,
    yolo_detections,
    yolo_detector,
    yolo_grid,
)


def test_small_backbone_grid_and_output_shape():
    model = yolo_detector(input_shape=(96, 128, 3), anchors=3, num_classes=4)
    assert model.output_shape == (None, 12, 16, 3, 9)
    shallower = yolo_detector(input_shape=(64, 64, 3), anchors=2, filters=(8, 16))
    assert shallower.output_shape == (None, 32, 32, 2, 8)


def test_depth_adds_residual_blocks_at_every_stage():
    deep = yolo_detector(input_shape=(64, 64, 3), filters=(8, 16, 32), depth=3)
    plain = yolo_detector(input_shape=(64, 64, 3), filters=(8, 16, 32))
    assert deep.output_shape == plain.output_shape == (None, 16, 16, 3, 8)
    convs = [layer for layer in deep.layers if isinstance(layer, keras.layers.Conv2D)]
    adds = [layer for layer in deep.layers if isinstance(layer, keras.layers.Add)]
    # Three per stage, then the head's two.
    assert len(convs) == 3 * 3 + 2 and len(adds) == 2 * 3
    # A residual block whose conv gives zeros passes its input through.
    block = deep.get_layer("block2_2_conv")
    block.set_weights([np.zeros_like(w) for w in block.get_weights()])
    bn = deep.get_layer("block2_2_bn")
    gamma, beta, mean, variance = bn.get_weights()
    bn.set_weights([gamma, np.zeros_like(beta), mean, variance])
    probe = keras.Model(deep.input, deep.get_layer("block2_2_add").output)
    before = keras.Model(deep.input, deep.get_layer("block2_leaky").output)
    images = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3))
    np.testing.assert_allclose(probe(images), before(images), atol=1e-6)


def test_strided_stem_gives_the_same_grid_from_every_other_pixel():
    strided = yolo_detector(
        input_shape=(64, 48, 3), filters=(8, 16, 32), strided_stem=True
    )
    grid = yolo_grid((64, 48), filters=(8, 16, 32))
    assert strided.output_shape == (None, *grid, 3, 8)
    pools = [layer.name for layer in strided.layers if "pool" in layer.name]
    assert pools == ["block2_pool"]
    # The stride-2 conv is the full-resolution conv read at every other pixel
    # (TensorFlow's "same" padding puts the odd padding pixel at the end).
    stem = strided.get_layer("block1_conv")
    full = keras.layers.Conv2D(8, 3, padding="same", use_bias=False)
    images = np.random.default_rng(1).uniform(0, 1, (2, 64, 48, 3))
    full.build(images.shape)
    full.set_weights(stem.get_weights())
    np.testing.assert_allclose(
        stem(images), full(images)[:, 1::2, 1::2], rtol=1e-5, atol=1e-5
    )
    with pytest.raises(ValueError, match="at least 2 stages"):
        yolo_detector(input_shape=(32, 32, 3), filters=(8,), strided_stem=True)


def test_objectness_starts_at_the_prior():
    model = yolo_detector(
        input_shape=(32, 32, 3), filters=(4, 8), objectness_prior=0.01
    )
    bias = model.get_layer("head_output").get_weights()[1].reshape(3, 8)
    np.testing.assert_allclose(1 / (1 + np.exp(-bias[:, 0])), 0.01, rtol=1e-5)
    assert np.all(bias[:, 1:] == 0)


def test_application_backbone_by_name():
    model = yolo_detector(
        backbone="MobileNetV2",
        input_shape=(64, 64, 3),
        anchors=[[8, 8]] * 2,
        num_classes=2,
        backbone_weights=None,
    )
    assert model.output_shape == (None, 2, 2, 2, 7)
    # Its own preprocessing is built in: [0, 255] maps to [-1, 1].
    layer = model.get_layer("preprocessing")
    values = keras.ops.convert_to_numpy(layer(np.array([[[[0.0, 127.5, 255.0]]]])))
    np.testing.assert_allclose(values, [[[[-1.0, 0.0, 1.0]]]], atol=1e-6)


def test_grid_is_checked():
    with pytest.raises(ValueError, match="12x12 grid"):
        yolo_detector(input_shape=(96, 96, 3), grid=13)
    assert yolo_detector(input_shape=(96, 96, 3), grid=(12, 12)).output_shape[1] == 12


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"input_shape": (None, 96, 3)}, "input_shape"),
        ({"anchors": 0}, "anchors"),
        ({"anchors": [[1, 2, 3]]}, "anchors"),
        ({"num_classes": 0}, "num_classes"),
        ({"filters": ()}, "filters"),
        ({"objectness_prior": 1.0}, "objectness_prior"),
        ({"depth": 0}, "depth"),
        ({"backbone": "MobileNetV2", "input_shape": (64, 64, 1)}, "RGB"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        yolo_detector(**kwargs)


def test_save_and_load_round_trip(tmp_path):
    model = yolo_detector(input_shape=(32, 32, 3), filters=(4, 8), head_filters=8)
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    model.save(tmp_path / "yolo.keras")
    again = keras.saving.load_model(tmp_path / "yolo.keras")
    np.testing.assert_allclose(
        again.predict(images, verbose=0), model.predict(images, verbose=0), rtol=1e-5
    )


def test_learns_to_find_squares():
    """A few seconds of training find bright squares on a dark background."""
    rng = np.random.default_rng(0)
    images = np.zeros((256, 32, 32, 3), "float32")
    annotations = []
    for image in images:
        boxes, classes = [], []
        for _ in range(rng.integers(1, 3)):
            size = rng.integers(6, 11)
            x, y = rng.integers(0, 32 - size, size=2)
            if all(
                x + size <= b[0] or b[2] <= x or y + size <= b[1] or b[3] <= y
                for b in boxes
            ):
                label = rng.integers(2)
                image[y : y + size, x : x + size, label] = 255
                boxes.append([x, y, x + size, y + size])
                classes.append(label)
        annotations.append(
            {"boxes": np.array(boxes, "float32"), "classes": np.array(classes)}
        )
    wh = np.concatenate([a["boxes"][:, 2:] - a["boxes"][:, :2] for a in annotations])
    anchors = kmeans_anchors(wh, 2)
    keras.utils.set_random_seed(0)
    model = yolo_detector(
        input_shape=(32, 32, 3),
        anchors=anchors,
        num_classes=2,
        filters=(8, 16, 32),
        head_filters=32,
    )
    targets = encode_yolo_batch(
        annotations, model.output_shape[1], anchors, 2, (32, 32)
    )
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3), loss=YoloLoss(anchors, (32, 32))
    )
    model.fit(images[:224], targets[:224], epochs=25, batch_size=32, verbose=0)
    outputs = model.predict(images[224:], verbose=0)
    found = detections_to_list(yolo_detections(outputs, anchors, (32, 32), 0.01))
    assert evaluate_detections(annotations[224:], found)["map50"] > 0.8
