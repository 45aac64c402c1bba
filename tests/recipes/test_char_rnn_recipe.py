"""The character-level language model: factory, sampling, recipe and CLI."""

import json
import math

import keras
import numpy as np
import pytest

import keras_recipes
from keras_recipes.errors import ConfigError, UserError
from keras_recipes.models.char_rnn import BitsPerCharacter, char_rnn, generate

SENTENCE = "the quick brown fox jumps over the lazy dog. "


@pytest.mark.parametrize(
    "cell, layer_class",
    [
        ("lstm", keras.layers.LSTM),
        ("gru", keras.layers.GRU),
        ("simple_rnn", keras.layers.SimpleRNN),
    ],
)
def test_factory_builds_each_cell(cell, layer_class):
    model = char_rnn(30, cell=cell, units=8, num_layers=2, embedding_dim=4, dropout=0.1)
    assert isinstance(model.get_layer(f"{cell}_2"), layer_class)
    logits = model(np.zeros((3, 7), "int32"))
    assert logits.shape == (3, 7, 30)
    with pytest.raises(ValueError, match="cell='rnn'"):
        char_rnn(30, cell="rnn")


def test_bits_per_char_is_cross_entropy_over_log_two():
    logits = np.random.default_rng(0).normal(size=(2, 5, 7)).astype("float32")
    labels = np.random.default_rng(1).integers(0, 7, (2, 5))
    metric = BitsPerCharacter()
    metric.update_state(labels, logits)
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    nats = -np.take_along_axis(log_probs, labels[..., None], -1).mean()
    assert float(metric.result()) == pytest.approx(nats / math.log(2), rel=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_stateful_sampling_matches_rerunning_the_whole_prefix(cell):
    keras.utils.set_random_seed(0)
    model = char_rnn(12, cell=cell, units=16, num_layers=2, embedding_dim=5)
    start = np.array([3, 1, 4, 1, 5], "int32")
    sampled = generate(model, start, 8, temperature=0)
    # The same greedy text, computed another way: run the full model over the
    # whole text so far and take the likeliest next character, every step.
    text = list(start)
    for _ in range(8):
        logits = model(np.array([text], "int32"))
        text.append(int(np.argmax(logits[0, -1])))
    assert sampled.tolist() == text[len(start) :]


def test_temperature_reshapes_the_sampling_distribution():
    # Zero output weights and a chosen bias make the model predict the same
    # distribution p at every step; temperature T samples from p^(1/T).
    model = char_rnn(4, units=4, embedding_dim=2)
    p = np.array([0.6, 0.25, 0.1, 0.05])
    logits_layer = model.get_layer("logits")
    kernel, _ = logits_layer.get_weights()
    logits_layer.set_weights([np.zeros_like(kernel), np.log(p)])
    for temperature in (1.0, 0.5, 2.0):
        ids = generate(model, [0], 2000, temperature=temperature, seed=1)
        frequencies = np.bincount(ids, minlength=4) / len(ids)
        expected = p ** (1 / temperature) / np.sum(p ** (1 / temperature))
        np.testing.assert_allclose(frequencies, expected, atol=0.04)
    assert generate(model, [0], 50, temperature=0).tolist() == [0] * 50
    first = generate(model, [1], 100, temperature=1.0, seed=3)
    assert first.tolist() == generate(model, [1], 100, 1.0, seed=3).tolist()


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("char_runs")
    text_file = root / "fox.txt"
    text_file.write_text(SENTENCE * 400)
    overrides = {
        "data.source": str(text_file),
        "data.sequence_length": 24,
        "data.block_length": 500,
        "model.units": 48,
        "train.epochs": 4,
        "train.batch_size": 16,
        "train.verbose": 0,
        "optimizer.learning_rate": 0.01,
        "sample.length": 60,
        "sample.temperature": 0.2,
        "sample.seed_text": "the ",
        "callbacks.tensorboard.enabled": False,
    }
    return keras_recipes.run("char_rnn", overrides, runs_root=root)


def test_run_reports_bits_per_char(small_run):
    metrics = json.loads((small_run.run_dir / "metrics.json").read_text())
    assert metrics["val_bits_per_char"] == pytest.approx(
        metrics["val_loss"] / math.log(2), rel=1e-4
    )
    vocabulary = json.loads((small_run.run_dir / "vocabulary.json").read_text())
    assert vocabulary == sorted(set(SENTENCE))
    assert metrics["uniform_bits_per_char"] == pytest.approx(math.log2(28))
    # A repeated sentence is nearly certain: far below the uniform guess.
    assert metrics["val_bits_per_char"] < 1.0
    model = keras.saving.load_model(small_run.run_dir / "model.keras")
    assert metrics["parameters"] == model.count_params()
    history = small_run.history
    assert history["val_bits_per_char"][-1] < history["val_bits_per_char"][0]


def test_run_writes_a_sample_of_the_text(small_run):
    sample = (small_run.run_dir / "samples.txt").read_text()
    assert sample.startswith("the ")
    assert len(sample) == len("the ") + 60 + len("\n")
    words = set(sample.split())
    assert words & {"quick", "brown", "fox", "jumps", "over", "lazy"}


def test_sample_command_and_its_errors(small_run, capsys):
    from keras_recipes.cli import main

    arguments = ["sample", str(small_run.run_dir), "--temperature", "0"]
    assert main([*arguments, "--length", "45", "--seed-text", "the quick "]) == 0
    assert capsys.readouterr().out.startswith("the quick brown fox")
    assert main([*arguments, "--seed-text", "Q"]) == 2
    error = capsys.readouterr().err
    assert "--seed-text" in error and "'Q'" in error


def test_parameter_count_against_data_size_is_printed(tmp_path, capsys):
    text_file = tmp_path / "fox.txt"
    text_file.write_text(SENTENCE * 100)
    config = keras_recipes.load_config(
        "char_rnn",
        {"data.source": str(text_file), "model.units": 8, "data.block_length": 500},
    )
    from keras_recipes.recipes import CharRNN

    recipe = CharRNN(config)
    data = recipe.build_data()
    model = recipe.build_model(data)
    printed = capsys.readouterr().out
    assert f"{model.count_params():,} parameters" in printed
    assert f"{data.train_size:,} training characters" in printed
    assert data.train_size + data.validation_size == 4500


def test_validation_split_is_the_share_of_held_out_text(tmp_path):
    text_file = tmp_path / "fox.txt"
    text_file.write_text(SENTENCE * 100)
    overrides = {"data.source": str(text_file), "data.block_length": 500}
    from keras_recipes.recipes import CharRNN

    for split, held_out in ((0.1, 500), (0.2, 1000)):
        config = keras_recipes.load_config(
            "char_rnn", {**overrides, "train.validation_split": split}
        )
        assert CharRNN(config).build_data().validation_size == held_out
    with pytest.raises(ConfigError, match="train.validation_split is 0"):
        keras_recipes.load_config("char_rnn", {"train.validation_split": 0})


def test_too_small_a_text_is_one_clear_error(tmp_path):
    text_file = tmp_path / "short.txt"
    text_file.write_text("abc" * 30)
    config = keras_recipes.load_config("char_rnn", {"data.source": str(text_file)})
    from keras_recipes.recipes import CharRNN

    with pytest.raises(UserError, match="validation text has"):
        CharRNN(config).build_data()


@pytest.mark.slow
def test_default_config_reaches_two_bits_per_char(tmp_path):
    result = keras_recipes.run("char_rnn", {"train.verbose": 2}, runs_root=tmp_path)
    assert result.metrics["val_bits_per_char"] <= 2.0
