"""The command line for daily use: predict folders, evaluate, help, Ctrl-C, run.json."""

import csv
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
from conftest import run_cli
from PIL import Image

from keras_recipes import registry
from keras_recipes.api import load_config
from keras_recipes.cli import build_parser, main
from keras_recipes.cli.keys import config_keys
from keras_recipes.data.digits import load_digits
from keras_recipes.data.image_folder import load_images

QUICK = [
    "--quick",
    "--set=train.epochs=3",
    "--set=callbacks.tensorboard.enabled=false",
]


def _umask_022():
    os.umask(0o022)


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """A quick run through the command line, with umask 022 and a pipe for stdout."""
    root = tmp_path_factory.mktemp("cli_run")
    run_dir = root / "run"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    result = subprocess.run(
        [sys.executable, "-m", "keras_recipes", "run", "small_data_classifier"]
        + [*QUICK, "--set=callbacks.tensorboard.enabled=true", "--run-dir", run_dir],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=_umask_022,
    )
    assert result.returncode == 0, result.stderr
    return run_dir, result


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    """Twenty test digits as PNGs in nested folders, and a file that is no image."""
    root = tmp_path_factory.mktemp("to_predict")
    _, (x_test, y_test), names = load_digits()
    for index in range(20):
        folder = root / ("batch_a" if index < 12 else "batch_b/deeper")
        folder.mkdir(parents=True, exist_ok=True)
        pixels = np.round(x_test[index, ..., 0]).astype("uint8")
        Image.fromarray(pixels, mode="L").save(folder / f"{index:02d}.png")
    (root / "notes.txt").write_text("not a picture")
    return root


def _expected_predictions(run_dir, files):
    model = keras.saving.load_model(run_dir / "model.keras")
    classes = json.loads((run_dir / "classes.json").read_text())
    _, height, width, channels = model.input_shape
    scores = model.predict(load_images(files, (height, width), channels), verbose=0)
    return [(classes[row.argmax()], float(row.max())) for row in scores]


def test_run_records_and_prints_its_automatic_choices(cli_run):
    import tensorflow as tf

    from keras_recipes.precision import resolve_mixed_precision

    run_dir, result = cli_run
    info = json.loads((run_dir / "run.json").read_text())
    expected_class = (
        "keras_recipes.recipes.small_data_classifier.recipe:SmallDataClassifier"
    )
    assert info["class"] == expected_class
    policy = resolve_mixed_precision("auto", tf.distribute.get_strategy())
    assert info["resolved"]["mixed_precision"] == policy
    assert info["resolved"]["devices"] == 1
    assert info["resolved"]["verbose"] == 2  # stdout was a pipe
    assert info["versions"]["keras"] == keras.__version__
    assert info["versions"]["tensorflow"] == tf.__version__
    assert f"precision: {policy} (train.mixed_precision: auto)" in result.stdout
    assert f"keras {keras.__version__}" in result.stdout
    # config.yaml keeps the setting, so a rerun elsewhere chooses again.
    assert "mixed_precision: auto" in (run_dir / "config.yaml").read_text()


def test_logs_to_a_pipe_have_one_plain_line_per_epoch(cli_run):
    _, result = cli_run
    assert "\r" not in result.stdout and "\x1b" not in result.stdout
    epoch_lines = re.findall(r"^\d+/\d+ - \d+s - .*loss: ", result.stdout, re.M)
    assert len(epoch_lines) == 3


def test_run_directory_files_are_0644_under_umask_022(cli_run):
    run_dir, _ = cli_run
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert {"config.yaml", "run.json", "model.keras", "metrics.json"} <= {
        p.name for p in files
    }
    assert any(p.parent.name == "train" for p in files)  # TensorBoard events
    modes = {str(p.relative_to(run_dir)): oct(p.stat().st_mode & 0o777) for p in files}
    assert set(modes.values()) == {"0o644"}, modes
    folders = [p for p in run_dir.rglob("*") if p.is_dir()]
    assert {oct(p.stat().st_mode & 0o777) for p in folders} == {"0o755"}


def test_predict_a_folder_recursively_to_csv(cli_run, image_folder, tmp_path):
    run_dir, _ = cli_run
    output = tmp_path / "out" / "results.csv"
    result = run_cli("predict", run_dir, image_folder, "--output", output)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote {output}: 20 predictions"
    with output.open() as file:
        rows = list(csv.DictReader(file))
    files = sorted(image_folder.rglob("*.png"))
    assert [row["path"] for row in rows] == [str(p) for p in files]
    assert list(rows[0]) == ["path", "class", "probability"]
    for row, (label, probability) in zip(
        rows, _expected_predictions(run_dir, files), strict=True
    ):
        assert row["class"] == label
        assert float(row["probability"]) == pytest.approx(probability, abs=1e-5)


def test_predict_files_and_folders_on_a_terminal_and_as_json(
    cli_run, image_folder, tmp_path, capsys
):
    run_dir, _ = cli_run
    single = image_folder / "batch_a" / "00.png"
    deeper = image_folder / "batch_b"
    files = [single, *sorted(deeper.rglob("*.png"))]
    expected = _expected_predictions(run_dir, files)
    assert main(["predict", str(run_dir), str(single), str(deeper)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: {label} ({probability:.3f})"
        for path, (label, probability) in zip(files, expected, strict=True)
    ]
    output = tmp_path / "predictions.json"
    arguments = [str(single), "--json", "--output", str(output)]
    assert main(["predict", str(run_dir), *arguments]) == 0
    printed = capsys.readouterr()
    rows = json.loads(printed.out)
    assert printed.err.strip() == f"wrote {output}: 1 prediction"
    assert rows == json.loads(output.read_text())
    assert rows[0]["path"] == str(single) and rows[0]["class"] == expected[0][0]
    assert rows[0]["probability"] == pytest.approx(expected[0][1], abs=1e-5)


@pytest.mark.parametrize(
    "problem, expected",
    [
        ("missing", "no such image file or folder: {path}"),
        ("text", "not an image file: {path} (expected .bmp, .gif, .jpeg, .jpg, "),
        ("output", "--output {path}: give a file ending in .csv or .json"),
    ],
)
def test_predict_mistakes_are_one_line(cli_run, tmp_path, capsys, problem, expected):
    run_dir, _ = cli_run
    path = tmp_path / "photo.png"
    arguments = [path]
    if problem == "text":
        path = tmp_path / "notes.txt"
        path.write_text("no picture")
        arguments = [path]
    elif problem == "output":
        path = tmp_path / "results.xlsx"
        arguments = [tmp_path, "--output", path]
    status = main(["predict", str(run_dir), *map(str, arguments)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(lines) == 1, lines
    assert lines[0].startswith("error: " + expected.format(path=path)), lines
    assert "move it out of the data folder" not in lines[0]


def test_evaluate_prints_like_run_or_json_and_writes_a_file(cli_run, tmp_path, capsys):
    run_dir, _ = cli_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    output = tmp_path / "scores.csv"
    assert main(["evaluate", str(run_dir), "--output", str(output)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        *(f"{name}: {value:.4f}" for name, value in metrics.items()),
        f"wrote {output}: 1 row of metrics",
    ]
    with output.open() as file:
        (row,) = list(csv.DictReader(file))
    assert float(row["test_accuracy"]) == pytest.approx(metrics["test_accuracy"])
    assert main(["evaluate", str(run_dir), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == pytest.approx(metrics, abs=1e-6)


def test_run_name_help_lists_the_recipe_keys_with_docs_and_defaults():
    result = run_cli("run", "small_data_classifier", "--help")
    assert result.returncode == 0, result.stderr
    assert "config keys of small_data_classifier" in result.stdout
    keys = config_keys(load_config("small_data_classifier"))
    assert len(keys) > 40
    listed = re.findall(r"^  ([\w.]+): ", result.stdout, re.M)
    assert listed == [key for key, _, _ in keys]
    epochs = re.search(r"^  train\.epochs: (\d+) +# (.*)$", result.stdout, re.M)
    assert epochs.groups() == ("60", "Passes over the training data.")
    source = re.search(r"^  data\.source: (\w+) +# (.*)$", result.stdout, re.M)
    assert source.groups() == ("digits", "digits (embedded) | folder (data.directory)")


def test_every_argument_has_help_text():
    parser = build_parser()
    (commands,) = [a for a in parser._actions if a.choices and a.dest == "command"]
    missing = [
        f"{name} {action.dest}"
        for name, sub in commands.choices.items()
        for action in sub._actions
        if not action.help
    ]
    assert missing == []
    assert all(action.help for action in parser._actions)


def _interrupt_a_run(tmp_path):
    """Sends SIGINT to a run after two finished epochs; returns it and stderr."""
    run_dir = tmp_path / "interrupted"
    pointer = run_dir / "backup" / "training_metadata.json"
    command = [sys.executable, "-m", "keras_recipes", "run", "small_data_classifier"]
    settings = ["--quick", "--set=train.epochs=12", "--set=model.filters=[8]"]
    process = subprocess.Popen(
        [*command, *settings, "--run-dir", str(run_dir)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
        # A shell that starts the tests in the background ignores Ctrl-C, and
        # children inherit that: give the run the default a terminal gives.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if pointer.is_file() and json.loads(pointer.read_text())["epoch"] >= 2:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the run ended before it was interrupted"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    return run_dir, stderr.splitlines()[-1]


def test_ctrl_c_exits_130_and_says_how_to_resume(tmp_path):
    run_dir, line = _interrupt_a_run(tmp_path)
    assert line == (
        f"interrupted; continue with: python -m keras_recipes run "
        f"small_data_classifier --resume --run-dir {run_dir}"
    )
    assert (run_dir / "config.yaml").is_file() and (run_dir / "backup").is_dir()


@pytest.mark.slow
def test_the_line_printed_at_ctrl_c_continues_the_run(tmp_path):
    run_dir, line = _interrupt_a_run(tmp_path)
    suggestion = line.split("continue with: ", 1)[1]
    resumed = run_cli(*shlex.split(suggestion)[3:], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    finished = re.search(r"resuming after (\d+) finished epochs", resumed.stdout)
    assert finished and int(finished.group(1)) >= 2
    history = (run_dir / "history.csv").read_text().splitlines()
    assert len(history) == 1 + 12  # header, then every epoch once
    assert (run_dir / "metrics.json").is_file()


SUBCLASS_MODULE = """
import keras

import keras_recipes
from keras_recipes.recipes import SmallDataClassifier


def softmax_regression(data, name):
    return keras.Sequential(
        [
            keras.Input(data.input_shape),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Flatten(),
            keras.layers.Dense(len(data.class_names), activation="softmax"),
        ],
        name=name,
    )


@keras_recipes.register
class TinyDigits(SmallDataClassifier):
    name = "tiny_digits"

    def build_model(self, data):
        return softmax_regression(data, "tiny_digits")


class UnnamedDigits(SmallDataClassifier):
    def build_model(self, data):
        return softmax_regression(data, "unnamed_digits")
"""


def _model_name(run_dir):
    return keras.saving.load_model(run_dir / "model.keras").name


@pytest.fixture
def digit_recipes(tmp_path, monkeypatch):
    """A module of recipe subclasses on `sys.path`, forgotten after the test."""
    (tmp_path / "digit_recipes.py").write_text(SUBCLASS_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_RECIPES", dict(registry._RECIPES))
    monkeypatch.delitem(sys.modules, "digit_recipes", raising=False)
    yield "digit_recipes"
    sys.modules.pop("digit_recipes", None)


def _forget(module):
    """Makes this process like a new one, which has not imported `module`."""
    sys.modules.pop(module)
    for name, cls in list(registry._RECIPES.items()):
        if cls.__module__ == module:
            del registry._RECIPES[name]


def test_registered_subclass_reruns_from_its_config_or_names_the_import(
    digit_recipes, tmp_path, capsys
):
    quick = [*QUICK, "--set=train.verbose=0", "--import", digit_recipes]
    first = tmp_path / "first"
    assert main(["run", "tiny_digits", *quick, "--run-dir", str(first)]) == 0
    info = json.loads((first / "run.json").read_text())
    assert info["class"] == "digit_recipes:TinyDigits"
    config = first / "config.yaml"
    scores = json.loads((first / "metrics.json").read_text())
    assert scores["test_accuracy"] > 0.5  # softmax regression after 3 epochs
    # In a process without the module, the config names what to import.
    _forget(digit_recipes)
    capsys.readouterr()
    refused = tmp_path / "refused"
    status = main(["run", str(config), "--run-dir", str(refused)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(lines) == 1, lines
    assert "digit_recipes:TinyDigits" in lines[0]
    assert "--import digit_recipes" in lines[0]
    assert not refused.exists()
    # With it, the rerun rebuilds the subclass and repeats its numbers.
    again = tmp_path / "again"
    status = main(
        ["run", str(config), "--import", digit_recipes, "--run-dir", str(again)]
    )
    assert status == 0
    assert _model_name(again) == "tiny_digits"
    assert json.loads((again / "metrics.json").read_text()) == scores


def test_unnamed_subclass_reruns_in_its_process_and_is_refused_elsewhere(
    digit_recipes, tmp_path
):
    import importlib

    import keras_recipes
    from keras_recipes.recipes import SmallDataClassifier

    module = importlib.import_module(digit_recipes)
    overrides = {
        **SmallDataClassifier.quick,
        "train.epochs": 3,
        "train.verbose": 0,
        "callbacks.tensorboard.enabled": False,
    }
    config = load_config("small_data_classifier", overrides)
    first = module.UnnamedDigits(config, run_dir=tmp_path / "first").run()
    info = json.loads((first.run_dir / "run.json").read_text())
    assert info["class"] == "digit_recipes:UnnamedDigits"
    assert info["recipe"] == "small_data_classifier"
    saved = first.run_dir / "config.yaml"
    again = keras_recipes.run(saved, run_dir=tmp_path / "again")
    assert _model_name(again.run_dir) == "unnamed_digits"
    assert again.metrics == first.metrics
    _forget(digit_recipes)
    with pytest.raises(keras_recipes.UserError) as refused:
        keras_recipes.run(saved, run_dir=tmp_path / "refused")
    assert "digit_recipes:UnnamedDigits" in str(refused.value)
    assert "import digit_recipes first" in str(refused.value)
    # Predicting needs only the model: the stock recipe serves it.
    recipe, _ = keras_recipes.load_run(first.run_dir)
    assert type(recipe) is SmallDataClassifier


def test_run_json_prints_only_json_on_stdout(tmp_path, capsys):
    run_dir = tmp_path / "run"
    quick = [*QUICK, "--set=train.verbose=2"]
    assert (
        main(
            ["run", "small_data_classifier", *quick, "--json"]
            + ["--run-dir", str(run_dir)]
        )
        == 0
    )
    printed = capsys.readouterr()
    result = json.loads(printed.out)
    assert result["run_dir"] == str(run_dir)
    assert result["metrics"] == json.loads((run_dir / "metrics.json").read_text())
    assert "Epoch 3/3" in printed.err  # the training log went to stderr


def test_an_import_that_fails_is_one_line(tmp_path, capsys):
    status = main(["run", "tiny_digits", "--import", "no_such_module_here"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(lines) == 1, lines
    assert lines[0].startswith("error: --import no_such_module_here: cannot import")


def test_a_missing_image_is_said_to_be_missing(tmp_path):
    from keras_recipes.data.image_files import check_image, find_image_files
    from keras_recipes.errors import DataError

    gone = tmp_path / "gone.png"
    with pytest.raises(DataError, match=f"^image file not found: {gone}$"):
        check_image(gone)
    # A folder: its images at any depth, sorted; hidden folders and other files
    # skipped.
    for name in ("b/2.png", "a/1.JPG", ".cache/3.png"):
        path = tmp_path / "photos" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("L", (4, 4)).save(path, format="JPEG" if "JPG" in name else "PNG")
    (tmp_path / "photos" / "a" / "readme.md").write_text("not an image")
    found = find_image_files([tmp_path / "photos"])
    assert [p.relative_to(tmp_path / "photos").as_posix() for p in found] == [
        "a/1.JPG",
        "b/2.png",
    ]
