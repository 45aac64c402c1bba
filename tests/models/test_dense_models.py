"""Dense factories: initialiser statistics, penalties, dropout, outputs."""

import keras
import numpy as np
import pytest

from keras_recipes.models.dense import (
    INITIALIZERS,
    build_initializer,
    deep_mlp,
    dense_network,
    fan_in_limit,
    linear_regression,
    logistic_regression,
    mlp,
)

FAN_IN, FAN_OUT = 400, 300


def _draw(name):
    return keras.ops.convert_to_numpy(
        build_initializer(name, seed=1)((FAN_IN, FAN_OUT))
    )


def test_he_normal_has_variance_two_over_fan_in():
    # Keras draws He normal from a normal truncated at two standard
    # deviations, rescaled so that the variance is still 2 / n.
    weights = _draw("he_normal")
    assert weights.std() == pytest.approx(np.sqrt(2 / FAN_IN), rel=0.03)


def test_glorot_uniform_bound():
    weights = _draw("glorot_uniform")
    limit = np.sqrt(6 / (FAN_IN + FAN_OUT))
    assert np.abs(weights).max() <= limit
    assert np.abs(weights).max() >= 0.99 * limit
    assert weights.std() == pytest.approx(limit / np.sqrt(3), rel=0.03)


def test_truncated_normal_is_cut_at_two_deviations():
    weights = _draw("truncated_normal")
    assert np.abs(weights).max() <= 0.2
    # A standard normal cut at +-2 keeps 88% of the variance.
    assert weights.std() == pytest.approx(0.1 * np.sqrt(0.774), rel=0.03)


def test_uniform_fan_in_is_plus_minus_one_over_root_n():
    weights = _draw("uniform_fan_in")
    limit = fan_in_limit(FAN_IN)
    assert limit == pytest.approx(0.05)
    assert np.abs(weights).max() <= limit
    assert np.abs(weights).max() >= 0.99 * limit
    assert abs(weights.mean()) < 0.002


def test_unknown_initializer():
    with pytest.raises(ValueError, match="Received: kernel_initializer='zeros'"):
        build_initializer("zeros")


@pytest.mark.parametrize(
    "name, initializer_class",
    [
        ("he_normal", keras.initializers.HeNormal),
        ("glorot_uniform", keras.initializers.GlorotUniform),
        ("truncated_normal", keras.initializers.TruncatedNormal),
        ("uniform_fan_in", keras.initializers.VarianceScaling),
    ],
)
def test_every_layer_gets_the_initializer(name, initializer_class):
    assert name in INITIALIZERS
    model = mlp(8, 3, hidden_units=(16, 16), kernel_initializer=name, seed=0)
    for layer_name, fan_in in (("hidden_1", 8), ("hidden_2", 16), ("output", 16)):
        layer = model.get_layer(layer_name)
        assert type(layer.kernel_initializer) is initializer_class
        if name == "uniform_fan_in":
            assert np.abs(layer.kernel.numpy()).max() <= fan_in_limit(fan_in)


def test_l1_and_l2_penalties_equal_their_formula():
    model = dense_network(5, 2, hidden_units=(4,), l1=0.01, l2=0.001, seed=0)
    model(np.zeros((1, 5), "float32"))
    kernels = [model.get_layer(n).kernel.numpy() for n in ("hidden_1", "output")]
    expected = sum(0.01 * np.abs(k).sum() + 0.001 * (k**2).sum() for k in kernels)
    penalty = float(sum(keras.ops.convert_to_numpy(loss) for loss in model.losses))
    assert penalty == pytest.approx(expected, rel=1e-5)
    assert not dense_network(5, 2, hidden_units=(4,)).losses


def test_dropout_after_each_hidden_layer_only_in_training():
    model = mlp(6, 3, hidden_units=(32, 32), dropout=0.5, seed=0)
    names = [layer.name for layer in model.layers]
    assert names == ["hidden_1", "dropout_1", "hidden_2", "dropout_2", "output"]
    x = np.ones((4, 6), "float32")
    np.testing.assert_allclose(model(x, training=False), model(x, training=False))
    assert not np.allclose(model(x, training=True), model(x, training=False))


def test_outputs():
    x = np.random.default_rng(0).normal(size=(3, 10)).astype("float32")
    linear = linear_regression(10, seed=0)
    kernel, bias = linear.get_layer("output").get_weights()
    np.testing.assert_allclose(linear(x), x @ kernel + bias, rtol=1e-5)
    probabilities = logistic_regression(10, 4, seed=0)(x)
    np.testing.assert_allclose(np.sum(probabilities, axis=-1), 1.0, rtol=1e-5)
    assert deep_mlp(10, 4).count_params() == (
        (10 * 256 + 256)
        + (256 * 256 + 256)
        + (256 * 128 + 128)
        + (128 * 128 + 128)
        + (128 * 64 + 64)
        + (64 * 4 + 4)
    )


def test_deep_relu_net_keeps_its_scale_with_he_but_not_small_draws():
    x = np.random.default_rng(0).normal(size=(256, 64)).astype("float32")

    def last_hidden_std(name):
        model = deep_mlp(64, 10, hidden_units=(256,) * 8, kernel_initializer=name)
        probe = keras.Model(model.inputs[0], model.get_layer("hidden_8").output)
        return float(np.std(probe(x)))

    # He keeps the ReLU activations' scale over 8 layers; U(+-1/sqrt(n)) has
    # a third of He's variance per layer, so the signal shrinks geometrically.
    assert 0.3 < last_hidden_std("he_normal") < 3.0
    assert last_hidden_std("uniform_fan_in") < 0.05


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"input_dim": 0, "output_units": 2}, "input_dim=0"),
        ({"input_dim": 3, "output_units": 2, "hidden_units": (0,)}, "hidden_units"),
        ({"input_dim": 3, "output_units": 2, "l2": -1.0}, "l2=-1.0"),
        ({"input_dim": 3, "output_units": 2, "dropout": 1.0}, "dropout=1.0"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dense_network(**kwargs)
