"""Dtype policies, float32 outputs, and the compile settings of every run."""

import json
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_recipes import precision
from keras_recipes.api import load_config
from keras_recipes.catalog import get_recipe
from keras_recipes.models.classifier import small_cnn
from keras_recipes.precision import (
    dtype_policy,
    keep_outputs_float32,
    resolve_mixed_precision,
)

QUICK = {
    "train.epochs": 2,
    "data.image_size": [8, 8],
    "model.filters": [16],
    "model.dense_units": 32,
    "train.verbose": 0,
}


@pytest.mark.parametrize("name", ["float32", "mixed_float16", "mixed_bfloat16"])
def test_an_explicit_policy_is_kept(name):
    assert resolve_mixed_precision(name) == name


@pytest.mark.parametrize(
    "flags, speedup, gpus, expected",
    [
        ({"avx2", "avx512f", "avx512_bf16"}, 2.0, [], "mixed_bfloat16"),
        ({"avx2", "avx512f", "avx512_bf16"}, 0.55, [], "float32"),
        ({"avx2", "amx_bf16"}, 3.0, [], "mixed_bfloat16"),
        ({"avx2", "avx512f"}, 2.0, [], "float32"),
        (set(), 1.0, [(8, 6)], "mixed_bfloat16"),
        (set(), 1.0, [(7, 5)], "mixed_float16"),
        (set(), 1.0, [(8, 0), (7, 0)], "mixed_float16"),
        ({"avx512_bf16"}, 2.0, [(6, 1)], "float32"),
    ],
)
def test_auto_follows_the_hardware(monkeypatch, flags, speedup, gpus, expected):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(flags))
    monkeypatch.setattr(precision, "cpu_bfloat16_speedup", lambda: speedup)
    monkeypatch.setattr(precision, "gpu_compute_capabilities", lambda: gpus)
    assert resolve_mixed_precision("auto") == expected


# Two timings of one machine: other work on it can move either side, so
# this runs with `pytest -m slow`, on a quiet machine.
@pytest.mark.slow
def test_the_bfloat16_speedup_is_measured_on_this_cpu():
    speedup = precision.cpu_bfloat16_speedup.__wrapped__(rounds=3)
    # A reference measured another way: a larger matmul alone, best of 3.
    matrix = tf.random.uniform([1024, 1024])
    seconds = {}
    for dtype in (tf.float32, tf.bfloat16):
        m = tf.cast(matrix, dtype)
        tf.matmul(m, m).numpy()
        times = []
        for _ in range(3):
            started = time.perf_counter()
            tf.matmul(m, m).numpy()
            times.append(time.perf_counter() - started)
        seconds[dtype] = min(times)
    reference = seconds[tf.float32] / seconds[tf.bfloat16]
    # Both sides of the 1.25 threshold agree, unless both are close to it.
    if abs(reference - 1.25) > 0.4:
        assert (speedup >= 1.25) == (reference >= 1.25), (speedup, reference)
    assert 0.05 < speedup < 20


def test_an_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="mixed_precision must be"):
        resolve_mixed_precision("half")


def test_this_machine_reports_its_cpu_flags():
    flags = precision.cpu_flags()
    assert isinstance(flags, frozenset)
    # Linux x86 machines list sse2 at least; elsewhere there is no cpuinfo.
    assert not flags or "sse2" in flags or "fp" in flags


def test_dtype_policy_restores_the_previous_policy():
    before = keras.config.dtype_policy().name
    with dtype_policy("mixed_bfloat16"):
        assert keras.config.dtype_policy().name == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == before


def test_outputs_become_float32_and_match_float32_closely():
    keras.utils.set_random_seed(0)
    reference = small_cnn((16, 16, 1), 10, filters=(8, 16), dense_units=16)
    with dtype_policy("mixed_bfloat16"):
        mixed = small_cnn((16, 16, 1), 10, filters=(8, 16), dense_units=16)
    mixed.set_weights(reference.get_weights())
    images = np.random.default_rng(0).uniform(0, 255, (8, 16, 16, 1))
    assert mixed(images).dtype == "bfloat16"
    assert keep_outputs_float32(mixed) == ["predictions"]
    probabilities = mixed(images)
    assert probabilities.dtype == "float32"
    assert mixed.layers[0].compute_dtype == "bfloat16"
    # bfloat16 keeps 8 bits of mantissa: close to float32, not equal.
    expected = keras.ops.convert_to_numpy(reference(images))
    difference = np.abs(keras.ops.convert_to_numpy(probabilities) - expected)
    assert 0 < difference.max() < 0.05
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(probabilities).sum(axis=1), 1, atol=1e-5
    )


def test_nested_output_layers_are_found():
    with dtype_policy("mixed_bfloat16"):
        head = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="h")])
        inputs = keras.Input((4,))
        model = keras.Model(inputs, head(keras.layers.Dense(4)(inputs)))
    assert keep_outputs_float32(model) == ["h"]
    assert keep_outputs_float32(model) == []


def run_recipe(tmp_path, **overrides):
    config = load_config("small_data_classifier", {**QUICK, **overrides})
    recipe = get_recipe("small_data_classifier")(config, run_dir=tmp_path)
    result = recipe.run()
    return recipe, result


def test_a_bfloat16_run_computes_in_bfloat16_and_still_learns(tmp_path):
    recipe, result = run_recipe(
        tmp_path / "run", **{"train.mixed_precision": "mixed_bfloat16"}
    )
    assert recipe.dtype_policy == "mixed_bfloat16"
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    computes = {layer.name: layer.compute_dtype for layer in model.layers}
    assert computes["predictions"] == "float32"
    assert {"bfloat16"} == {
        dtype for name, dtype in computes.items() if name != "predictions"
    }
    assert all(w.dtype == "float32" for w in model.weights)
    assert result.metrics["test_accuracy"] > 0.3
    # The global policy is back to what it was.
    assert keras.config.dtype_policy().name == "float32"


def test_steps_per_execution_changes_speed_not_results(tmp_path):
    one, _ = run_recipe(tmp_path / "one", **{"train.mixed_precision": "float32"})
    four, _ = run_recipe(
        tmp_path / "four",
        **{"train.mixed_precision": "float32", "train.steps_per_execution": 4},
    )
    one = keras.saving.load_model(tmp_path / "one" / "model.keras")
    four = keras.saving.load_model(tmp_path / "four" / "model.keras")
    assert four.steps_per_execution == 4
    assert one.steps_per_execution == 1
    for a, b in zip(one.get_weights(), four.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    metrics = [
        json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("one", "four")
    ]
    assert metrics[0]["test_accuracy"] == pytest.approx(metrics[1]["test_accuracy"])


def test_jit_compile_reaches_the_model(tmp_path):
    recipe, result = run_recipe(
        tmp_path / "run",
        **{"train.jit_compile": True, "train.epochs": 1},
    )
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    assert model.jit_compile is True
    assert result.metrics["test_accuracy"] > 0.1
