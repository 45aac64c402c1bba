import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_recipes.errors import DataError
from keras_recipes.losses import content_loss, style_loss, total_variation_loss
from keras_recipes.seeding import set_seed
from keras_recipes.style import (
    StyleTransferLoss,
    build_step,
    fit_size,
    initial_image,
    read_image,
    style_feature_extractor,
)
from keras_recipes.weights import preprocess_input

LAYERS = ["block2_conv1", "block1_conv1", "block1_conv2"]


@pytest.fixture(scope="module")
def extractor():
    keras.utils.set_random_seed(0)
    return style_feature_extractor(LAYERS, backbone="vgg16", weights=None)


def images(seed, size=16):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 255, (size, size, 3)).astype("float32")


def test_extractor_outputs_the_named_layers_at_any_size(extractor):
    assert not extractor.trainable
    for size in (16, 24):
        features = extractor(np.zeros((2, size, size, 3), "float32"))
        assert sorted(features) == sorted(LAYERS)
        assert features["block1_conv1"].shape == (2, size, size, 64)
        assert features["block2_conv1"].shape == (2, size // 2, size // 2, 128)


def test_first_layer_features_equal_a_plain_convolution(extractor):
    x = images(0)[None] - 120.0
    layer = extractor.get_layer("block1_conv1")
    kernel, bias = (w.numpy() for w in layer.weights)
    expected = tf.nn.relu(tf.nn.conv2d(x, kernel, 1, "SAME") + bias)
    np.testing.assert_allclose(
        extractor(x)["block1_conv1"], expected, rtol=1e-4, atol=1e-4
    )


def test_unknown_layer_suggests_the_nearest():
    with pytest.raises(ValueError, match="did you mean 'block5_conv2'"):
        style_feature_extractor(["block5conv2"], weights=None)
    with pytest.raises(ValueError, match="backbone=ResNet50"):
        style_feature_extractor(["block1_conv1"], backbone="ResNet50")


def test_cost_is_the_weighted_sum_of_the_four_losses(extractor):
    content, style, generated = images(1), images(2), images(3)
    loss = StyleTransferLoss(
        extractor,
        preprocess_input("VGG16"),
        content,
        style,
        content_layers=["block2_conv1"],
        style_layers=["block1_conv1", "block1_conv2"],
        style_layer_weights=[0.7, 0.3],
        content_weight=2.0,
        style_weight=3.0,
        variation_weight=5.0,
    )
    terms = {k: float(v) for k, v in loss(generated[None]).items()}

    def features(image):
        # Caffe preprocessing by hand: RGB -> BGR, minus the ImageNet means.
        bgr = image[None, ..., ::-1] - np.array([103.939, 116.779, 123.68])
        return extractor(bgr.astype("float32"))

    c, s, g = features(content), features(style), features(generated)
    expected_content = 2.0 * float(
        content_loss(c["block2_conv1"], g["block2_conv1"])[0]
    )
    expected_style = 3.0 * (
        0.7 * float(style_loss(s["block1_conv1"], g["block1_conv1"])[0])
        + 0.3 * float(style_loss(s["block1_conv2"], g["block1_conv2"])[0])
    )
    expected_variation = 5.0 * float(total_variation_loss(generated[None])[0])
    assert terms["content"] == pytest.approx(expected_content, rel=1e-4)
    assert terms["style"] == pytest.approx(expected_style, rel=1e-4)
    assert terms["variation"] == pytest.approx(expected_variation, rel=1e-4)
    assert terms["loss"] == pytest.approx(
        expected_content + expected_style + expected_variation, rel=1e-5
    )
    # The content image itself has no content cost.
    assert float(loss(content[None])["content"]) == 0.0


def test_cost_checks_its_arguments(extractor):
    preprocess = preprocess_input("VGG16")
    with pytest.raises(ValueError, match="same shape"):
        StyleTransferLoss(
            extractor, preprocess, images(0, 16), images(1, 24), LAYERS, LAYERS
        )
    with pytest.raises(ValueError, match="one weight per style layer"):
        StyleTransferLoss(
            extractor, preprocess, images(0), images(1), LAYERS, LAYERS, [1.0]
        )


def make_loss(extractor):
    return StyleTransferLoss(
        extractor,
        preprocess_input("VGG16"),
        images(4),
        images(5),
        ["block2_conv1"],
        ["block1_conv1", "block1_conv2"],
        content_weight=1e-3,
        style_weight=1e-2,
        variation_weight=1e-6,
    )


def test_a_step_moves_the_image_down_the_gradient(extractor):
    loss = make_loss(extractor)
    start = images(6)[None]
    probe = tf.Variable(start)
    with tf.GradientTape() as tape:
        total = loss(probe)["loss"]
    gradient = tape.gradient(total, probe).numpy()
    assert np.abs(gradient).min() > 0  # every pixel gets a gradient
    image = tf.Variable(start)
    step = build_step(loss, image, keras.optimizers.SGD(10.0), clip=False)
    terms = step()
    assert float(terms["loss"]) == pytest.approx(float(total), rel=1e-5)
    np.testing.assert_allclose(
        image.numpy(), start - 10.0 * gradient, rtol=1e-4, atol=1e-3
    )


def run_steps(extractor, jit, steps=4):
    set_seed(0)
    image = tf.Variable(images(6)[None])
    step = build_step(make_loss(extractor), image, keras.optimizers.Adam(2.0), jit)
    losses = [float(step()["loss"]) for _ in range(steps)]
    return losses, image.numpy()


def test_xla_step_matches_the_graph_step_and_repeats_exactly(extractor):
    graph_losses, graph_image = run_steps(extractor, jit=False)
    xla_losses, xla_image = run_steps(extractor, jit=True)
    np.testing.assert_allclose(xla_losses, graph_losses, rtol=1e-3)
    np.testing.assert_allclose(xla_image, graph_image, atol=0.05)
    again_losses, again_image = run_steps(extractor, jit=True)
    assert again_losses == xla_losses
    np.testing.assert_array_equal(again_image, xla_image)
    assert graph_losses[-1] < graph_losses[0]
    # Op determinism, switched on by set_seed, is back on after compiling.
    from tensorflow.python.framework import config as tf_config

    assert tf_config.is_op_determinism_enabled()


def test_clip_keeps_pixels_in_range(extractor):
    image = tf.Variable(np.full((1, 16, 16, 3), 254.0, "float32"))
    step = build_step(make_loss(extractor), image, keras.optimizers.SGD(1e6))
    step()
    assert image.numpy().min() >= 0 and image.numpy().max() <= 255


def test_fit_size_keeps_the_aspect_ratio():
    chelsea = read_image("chelsea")  # 300 x 451
    assert fit_size(chelsea, 64).shape == (64, 96, 3)
    assert fit_size(chelsea, 100).shape == (100, 150, 3)


def test_fit_size_crops_instead_of_stretching():
    # Four vertical stripes, 50 pixels each: a centred square crop keeps the
    # middle two, so the left half of the result is the second stripe.
    stripes = np.repeat(np.array([0.0, 80.0, 160.0, 240.0]), 50)
    pixels = np.broadcast_to(stripes[None, :, None], (100, 200, 3))
    square = fit_size(pixels, 20, 20)
    assert square.shape == (20, 20, 3)
    np.testing.assert_allclose(square[:, :8], 80.0, atol=1)
    np.testing.assert_allclose(square[:, -8:], 160.0, atol=1)


def test_read_image_files_and_names(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (12, 10, 3), dtype="uint8")
    Image.fromarray(pixels).save(tmp_path / "x.png")
    np.testing.assert_array_equal(read_image(tmp_path / "x.png"), pixels)
    Image.fromarray(pixels[..., 0]).save(tmp_path / "gray.png")
    assert read_image(tmp_path / "gray.png").shape == (12, 10, 3)
    with pytest.raises(DataError, match="image file not found"):
        read_image(tmp_path / "missing.jpg")
    with pytest.raises(DataError, match="did you mean 'astronaut'"):
        read_image("astronautt")
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(DataError, match="not an image file"):
        read_image(tmp_path / "notes.txt")


def test_initial_images():
    content = images(7)
    np.testing.assert_array_equal(initial_image(content, "content"), content)
    noise = initial_image(content, "noise", seed=3)
    np.testing.assert_array_equal(noise, initial_image(content, "noise", seed=3))
    assert noise.min() >= 0 and noise.max() <= 255
    assert abs(noise.mean() - 127.5) < 15
    mixed = initial_image(content, "mix", noise_ratio=0.25, seed=3)
    np.testing.assert_allclose(mixed, 0.25 * noise + 0.75 * content, rtol=1e-5)
    with pytest.raises(ValueError, match="method"):
        initial_image(content, "zeros")
