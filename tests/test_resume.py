"""Kill a run with SIGKILL mid-training, resume it, and get the same weights."""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
from conftest import run_cli

from keras_recipes.run_files import read_history

EPOCHS = 6
SETTINGS = [
    f"--set={key}"
    for key in (
        f"train.epochs={EPOCHS}",
        "train.verbose=2",
        "data.image_size=[8, 8]",
        "model.filters=[8]",
        "model.dense_units=16",
    )
]


def _command(run_dir, *extra, settings=SETTINGS):
    return [
        sys.executable,
        "-m",
        "keras_recipes",
        "run",
        "small_data_classifier",
        *settings,
        "--run-dir",
        str(run_dir),
        *extra,
    ]


def _kill_after_epochs(run_dir, epochs, timeout=300, settings=SETTINGS):
    pointer = run_dir / "backup" / "training_metadata.json"
    process = subprocess.Popen(
        _command(run_dir, settings=settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if pointer.is_file() and json.loads(pointer.read_text())["epoch"] >= epochs:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the run ended before it could be killed"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    return json.loads(pointer.read_text())["epoch"]


def test_killed_run_resumes_at_its_last_epoch_and_ends_identical(tmp_path):
    interrupted = tmp_path / "interrupted"
    finished_before_kill = _kill_after_epochs(interrupted, epochs=2)
    assert 2 <= finished_before_kill < EPOCHS
    assert not (interrupted / "metrics.json").exists()

    resumed = subprocess.run(
        _command(interrupted, "--resume"), capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming after {finished_before_kill} finished epochs" in resumed.stdout
    assert f"Epoch {finished_before_kill + 1}/{EPOCHS}" in resumed.stdout
    assert "Epoch 1/" not in resumed.stdout

    straight = run_cli(
        "run", "small_data_classifier", *SETTINGS, "--run-dir", tmp_path / "straight"
    )
    assert straight.returncode == 0, straight.stderr

    history = read_history(interrupted / "history.csv")
    reference = read_history(tmp_path / "straight" / "history.csv")
    assert len(history["loss"]) == EPOCHS
    np.testing.assert_array_equal(history["loss"], reference["loss"])
    models = [
        keras.saving.load_model(path / "model.keras")
        for path in (interrupted, tmp_path / "straight")
    ]
    for ours, theirs in zip(
        models[0].get_weights(), models[1].get_weights(), strict=True
    ):
        np.testing.assert_array_equal(ours, theirs)
    metrics = [
        json.loads((path / "metrics.json").read_text())
        for path in (interrupted, tmp_path / "straight")
    ]
    assert metrics[0] == metrics[1]
    assert not (interrupted / "backup").exists()


# A run that early stopping ends after a dozen epochs: a high constant
# learning rate, so the validation loss soon stops improving.
EARLY_STOPPING_SETTINGS = [
    f"--set={key}"
    for key in (
        "train.epochs=40",
        "train.verbose=2",
        "data.image_size=[8, 8]",
        "model.filters=[8]",
        "model.dense_units=16",
        "optimizer.learning_rate=0.01",
        "optimizer.schedule.name=constant",
        "callbacks.early_stopping.patience=2",
    )
]


def test_run_killed_while_early_stopping_counts_stops_where_a_whole_one_does(
    tmp_path,
):
    straight = run_cli(
        *_command(tmp_path / "straight", settings=EARLY_STOPPING_SETTINGS)[3:]
    )
    assert straight.returncode == 0, straight.stderr
    reference = read_history(tmp_path / "straight" / "history.csv")
    epochs = len(reference["val_loss"])
    best = int(np.argmin(reference["val_loss"]))
    assert epochs < 40, "early stopping should end the run"
    assert f"Epoch {epochs}: early stopping" in straight.stdout

    # Killed once the best epoch and one more are backed up: early stopping
    # has started counting, with its patience not yet used up.
    interrupted = tmp_path / "interrupted"
    finished = _kill_after_epochs(
        interrupted, epochs=best + 2, settings=EARLY_STOPPING_SETTINGS
    )
    assert best + 2 <= finished < epochs
    resumed = subprocess.run(
        _command(interrupted, "--resume", settings=EARLY_STOPPING_SETTINGS),
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming after {finished} finished epochs" in resumed.stdout
    assert f"Epoch {epochs}: early stopping" in resumed.stdout

    history = read_history(interrupted / "history.csv")
    assert history.keys() == reference.keys()
    for name, values in reference.items():
        np.testing.assert_array_equal(history[name], values, err_msg=name)
    metrics = [
        json.loads((path / "metrics.json").read_text())
        for path in (interrupted, tmp_path / "straight")
    ]
    assert metrics[0] == metrics[1]
    assert not (interrupted / "backup").exists()
