"""The README's "Change one step" examples run, and do what they say."""

import json
import re
from pathlib import Path

import keras
import pytest
import yaml

from keras_recipes import registry

README = Path(__file__).resolve().parents[1] / "README.md"


def _examples():
    text = README.read_text()
    start = text.index("### Change one step")
    section = text[start : text.index("\n### ", start + 1)]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


# Each example by the name of the last class it defines: the recipe.
EXAMPLES = {
    re.findall(r"^class (\w+)", code, flags=re.M)[-1]: code for code in _examples()
}


def test_every_step_has_an_example():
    overridden = set()
    for code in EXAMPLES.values():
        overridden.update(re.findall(r"^    def (\w+)\(self", code, flags=re.M))
    steps = {"build_data", "build_model", "build_loss", "build_metrics", "compile"}
    steps |= {"build_callbacks", "fit", "evaluate", "export", "figures"}
    assert steps <= overridden, steps - overridden


@pytest.fixture
def run_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(registry, "_RECIPES", dict(registry._RECIPES))

    def run(name):
        namespace = {"__name__": f"readme_{name}"}
        exec(compile(EXAMPLES[name], f"README:{name}", "exec"), namespace)
        keras.backend.clear_session()
        return namespace

    return run


def test_wider_model(run_example):
    done = run_example("WiderClassifier")
    model = keras.saving.load_model(done["result"].run_dir / "model.keras")
    assert model.get_layer(index=1).filters == 64
    assert done["result"].metrics["test_accuracy"] > 0.8


def test_your_own_arrays(run_example):
    result = run_example("ArrayDigits")["result"]
    assert result.metrics["test_accuracy"] > 0.8
    model = keras.saving.load_model(result.run_dir / "model.keras")
    assert model.input_shape == (None, 8, 8, 1)


def test_another_optimizer_and_metric(run_example):
    done = run_example("MomentumClassifier")
    metrics = done["result"].metrics
    assert metrics["test_top2"] >= metrics["test_accuracy"] > 0.8
    model = keras.saving.load_model(done["result"].run_dir / "model.keras")
    assert type(model.optimizer).__name__ == "SGD"


def test_another_loss(run_example):
    done = run_example("AbsoluteErrorAutoencoder")
    model = keras.saving.load_model(done["result"].run_dir / "model.keras")
    assert type(model.loss).__name__ == "MeanAbsoluteError"
    assert done["result"].metrics["test_reconstruction_mse"] < 0.1


def test_a_callback_of_your_own(run_example):
    result = run_example("LoggedClassifier")["result"]
    rates = result.history["learning_rate"]
    # The digits classifier's cosine schedule, read once an epoch.
    assert len(rates) == 5
    assert rates == sorted(rates, reverse=True) and rates[0] > rates[-1] >= 0
    assert rates[0] <= result.config.optimizer.learning_rate


def test_timed_fit(run_example):
    result = run_example("TimedClassifier")["result"]
    saved = json.loads((result.run_dir / "timings.json").read_text())
    assert saved["fit_seconds"] == pytest.approx(result.timings["fit_seconds"])
    assert saved["fit_seconds"] > 0
    assert "fit_seconds" not in result.metrics


def test_another_evaluation(run_example):
    metrics = run_example("F1Classifier")["result"].metrics
    assert metrics["test_macro_f1"] > 0.8
    assert abs(metrics["test_macro_f1"] - metrics["test_accuracy"]) < 0.05


def test_more_outputs(run_example):
    result = run_example("MoreOutputs")["result"]
    assert (result.run_dir / "figures" / "confidence.png").stat().st_size > 5000
    model = keras.saving.load_model(result.run_dir / "model.keras")
    weights = [w.copy() for w in model.get_weights()]
    for weight in model.weights:
        weight.assign(keras.ops.zeros_like(weight))
    model.load_weights(result.run_dir / "model.weights.h5")
    assert all(
        (a == b).all() for a, b in zip(weights, model.get_weights(), strict=True)
    )


def test_a_registered_subclass_reruns_from_its_config(run_example):
    done = run_example("TinyClassifier")
    first, again = done["first"], done["again"]
    assert first.run_dir.parent.name == "tiny_classifier"
    saved = yaml.safe_load((first.run_dir / "config.yaml").read_text())
    assert saved["recipe"] == "tiny_classifier"
    assert again.run_dir != first.run_dir
    assert again.metrics == first.metrics
    model = keras.saving.load_model(again.run_dir / "model.keras")
    assert [type(layer).__name__ for layer in model.layers] == [
        "Rescaling",
        "Flatten",
        "Dense",
    ]
