import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_recipes.config import OptimizerConfig, resolve
from keras_recipes.optimizers import (
    build_optimizer,
    build_schedule,
    use_fused_adam_kernel,
)
from keras_recipes.precision import dtype_policy


def _optimizer_config(**overrides):
    return resolve(OptimizerConfig, overrides={k: v for k, v in overrides.items()})


def _rate(schedule, step):
    if isinstance(schedule, float):
        return schedule
    return float(keras.ops.convert_to_numpy(schedule(step)))


def test_constant():
    assert build_schedule(_optimizer_config(learning_rate=0.01), 10, 5) == 0.01


def test_exponential_decays_per_epoch():
    config = _optimizer_config(
        learning_rate=0.1,
        **{"schedule.name": "exponential", "schedule.decay_rate": 0.5},
    )
    schedule = build_schedule(config, steps_per_epoch=10, epochs=5)
    assert _rate(schedule, 0) == pytest.approx(0.1)
    assert _rate(schedule, 10) == pytest.approx(0.05)
    assert _rate(schedule, 30) == pytest.approx(0.0125)


def test_cosine_reaches_alpha_at_the_last_epoch():
    config = _optimizer_config(
        learning_rate=0.2, **{"schedule.name": "cosine", "schedule.alpha": 0.1}
    )
    schedule = build_schedule(config, steps_per_epoch=4, epochs=5)
    assert _rate(schedule, 0) == pytest.approx(0.2)
    # Halfway, cosine decay is at the mean of the start and the floor.
    assert _rate(schedule, 10) == pytest.approx(0.2 * (0.1 + 0.9 * 0.5), rel=1e-5)
    assert _rate(schedule, 20) == pytest.approx(0.02, rel=1e-5)


def test_step_drops_at_epoch_boundaries():
    config = _optimizer_config(
        learning_rate=1.0,
        **{
            "schedule.name": "step",
            "schedule.boundaries": [2, 4],
            "schedule.factor": 0.1,
        },
    )
    schedule = build_schedule(config, steps_per_epoch=10, epochs=6)
    rates = [_rate(schedule, step) for step in (0, 20, 21, 40, 41)]
    np.testing.assert_allclose(rates, [1.0, 1.0, 0.1, 0.1, 0.01], rtol=1e-6)


@pytest.mark.parametrize(
    "name, cls",
    [
        ("sgd", keras.optimizers.SGD),
        ("rmsprop", keras.optimizers.RMSprop),
        ("adagrad", keras.optimizers.Adagrad),
        ("adam", keras.optimizers.Adam),
    ],
)
def test_optimizer_kinds(name, cls):
    optimizer = build_optimizer(_optimizer_config(name=name, learning_rate=0.05))
    assert isinstance(optimizer, cls)
    assert float(optimizer.learning_rate) == pytest.approx(0.05)


def test_sgd_momentum_and_nesterov():
    optimizer = build_optimizer(
        _optimizer_config(name="sgd", momentum=0.9, nesterov=True, clipnorm=1.0)
    )
    assert (
        optimizer.momentum == 0.9 and optimizer.nesterov and optimizer.clipnorm == 1.0
    )


def _train(optimizer, policy="float32", steps=6):
    """Trains a small conv net for a few steps; returns the final weights."""
    keras.utils.set_random_seed(3)
    with dtype_policy(policy):
        model = keras.Sequential(
            [
                keras.Input((6, 6, 1)),
                keras.layers.Conv2D(4, 3, activation="relu"),
                keras.layers.Flatten(),
                keras.layers.Dense(3, dtype="float32"),
            ]
        )
    model.compile(optimizer, "mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 6, 6, 1)).astype("float32")
    y = rng.normal(size=(32, 3)).astype("float32")
    model.fit(x, y, batch_size=8, epochs=steps // 4 + 1, shuffle=False, verbose=0)
    return model, [w.copy() for w in model.get_weights()]


def _applies_fused_kernel(optimizer):
    variable = keras.Variable(np.ones((3,), "float32"))
    optimizer.build([variable])
    graph = (
        tf.function(lambda g: optimizer.apply([g], [variable]))
        .get_concrete_function(tf.TensorSpec((3,), "float32"))
        .graph
    )
    return any(op.type == "ResourceApplyAdam" for op in graph.get_operations())


@pytest.mark.parametrize(
    "name, overrides",
    [
        ("adam", {}),
        ("adamw", {"weight_decay": 0.01}),
        ("adam", {"clipnorm": 0.5}),
    ],
)
@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_fused_adam_kernel_trains_like_keras_adam(name, overrides, policy):
    config = _optimizer_config(name=name, learning_rate=0.05, **overrides)
    fused = build_optimizer(config)
    reference_class = (
        keras.optimizers.AdamW if name == "adamw" else keras.optimizers.Adam
    )
    reference = reference_class(learning_rate=0.05, **overrides)
    assert _applies_fused_kernel(build_optimizer(config))
    assert not _applies_fused_kernel(reference_class(0.05))
    _, got = _train(fused, policy)
    _, want = _train(reference, policy)
    # In bfloat16 a last-bit difference can flip a rounding of the cast
    # weights, a 2**-8 relative step, which later steps carry on.
    tolerance = 2e-5 if policy == "float32" else 2e-3
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance / 10)
    # The update moved the weights, so equal weights are not equal starts.
    _, start = _train(reference_class(0.0), policy)
    assert max(np.abs(a - b).max() for a, b in zip(got, start, strict=True)) > 1e-2


def test_fused_adam_saves_as_the_keras_class(tmp_path):
    optimizer = build_optimizer(_optimizer_config(name="adam", learning_rate=0.05))
    model, weights = _train(optimizer)
    path = tmp_path / "model.keras"
    model.save(path)
    saved = json.loads(zipfile.ZipFile(path).read("config.json"))
    assert saved["compile_config"]["optimizer"]["class_name"] == "Adam"
    assert saved["compile_config"]["optimizer"]["module"] == "keras.optimizers"
    loaded = keras.saving.load_model(path)
    assert type(loaded.optimizer) is keras.optimizers.Adam
    for a, b in zip(loaded.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_amsgrad_keeps_the_keras_update():
    optimizer = use_fused_adam_kernel(keras.optimizers.Adam(0.1, amsgrad=True))
    assert not _applies_fused_kernel(optimizer)
