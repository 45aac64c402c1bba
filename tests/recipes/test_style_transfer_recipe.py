import json

import numpy as np
import pytest
from conftest import run_cli
from PIL import Image

import keras_recipes
from keras_recipes.errors import ConfigError, DataError, UserError
from keras_recipes.recipes import StyleTransfer
from keras_recipes.run_files import read_history

# Random VGG features are far smaller than ImageNet ones, so the cost's
# weights are rescaled to keep the style term the largest.
RANDOM_VGG = {
    "model.weights": None,
    "model.content_weight": 1e-3,
    "model.style_weight": 1e-2,
    "model.variation_weight": 1e-8,
    "optimizer.name": "adam",
    "optimizer.learning_rate": 4.0,
    "optimizer.schedule.name": "constant",
    "train.verbose": 0,
}


def test_fifty_steps_halve_the_loss_on_a_64x64_pair(tmp_path):
    overrides = {
        **RANDOM_VGG,
        "data.height": 64,
        "data.width": 64,
        "train.steps": 50,
        "train.save_every": 10,
    }
    result = keras_recipes.run("style_transfer", overrides, runs_root=tmp_path)
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert metrics["loss"] <= 0.5 * metrics["initial_loss"], metrics
    history = read_history(result.run_dir / "history.csv")
    assert len(history["loss"]) == 50
    assert history["loss"][0] == metrics["initial_loss"]
    # The style term is what falls; starting from the content image, the
    # content term starts at 0.
    assert history["style"][-1] < 0.1 * history["style"][0]
    assert history["content"][0] == 0.0
    total = metrics["content_loss"] + metrics["style_loss"] + metrics["variation_loss"]
    assert metrics["loss"] == pytest.approx(total, rel=1e-5)

    figures = result.run_dir / "figures"
    saved = sorted(p.name for p in figures.glob("step_*.png"))
    assert saved == [f"step_{n:05d}.png" for n in range(0, 51, 10)]
    for name in ("content_style_result", "loss_terms", "progress"):
        assert (figures / f"{name}.png").stat().st_size > 5000
    final = np.asarray(Image.open(figures / "result.png"), dtype="float32")
    assert final.shape == (64, 64, 3)
    np.testing.assert_array_equal(
        final, np.asarray(Image.open(figures / "step_00050.png"))
    )
    start = np.asarray(Image.open(figures / "step_00000.png"), dtype="float32")
    assert np.abs(final - start).mean() > 5  # the picture changed
    assert (result.run_dir / "config.yaml").is_file()

    # The saved config repeats the run to the last digit.
    again = keras_recipes.run(
        result.run_dir / "config.yaml", runs_root=tmp_path / "again"
    )
    assert again.metrics["loss"] == metrics["loss"]


def test_cli_offline_imagenet_is_one_line_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    result = run_cli("run", "style_transfer", "--set", "data.height=32", cwd=tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5" in lines[0]
    assert str(tmp_path / "keras_home" / "models") in lines[0]
    assert not (tmp_path / "runs").exists()


def test_cli_runs_on_image_files_with_random_weights(tmp_path):
    rng = np.random.default_rng(0)
    for name, size in (("content.png", (30, 60)), ("style.jpg", (50, 40))):
        pixels = rng.integers(0, 256, (*size, 3), dtype="uint8")
        Image.fromarray(pixels).save(tmp_path / name)
    sets = [
        f"{key}={'null' if value is None else value}"
        for key, value in RANDOM_VGG.items()
    ]
    sets += [
        f"data.content={tmp_path / 'content.png'}",
        f"data.style={tmp_path / 'style.jpg'}",
        "data.height=16",
        "train.steps=3",
        "train.save_every=2",
    ]
    args = [item for pair in (("--set", s) for s in sets) for item in pair]
    result = run_cli("run", "style_transfer", *args, "--run-dir", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "style_loss:" in result.stdout
    figures = tmp_path / "out" / "figures"
    # 30 x 60 content at height 16: the width keeps the 1:2 aspect ratio.
    assert Image.open(figures / "result.png").size == (32, 16)
    assert sorted(p.name for p in figures.glob("step_*")) == [
        "step_00000.png",
        "step_00002.png",
        "step_00003.png",
    ]


def test_config_mistakes_are_caught_before_any_work(tmp_path):
    with pytest.raises(ConfigError, match="style_layer_weights has 1 weights"):
        keras_recipes.load_config("style_transfer", {"model.style_layer_weights": [1]})
    with pytest.raises(ConfigError, match="train.init"):
        keras_recipes.load_config("style_transfer", {"train.init": "zeros"})
    with pytest.raises(ConfigError, match="callbacks.early_stopping"):
        keras_recipes.load_config(
            "style_transfer", {"callbacks.early_stopping.patience": 3}
        )
    config = keras_recipes.load_config(
        "style_transfer", {**RANDOM_VGG, "model.style_layers": ["block1conv1"]}
    )
    recipe = StyleTransfer(config)
    with pytest.raises(
        ConfigError, match="model.style_layers: .*did you mean 'block1_conv1'"
    ):
        recipe.build_model(None)
    missing = keras_recipes.load_config(
        "style_transfer", {"data.content": str(tmp_path / "nope.jpg")}
    )
    with pytest.raises(DataError, match="image file not found"):
        StyleTransfer(missing).build_data()
    with pytest.raises(UserError, match="cannot be resumed"):
        StyleTransfer(config, resume=True).build_data()


def test_shipped_config_follows_the_keras_example():
    config = keras_recipes.load_config("style_transfer")
    assert config.model.weights == "imagenet"
    assert config.model.backbone == "VGG19"
    assert config.model.content_layers == ["block5_conv2"]
    assert config.model.style_layers == [f"block{i}_conv1" for i in range(1, 6)]
    assert config.optimizer.name == "sgd" and config.train.save_every == 100
