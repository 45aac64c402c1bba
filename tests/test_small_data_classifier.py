"""End-to-end runs of the small-data classifier on the embedded digits."""

import json

import keras
import numpy as np
import pytest
from conftest import run_cli

import keras_recipes
from keras_recipes.recipes import SmallDataClassifier
from keras_recipes.run_files import read_history

QUICK = {
    "train.epochs": 8,
    "train.verbose": 0,
    "data.image_size": [8, 8],
    "model.filters": [32],
    "model.dense_units": 64,
    "optimizer.learning_rate": 0.01,
    "optimizer.schedule.name": "constant",
}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return keras_recipes.run("small_data_classifier", QUICK, runs_root=root)


def _tensorboard_tags(folder):
    from tensorboard.backend.event_processing import event_accumulator

    accumulator = event_accumulator.EventAccumulator(
        str(folder), size_guidance={event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    return {tag: len(accumulator.Tensors(tag)) for tag in accumulator.Tags()["tensors"]}


def test_run_directory_holds_every_artifact(quick_run):
    run_dir = quick_run.run_dir
    for name in ("config.yaml", "model.keras", "history.csv", "metrics.json"):
        assert (run_dir / name).is_file(), name
    assert (run_dir / "checkpoints" / "best.keras").is_file()
    figures = sorted(p.name for p in (run_dir / "figures").glob("*.png"))
    assert figures == [
        "augmentation_preview.png",
        "confusion_matrix.png",
        "training_curves.png",
    ]
    epochs = len(quick_run.history["loss"])
    assert epochs == 8
    for split in ("train", "validation"):
        tags = _tensorboard_tags(run_dir / "logs" / split)
        assert tags["epoch_loss"] == epochs and tags["epoch_accuracy"] == epochs
    assert not (run_dir / "backup").exists()  # removed once training finished


def test_metrics_are_real(quick_run):
    metrics = json.loads((quick_run.run_dir / "metrics.json").read_text())
    assert metrics == quick_run.metrics
    assert metrics["test_accuracy"] >= 0.85
    history = read_history(quick_run.run_dir / "history.csv")
    assert history["loss"][-1] < history["loss"][0]
    # The saved model scores the held-out digits as the run reported.
    from keras_recipes.data.digits import load_digits

    _, (x_test, y_test), _ = load_digits()
    model = keras.saving.load_model(quick_run.run_dir / "model.keras")
    accuracy = np.mean(model.predict(x_test, verbose=0).argmax(-1) == y_test)
    assert accuracy == pytest.approx(metrics["test_accuracy"], abs=1e-6)


def test_config_yaml_reproduces_the_run(quick_run, tmp_path):
    again = keras_recipes.run(quick_run.run_dir / "config.yaml", runs_root=tmp_path)
    assert again.metrics == quick_run.metrics
    assert again.run_dir != quick_run.run_dir


def test_run_directory_is_never_reused(quick_run):
    with pytest.raises(keras_recipes.UserError, match="not empty"):
        keras_recipes.run("small_data_classifier", QUICK, run_dir=quick_run.run_dir)


def test_subclass_overriding_only_build_model(tmp_path):
    class DenseOnly(SmallDataClassifier):
        def build_model(self, data):
            return keras.Sequential(
                [
                    keras.Input(data.input_shape),
                    keras.layers.Rescaling(1 / 255),
                    keras.layers.Flatten(),
                    keras.layers.Dense(len(data.class_names), activation="softmax"),
                ],
                name="dense_only",
            )

    config = keras_recipes.load_config("small_data_classifier", QUICK)
    result = DenseOnly(config, runs_root=tmp_path).run()
    model = keras.saving.load_model(result.run_dir / "model.keras")
    assert model.name == "dense_only"
    assert result.metrics["test_accuracy"] >= 0.8  # softmax regression on digits


def test_folder_data_train_validation_test(digits_folder, tmp_path):
    overrides = dict(
        QUICK, **{"data.source": "folder", "data.directory": str(digits_folder)}
    )
    result = keras_recipes.run("small_data_classifier", overrides, runs_root=tmp_path)
    assert result.metrics["test_accuracy"] >= 0.85
    classes = json.loads((result.run_dir / "classes.json").read_text())
    assert classes == [str(i) for i in range(10)]
    # predict: the class and probability of each file, as printed.
    files = sorted((digits_folder / "test" / "7").glob("*.png"))[:3]
    printed = run_cli("predict", result.run_dir, *files)
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.strip().splitlines()
    assert len(lines) == 3
    for line, path in zip(lines, files, strict=True):
        name, rest = line.rsplit(": ", 1)
        label, probability = rest.split()
        assert name == str(path)
        assert 0.0 < float(probability.strip("()")) <= 1.0
    assert sum(line.split(": ")[-1].startswith("7 ") for line in lines) >= 2


def test_cli_run_and_evaluate(tmp_path):
    result = run_cli(
        "run",
        "small_data_classifier",
        *[f"--set={key}={value}" for key, value in QUICK.items()],
        "--set=train.epochs=2",
        "--run-dir",
        tmp_path / "my_run",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "my_run" / "metrics.json").read_text())
    assert f"test_accuracy: {metrics['test_accuracy']:.4f}" in result.stdout
    evaluated = run_cli("evaluate", tmp_path / "my_run", "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    again = json.loads(evaluated.stdout)
    assert again["test_accuracy"] == pytest.approx(metrics["test_accuracy"], abs=1e-6)


@pytest.mark.slow
def test_shipped_config_reaches_097_on_held_out_digits(tmp_path):
    result = keras_recipes.run(
        "small_data_classifier", {"train.verbose": 0}, runs_root=tmp_path
    )
    assert result.metrics["test_accuracy"] >= 0.97


def test_quick_run_applies_the_recipe_quick_settings_first(tmp_path):
    result = keras_recipes.run(
        "small_data_classifier",
        {"train.epochs": 1, "train.verbose": 0},
        runs_root=tmp_path,
        quick=True,
    )
    assert result.config.model.filters == [16]  # from the quick settings
    assert len(result.history["loss"]) == 1  # the user's override wins


def test_augmentation_preview_draws_across_classes_by_seed():
    from keras_recipes.recipes.small_data_classifier.data import preview_indices

    labels = np.repeat(np.arange(10), 50)
    picked = preview_indices(labels, 8, seed=42)
    assert len(picked) == 8 and len(set(labels[picked])) == 8
    assert picked == preview_indices(labels, 8, seed=42)
    assert picked != preview_indices(labels, 8, seed=1)
    # Two classes, one nine times the other: four images of each.
    skewed = np.array([0] * 90 + [1] * 10)
    assert np.bincount(skewed[preview_indices(skewed, 8, seed=0)]).tolist() == [4, 4]
    assert preview_indices(np.array([3, 3]), 8, seed=0) in ([0, 1], [1, 0])


def test_preview_images_are_training_images_of_the_named_classes():
    # Without augmentation, an epoch of `train` holds the images themselves.
    overrides = {**QUICK, "data.augmentation.enabled": False}
    config = keras_recipes.load_config("small_data_classifier", overrides)
    data = SmallDataClassifier(config).build_data()
    assert data.preview_images.shape == (8, 8, 8, 1)
    assert len(set(data.preview_labels)) == 8
    # Each preview image is a training image of the class it is labelled with.
    pool = {}
    for images, labels in data.train.take(data.steps_per_epoch):
        for image, label in zip(images.numpy(), labels.numpy(), strict=True):
            pool.setdefault(data.class_names[label], []).append(image)
    for image, name in zip(data.preview_images, data.preview_labels, strict=True):
        assert min(np.abs(image - other).max() for other in pool[name]) < 1e-4


def test_training_curves_mark_the_best_and_the_early_stopping_epoch():
    config = keras_recipes.load_config("small_data_classifier", {"train.epochs": 10})
    recipe = SmallDataClassifier(config)
    history = {
        "accuracy": [0.5, 0.7, 0.75, 0.8, 0.82],
        "loss": [0.9, 0.6, 0.5, 0.45, 0.4],
        "val_accuracy": [0.6, 0.8, 0.7, 0.85, 0.8],
        "val_loss": [1.0, 0.7, 0.8, 0.75, 0.9],
    }
    marks = recipe.history_marks(history)
    assert marks == {"best_epoch": 2, "stopped_epoch": 5, "monitor": "val_loss"}
    by_accuracy = keras_recipes.load_config(
        "small_data_classifier",
        {"train.epochs": 5, "callbacks.early_stopping.monitor": "val_accuracy"},
    )
    marks = SmallDataClassifier(by_accuracy).history_marks(history)
    assert marks == {"best_epoch": 4, "stopped_epoch": None, "monitor": "val_accuracy"}
