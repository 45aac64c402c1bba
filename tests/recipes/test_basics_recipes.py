"""The basics recipes on the diabetes data and the digits."""

import json

import keras
import numpy as np
import pytest

import keras_recipes
from keras_recipes.errors import ConfigError

QUIET = {"train.verbose": 0, "callbacks.tensorboard.enabled": False}


def _run(name, overrides, root):
    return keras_recipes.run(name, {**QUIET, **overrides}, runs_root=root)


def test_linear_regression_reaches_least_squares(tmp_path):
    result = _run("linear_regression", {"train.epochs": 60}, tmp_path)
    metrics = result.metrics
    # Gradient descent finds the exact least-squares fit on the same split.
    assert metrics["test_r2"] == pytest.approx(metrics["reference_r2"], abs=0.02)
    assert metrics["reference_r2"] > 0.3
    assert metrics["parameters"] == 11
    figures = sorted(p.name for p in (result.run_dir / "figures").glob("*.png"))
    assert figures == ["predictions.png", "training_curves.png"]
    # test_rmse is in the target's units: sqrt(1 - R^2) times its spread.
    from keras_recipes.data.diabetes import load_diabetes

    _, (_, y_test), _ = load_diabetes()
    rmse = np.sqrt((1 - metrics["test_r2"]) * np.var(y_test))
    assert metrics["test_rmse"] == pytest.approx(rmse, rel=1e-4)


def test_logistic_regression_on_digits(tmp_path):
    result = _run("logistic_regression", {"train.epochs": 15}, tmp_path)
    assert result.metrics["test_accuracy"] >= 0.93
    assert result.metrics["parameters"] == 64 * 10 + 10
    assert (result.run_dir / "figures" / "weights.png").is_file()
    # The saved model scores the held-out digits as reported.
    from keras_recipes.data.digits import load_digits

    _, (x_test, y_test), _ = load_digits()
    scaling = json.loads((result.run_dir / "scaling.json").read_text())
    x = (x_test.reshape(len(x_test), -1) / 255.0 - scaling["x_mean"]) / np.array(
        scaling["x_std"]
    )
    model = keras.saving.load_model(result.run_dir / "model.keras")
    accuracy = np.mean(model.predict(x, verbose=0).argmax(-1) == y_test)
    assert accuracy == pytest.approx(result.metrics["test_accuracy"], abs=1e-6)


def test_mlp_and_its_settings_reach_the_model(tmp_path):
    overrides = {
        "train.epochs": 15,
        "model.hidden_units": [64, 32],
        "model.kernel_initializer": "uniform_fan_in",
        "model.dropout": 0.25,
        "model.l1": 1e-5,
        "optimizer.name": "rmsprop",
        "optimizer.learning_rate": 0.002,
        "optimizer.schedule.name": "exponential",
        "optimizer.schedule.decay_rate": 0.9,
    }
    result = _run("mlp", overrides, tmp_path)
    assert result.metrics["test_accuracy"] >= 0.93
    model = keras.saving.load_model(result.run_dir / "model.keras")
    hidden = model.get_layer("hidden_1")
    assert hidden.units == 64 and model.get_layer("hidden_2").units == 32
    assert model.get_layer("dropout_1").rate == 0.25
    assert hidden.kernel_regularizer.l1 == pytest.approx(1e-5)
    assert np.abs(hidden.kernel.numpy()).max() < 1.0  # trained, but from U(+-1/8)
    optimizer = model.optimizer
    assert isinstance(optimizer, keras.optimizers.RMSprop)
    schedule = optimizer.get_config()["learning_rate"]
    assert schedule["class_name"] == "ExponentialDecay"
    assert schedule["config"]["decay_rate"] == pytest.approx(0.9)


def test_train_examples_limits_the_training_set(tmp_path):
    result = _run("mlp", {"train.epochs": 2, "data.train_examples": 50}, tmp_path)
    assert result.metrics["train_examples"] == 50


@pytest.mark.parametrize(
    "name, override, message",
    [
        ("mlp", "model.hidden_units=[]", "model.hidden_units"),
        ("logistic_regression", "model.hidden_units=[8]", "model.hidden_units"),
        ("deep_mlp", "model.kernel_initializer=zeros", "kernel_initializer"),
        ("linear_regression", "optimizer.momentum=0", "nesterov needs"),
    ],
)
def test_config_mistakes_name_the_key(name, override, message):
    with pytest.raises(ConfigError, match=message):
        keras_recipes.load_config(name, [override])


def test_module_entry_point_runs_the_named_recipe(tmp_path):
    import subprocess
    import sys

    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "keras_recipes.recipes.basics",
            "logistic_regression",
            "--set",
            "train.epochs=1",
            "--set",
            "train.verbose=0",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert "test_accuracy" in completed.stdout
    assert list(tmp_path.glob("runs/logistic_regression/*/metrics.json"))


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, bar",
    [("logistic_regression", 0.95), ("mlp", 0.96), ("deep_mlp", 0.96)],
)
def test_shipped_configs_reach_their_accuracy(name, bar, tmp_path):
    result = keras_recipes.run(name, {"train.verbose": 0}, runs_root=tmp_path)
    assert result.metrics["test_accuracy"] >= bar
