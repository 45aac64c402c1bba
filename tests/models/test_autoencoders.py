import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.decomposition import PCA

from keras_recipes.models.autoencoders import (
    conv_autoencoder,
    decoder_of,
    deep_autoencoder,
    dense_autoencoder,
    encoder_of,
    sparse_autoencoder,
)


def _images(count=6, shape=(8, 8, 1), seed=0):
    return np.random.default_rng(seed).random((count, *shape)).astype("float32")


@pytest.mark.parametrize(
    "factory, kwargs, code_shape",
    [
        (dense_autoencoder, {"code_size": 5}, (5,)),
        (dense_autoencoder, {"code_size": 3, "linear": True}, (3,)),
        (sparse_autoencoder, {"code_size": 4}, (4,)),
        (deep_autoencoder, {"hidden_units": (12, 6), "code_size": 3}, (3,)),
        (conv_autoencoder, {"filters": (4, 2)}, (2, 2, 2)),
        (conv_autoencoder, {"filters": (4, 2), "code_size": 3}, (3,)),
    ],
)
def test_factories_map_images_to_same_shape_through_a_code(factory, kwargs, code_shape):
    model = factory(input_shape=(8, 8, 1), **kwargs)
    images = _images()

    reconstructions = model.predict(images, verbose=0)
    codes = encoder_of(model).predict(images, verbose=0)

    assert model.output_shape == (None, 8, 8, 1)
    assert reconstructions.shape == images.shape
    assert codes.shape == (6, *code_shape)
    assert encoder_of(model).layers[-1].name == "code"
    np.testing.assert_allclose(
        decoder_of(model).predict(codes, verbose=0), reconstructions, atol=1e-6
    )
    assert not model.compiled


@pytest.mark.parametrize(
    "input_shape, filters, code_shape",
    [
        ((28, 28, 1), (16, 8), (7, 7, 8)),
        ((28, 28, 1), (16, 8, 8), (4, 4, 8)),  # 28 is padded to 32 inside
        ((5, 7, 3), (4, 4), (2, 2, 4)),
    ],
)
def test_conv_autoencoder_keeps_sizes_pooling_does_not_divide(
    input_shape, filters, code_shape
):
    model = conv_autoencoder(input_shape=input_shape, filters=filters)

    reconstructions = model.predict(_images(2, input_shape), verbose=0)

    assert reconstructions.shape == (2, *input_shape)
    assert encoder_of(model).output_shape == (None, *code_shape)
    assert np.all((reconstructions >= 0) & (reconstructions <= 1))


def test_dense_code_is_relu_of_the_code_layer():
    model = dense_autoencoder(code_size=4)
    images = _images()
    kernel, bias = encoder_of(model).get_layer("code").get_weights()

    codes = encoder_of(model).predict(images, verbose=0)

    expected = np.maximum(images.reshape(6, -1) @ kernel + bias, 0)
    np.testing.assert_allclose(codes, expected, rtol=1e-5, atol=1e-6)


def test_linear_autoencoder_is_affine():
    model = dense_autoencoder(code_size=3, linear=True)
    a, b = _images(1, seed=1), _images(1, seed=2)

    def f(x):
        return model.predict(x, verbose=0)

    np.testing.assert_allclose(
        f(0.3 * a + 0.7 * b), 0.3 * f(a) + 0.7 * f(b), rtol=1e-4, atol=1e-5
    )
    assert np.min(f(-5 * a)) < 0  # no sigmoid squashing the output


def test_linear_autoencoder_reaches_pca_reconstruction_error():
    # Three strong directions plus noise; PCA with three components is the
    # optimum for any linear code of that size.
    rng = np.random.default_rng(0)
    count, size, components = 256, 16, 3
    basis, _ = np.linalg.qr(rng.normal(size=(size, components)))
    signal = rng.normal(size=(count, components)) * [0.25, 0.2, 0.15]
    flat = 0.5 + signal @ basis.T + 0.04 * rng.normal(size=(count, size))
    flat = np.clip(flat, 0, 1).astype("float32")
    images = flat.reshape(count, 4, 4, 1)
    pca = PCA(components).fit(flat)
    pca_mse = np.mean((pca.inverse_transform(pca.transform(flat)) - flat) ** 2)

    keras.utils.set_random_seed(0)
    model = dense_autoencoder(input_shape=(4, 4, 1), code_size=components, linear=True)
    steps = 2000
    schedule = keras.optimizers.schedules.CosineDecay(0.1, steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    full_batches = tf.data.Dataset.from_tensors((images, images)).repeat()
    model.fit(full_batches, steps_per_epoch=steps, epochs=1, shuffle=False, verbose=0)
    autoencoder_mse = np.mean((model.predict(images, verbose=0) - images) ** 2)

    assert pca_mse * 0.999 <= autoencoder_mse <= pca_mse * 1.03


def test_sparse_autoencoder_adds_l1_activity_penalty_to_the_loss():
    l1 = 1e-2
    model = sparse_autoencoder(code_size=4, activity_l1=l1)
    images = _images(5)
    codes = encoder_of(model).predict(images, verbose=0)
    reconstructions = model.predict(images, verbose=0)
    # Keras divides the activity penalty by the batch size.
    penalty = l1 * np.abs(codes).sum() / len(images)

    model.compile(optimizer="adam", loss="mse")
    loss = model.evaluate(images, images, batch_size=5, verbose=0)
    model(images)

    assert penalty > 0
    assert len(model.losses) == 1
    np.testing.assert_allclose(float(model.losses[0]), penalty, rtol=1e-5)
    mse = np.mean((reconstructions - images) ** 2)
    np.testing.assert_allclose(loss, mse + penalty, rtol=1e-5)


def test_dense_autoencoder_has_no_penalty_by_default():
    model = dense_autoencoder(code_size=4)
    model(_images())

    assert model.losses == []


def test_deep_autoencoder_mirrors_hidden_units():
    model = deep_autoencoder(hidden_units=(128, 64), code_size=32)

    def widths(sub_model):
        return [
            layer.units
            for layer in sub_model.layers
            if isinstance(layer, keras.layers.Dense)
        ]

    assert widths(encoder_of(model)) == [128, 64, 32]
    assert widths(decoder_of(model)) == [64, 128, 64]


def test_sparse_autoencoder_save_load_round_trip(tmp_path):
    model = sparse_autoencoder(code_size=4, activity_l1=1e-3)
    images = _images()
    path = tmp_path / "sparse.keras"

    model.save(path)
    loaded = keras.saving.load_model(path)

    np.testing.assert_array_equal(
        loaded.predict(images, verbose=0), model.predict(images, verbose=0)
    )
    code_layer = encoder_of(loaded).get_layer("code")
    assert code_layer.activity_regularizer.get_config()["l1"] == pytest.approx(1e-3)


@pytest.mark.parametrize(
    "factory, kwargs, received",
    [
        (dense_autoencoder, {"code_size": -1}, "code_size=-1"),
        (dense_autoencoder, {"code_size": 2.5}, "code_size=2.5"),
        (dense_autoencoder, {"code_size": True}, "code_size=True"),
        (dense_autoencoder, {"input_shape": 8}, "input_shape=8"),
        (dense_autoencoder, {"input_shape": (8, 0, 1)}, "input_shape=(8, 0, 1)"),
        (dense_autoencoder, {"activity_l1": -0.1}, "activity_l1=-0.1"),
        (
            dense_autoencoder,
            {"linear": True, "output_activation": "sigmoid"},
            "linear=True, output_activation=sigmoid",
        ),
        (sparse_autoencoder, {"activity_l1": 0.0}, "activity_l1=0.0"),
        (deep_autoencoder, {"hidden_units": ()}, "hidden_units=()"),
        (deep_autoencoder, {"hidden_units": (16, 0)}, "hidden_units=(16, 0)"),
        (conv_autoencoder, {"filters": []}, "filters=[]"),
        (conv_autoencoder, {"code_size": 0}, "code_size=0"),
        (conv_autoencoder, {"input_shape": (64,)}, "input_shape=(64,)"),
    ],
)
def test_bad_arguments_raise_early(factory, kwargs, received):
    with pytest.raises(ValueError, match="Received: " + re.escape(received)):
        factory(**kwargs)


def test_encoder_of_rejects_models_without_an_encoder():
    plain = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)], name="plain")

    with pytest.raises(ValueError, match="Received: model=plain"):
        encoder_of(plain)
    with pytest.raises(ValueError, match="Received: model="):
        decoder_of("not a model")
