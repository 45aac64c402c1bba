"""DeadReLUMonitor: exact dead fractions, the CSV and TensorBoard logs, the switch."""

import keras
import numpy as np
import pytest

import keras_recipes
from keras_recipes.errors import ConfigError, UserError
from keras_recipes.monitors import (
    DeadReLUMonitor,
    attach_probe,
    dead_fractions,
    read_dead_relu,
)


def test_dead_fractions_counts_units_that_never_fire():
    dense = np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0]])
    # A convolution channel is alive if it fires anywhere, for any example.
    conv = np.zeros((2, 3, 3, 2))
    conv[1, 2, 0, 1] = 0.5
    assert dead_fractions([dense, conv]) == [0.5, 0.5]


def _model_with_dead_units(dead):
    """A ReLU layer of 8 units whose first `dead` units can never fire."""
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu", name="hidden"),
            keras.layers.Dense(3, activation="tanh", name="not_relu"),
            keras.layers.ReLU(name="relu_layer"),
            keras.layers.Dense(2, name="output"),
        ]
    )
    kernel, bias = model.get_layer("hidden").get_weights()
    kernel[:, :dead] = 0.0
    bias[:dead] = -1.0
    bias[dead:] = 10.0  # the others always fire on inputs in [0, 1]
    model.get_layer("hidden").set_weights([kernel, bias])
    return model


def test_monitor_logs_exact_fractions(tmp_path):
    model = _model_with_dead_units(dead=3)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    x = np.random.default_rng(0).uniform(size=(64, 4)).astype("float32")
    y = np.zeros((64, 2), "float32")
    monitor = DeadReLUMonitor(
        x, log_dir=tmp_path / "logs", path=tmp_path / "dead.csv", samples=32
    )
    model.fit(x, y, epochs=2, verbose=0, callbacks=[monitor])
    assert monitor.probe.shape == (32, 4)
    assert sorted(monitor.history) == ["hidden", "relu_layer"]
    assert monitor.history["hidden"] == [3 / 8, 3 / 8]
    logged = read_dead_relu(tmp_path / "dead.csv")
    assert logged["hidden"] == ([1, 2], [0.375, 0.375])
    from tensorboard.backend.event_processing import event_accumulator

    events = event_accumulator.EventAccumulator(
        str(tmp_path / "logs"), size_guidance={event_accumulator.TENSORS: 0}
    )
    events.Reload()
    import tensorflow as tf

    values = [
        float(tf.make_ndarray(event.tensor_proto))
        for event in events.Tensors("dead_relu/hidden")
    ]
    assert values == [0.375, 0.375]


def test_probe_from_a_dataset_and_attach_probe():
    import tensorflow as tf

    x = np.arange(40, dtype="float32").reshape(10, 4)
    dataset = tf.data.Dataset.from_tensor_slices((x, x)).batch(3)
    monitor = DeadReLUMonitor(samples=7)
    assert attach_probe([keras.callbacks.History(), monitor], dataset)[1] is monitor
    np.testing.assert_array_equal(monitor.probe, x[:7])


def test_monitor_without_probe_stops_with_one_line():
    model = _model_with_dead_units(dead=1)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(UserError, match="callbacks.dead_relu"):
        model.fit(
            np.zeros((4, 4)), np.zeros((4, 2)), verbose=0, callbacks=[DeadReLUMonitor()]
        )


def test_config_switch_logs_every_relu_layer_of_a_recipe(tmp_path):
    overrides = {
        "train.epochs": 3,
        "train.verbose": 0,
        "model.hidden_units": [32, 16],
        "callbacks.dead_relu.enabled": True,
        "callbacks.dead_relu.samples": 100,
    }
    result = keras_recipes.run("mlp", overrides, runs_root=tmp_path)
    logged = read_dead_relu(result.run_dir / "dead_relu.csv")
    assert sorted(logged) == ["hidden_1", "hidden_2"]
    for epochs, fractions in logged.values():
        assert epochs == [1, 2, 3]
        assert all(0.0 <= f <= 1.0 for f in fractions)
    # The fraction logged for the best epoch is the one the saved (restored
    # best) weights give on the probe: the first 100 training examples.
    from keras_recipes.recipes import MLP

    data = MLP(result.config).build_data()
    probe = data.train_arrays[0][:100]
    model = keras.saving.load_model(result.run_dir / "model.keras")
    best = int(np.argmin(result.history["val_loss"]))
    for name in ("hidden_1", "hidden_2"):
        activations = keras.Model(model.inputs[0], model.get_layer(name).output)
        expected = dead_fractions([activations(probe)])[0]
        assert logged[name][1][best] == pytest.approx(expected, abs=1e-6)
    assert (result.run_dir / "logs" / "dead_relu").is_dir()


def test_dead_relu_is_a_setting_of_the_dense_recipes_only():
    config = keras_recipes.load_config("mlp", {"callbacks.dead_relu.samples": 64})
    assert config.callbacks.dead_relu.samples == 64
    assert keras_recipes.load_config("deep_mlp").callbacks.dead_relu.enabled
    # Elsewhere it would validate and then do nothing, so it is refused.
    with pytest.raises(ConfigError, match="unknown config key 'callbacks.dead_relu"):
        keras_recipes.load_config("char_rnn", {"callbacks.dead_relu.enabled": True})
