import numpy as np
import pytest
import tensorflow as tf

from keras_recipes.losses import (
    content_loss,
    gram_matrix,
    style_loss,
    total_variation_loss,
)


def random_features(seed, shape=(2, 5, 4, 3)):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def reference_gram(features):
    """Gram matrices by explicit sums over positions, in float64."""
    batch, height, width, channels = features.shape
    grams = np.zeros((batch, channels, channels))
    for b in range(batch):
        for c in range(channels):
            for d in range(channels):
                for i in range(height):
                    for j in range(width):
                        grams[b, c, d] += float(features[b, i, j, c]) * float(
                            features[b, i, j, d]
                        )
    return grams


def reference_style_loss(style, generated):
    _, height, width, channels = generated.shape
    difference = reference_gram(style) - reference_gram(generated)
    scale = (1.0 / (2 * height * width * channels)) ** 2
    return scale * np.square(difference).sum(axis=(1, 2))


def reference_total_variation(images):
    images = images.astype("float64")
    batch, height, width, channels = images.shape
    losses = np.zeros(batch)
    for b in range(batch):
        for i in range(height):
            for j in range(width):
                for c in range(channels):
                    if i + 1 < height:
                        losses[b] += (images[b, i + 1, j, c] - images[b, i, j, c]) ** 2
                    if j + 1 < width:
                        losses[b] += (images[b, i, j + 1, c] - images[b, i, j, c]) ** 2
    return losses


@pytest.mark.parametrize("seed", range(3))
def test_gram_matrix_matches_loops_and_einsum(seed):
    features = random_features(seed)
    gram = np.asarray(gram_matrix(features))
    assert gram.shape == (2, 3, 3)
    np.testing.assert_allclose(gram, reference_gram(features), rtol=1e-4)
    flat = features.astype("float64").reshape(2, 20, 3)
    np.testing.assert_allclose(gram, flat.transpose(0, 2, 1) @ flat, rtol=1e-4)


def test_gram_matrix_hand_computed():
    # F = [[1, 2], [3, 4]] as (positions, channels): F^T F = [[10, 14], [14, 20]].
    features = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    np.testing.assert_allclose(gram_matrix(features), [[[10.0, 14.0], [14.0, 20.0]]])


@pytest.mark.parametrize("seed", range(3))
def test_content_loss_matches_numpy(seed):
    content, generated = random_features(seed), random_features(seed + 10)
    expected = 0.5 * np.einsum(
        "bhwc->b", np.square(generated.astype("float64") - content)
    )
    actual = np.asarray(content_loss(content, generated))
    assert actual.shape == (2,)
    np.testing.assert_allclose(actual, expected, rtol=1e-4)


def test_content_loss_hand_computed():
    content = np.zeros((2, 1, 2, 3), "float32")
    generated = np.ones((2, 1, 2, 3), "float32")
    generated[1] *= 2.0
    # 1/2 * 6 * 1 and 1/2 * 6 * 4.
    np.testing.assert_allclose(content_loss(content, generated), [3.0, 12.0])


@pytest.mark.parametrize("shape", [(2, 5, 4, 3), (1, 3, 6, 8)])
@pytest.mark.parametrize("seed", range(3))
def test_style_loss_matches_numpy(seed, shape):
    style, generated = random_features(seed, shape), random_features(seed + 10, shape)
    actual = np.asarray(style_loss(style, generated))
    assert actual.shape == (shape[0],)
    np.testing.assert_allclose(
        actual, reference_style_loss(style, generated), rtol=1e-4
    )


def test_style_loss_hand_computed():
    # Gram [[10, 14], [14, 20]] against 0: squares sum to 892;
    # (1 / (2 * 1 * 2 * 2)) ** 2 = 1 / 64.
    style = np.array([[[[1.0, 2.0], [3.0, 4.0]]]], "float32")
    generated = np.zeros_like(style)
    np.testing.assert_allclose(style_loss(style, generated), [892.0 / 64.0])
    np.testing.assert_allclose(style_loss(generated, style), [892.0 / 64.0])


@pytest.mark.parametrize("seed", range(3))
def test_total_variation_matches_loops(seed):
    images = random_features(seed, (2, 6, 5, 3))
    actual = np.asarray(total_variation_loss(images))
    assert actual.shape == (2,)
    np.testing.assert_allclose(actual, reference_total_variation(images), rtol=1e-4)


def test_total_variation_hand_computed():
    images = np.zeros((2, 2, 2, 1), "float32")
    images[0, :, :, 0] = [[1.0, 2.0], [3.0, 5.0]]
    # Down: 2^2 + 3^2 = 13; right: 1^2 + 2^2 = 5. A constant image: 0.
    images[1] = 7.0
    np.testing.assert_allclose(total_variation_loss(images), [18.0, 0.0])


def test_gradients_flow_to_the_image():
    rng = np.random.default_rng(0)
    content = rng.normal(size=(1, 4, 3, 2)).astype("float32")
    style = rng.normal(size=(1, 4, 3, 2)).astype("float32")
    image = tf.Variable(rng.normal(size=(1, 4, 3, 2)).astype("float32"))
    with tf.GradientTape(persistent=True) as tape:
        content_value = content_loss(content, image)
        style_value = style_loss(style, image)
        variation_value = total_variation_loss(image)
    generated = image.numpy().astype("float64")

    np.testing.assert_allclose(
        tape.gradient(content_value, image), generated - content, rtol=1e-4
    )

    # d/dF sum((F^T F - A)^2) = 4 F (F^T F - A), scaled by (1 / (2 H W C))^2.
    flat = generated.reshape(12, 2)
    target = style.astype("float64").reshape(12, 2)
    expected = 4.0 * flat @ (flat.T @ flat - target.T @ target) / (2 * 24) ** 2
    np.testing.assert_allclose(
        tape.gradient(style_value, image).numpy().reshape(12, 2), expected, rtol=1e-4
    )

    step = 1e-4
    numeric = np.zeros_like(generated)
    for index in np.ndindex(generated.shape):
        shifted = generated.copy()
        shifted[index] += step
        upper = reference_total_variation(shifted)[0]
        shifted[index] -= 2 * step
        lower = reference_total_variation(shifted)[0]
        numeric[index] = (upper - lower) / (2 * step)
    np.testing.assert_allclose(
        tape.gradient(variation_value, image), numeric, rtol=1e-4, atol=1e-6
    )


def test_unknown_spatial_shape_in_a_graph():
    signature = [tf.TensorSpec((None, None, None, 3), "float32")] * 2

    @tf.function(input_signature=signature)
    def losses(style, generated):
        return (
            content_loss(style, generated),
            style_loss(style, generated),
            total_variation_loss(generated),
        )

    style, generated = random_features(0), random_features(1)
    content_value, style_value, variation_value = losses(style, generated)
    np.testing.assert_allclose(
        style_value, reference_style_loss(style, generated), rtol=1e-4
    )
    np.testing.assert_allclose(content_value, content_loss(style, generated))
    np.testing.assert_allclose(
        variation_value, reference_total_variation(generated), rtol=1e-4
    )
