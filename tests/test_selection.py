"""K-fold cross-validation, ensembles and test-time augmentation."""

import json

import keras
import numpy as np
import pytest

import keras_recipes
from keras_recipes.data.digits import load_digits, split_validation
from keras_recipes.data.folds import holdout_split, kfold_split, validation_fold
from keras_recipes.errors import UserError
from keras_recipes.selection import (
    cross_validate,
    ensemble,
    score_predictions,
    tta_metrics,
    tta_views,
)

QUICK = {
    "train.epochs": 6,
    "train.verbose": 0,
    "model.hidden_units": [32],
    "optimizer.learning_rate": 0.005,
    "callbacks.tensorboard.enabled": False,
}


def test_kfold_partitions_the_data_and_keeps_class_shares():
    x = np.arange(100)
    y = np.repeat([0, 1, 2, 3], 25)
    held = []
    for index in range(5):
        (x_train, _), (x_val, y_val) = kfold_split(x, y, index, 5, seed=3)
        assert len(x_val) == 20 and len(x_train) == 80
        assert not set(x_val) & set(x_train)
        assert np.bincount(y_val).tolist() == [5, 5, 5, 5]  # stratified
        held.append(x_val)
    assert sorted(np.concatenate(held).tolist()) == x.tolist()
    with pytest.raises(ValueError, match="index=5"):
        kfold_split(x, y, 5, 5)


def test_fold_scope_changes_the_shared_validation_split():
    x, y = np.arange(60).reshape(30, 2), np.repeat([0, 1, 2], 10)
    outside = split_validation(x, y, 0.2, seed=0)
    with validation_fold(1, 3, seed=7) as fold:
        inside = split_validation(x, y, 0.2, seed=0)
        regression = holdout_split(x, y.astype("float32"), 0.2, 0, stratify=False)
    assert fold.uses == 2
    np.testing.assert_array_equal(inside[1][0], kfold_split(x, y, 1, 3, 7)[1][0])
    assert len(inside[1][0]) == 10 and len(outside[1][0]) == 6
    assert len(regression[1][0]) == 10
    np.testing.assert_array_equal(split_validation(x, y, 0.2, 0)[1][0], outside[1][0])


@pytest.fixture(scope="module")
def cv_mlp(tmp_path_factory):
    root = tmp_path_factory.mktemp("cv")
    return cross_validate("mlp", folds=3, overrides=QUICK, runs_root=root)


def test_cross_validation_runs_one_directory_per_fold(cv_mlp):
    assert [p.name for p in cv_mlp.run_dirs] == ["fold-1", "fold-2", "fold-3"]
    assert all(p.parent == cv_mlp.parent for p in cv_mlp.run_dirs)
    for run_dir in cv_mlp.run_dirs:
        assert (run_dir / "metrics.json").is_file()
    values = cv_mlp.scores["val_accuracy"]
    assert len(values) == 3 and min(values) > 0.85
    assert cv_mlp.mean("val_accuracy") == pytest.approx(np.mean(values))
    assert cv_mlp.std("val_accuracy") == pytest.approx(np.std(values, ddof=1))
    summary = json.loads((cv_mlp.parent / "cv.json").read_text())
    assert (
        summary["metrics"]["test_accuracy"]["folds"] == cv_mlp.scores["test_accuracy"]
    )


def test_each_fold_validates_on_its_own_third(cv_mlp):
    # Evaluating fold k's saved model on fold k's held-out digits reproduces
    # the reported validation accuracy, and the three folds are disjoint.
    (x_train, y_train), _, _ = load_digits()
    flat = x_train.reshape(len(x_train), -1) / 255.0
    for index, run_dir in enumerate(cv_mlp.run_dirs):
        (x_fit, _), (x_val, y_val) = kfold_split(flat, y_train, index, 3, seed=42)
        scaling = json.loads((run_dir / "scaling.json").read_text())
        inputs = (x_val - scaling["x_mean"]) / np.array(scaling["x_std"])
        model = keras.saving.load_model(run_dir / "model.keras")
        accuracy = np.mean(model.predict(inputs, verbose=0).argmax(-1) == y_val)
        assert accuracy == pytest.approx(cv_mlp.scores["val_accuracy"][index], 1e-5)
        assert len(x_fit) + len(x_val) == len(flat)


def test_cv_of_a_recipe_without_a_validation_split_is_one_clear_error(tmp_path):
    text_file = tmp_path / "fox.txt"
    text_file.write_text("the quick brown fox. " * 500)
    overrides = {"data.source": str(text_file), "data.block_length": 500}
    with pytest.raises(UserError, match="cv cannot give it folds"):
        cross_validate("char_rnn", 2, overrides, runs_root=tmp_path)
    assert not list(tmp_path.glob("char_rnn/cv-*/fold-1/history.csv"))


def test_cv_command_prints_mean_and_std(tmp_path, capsys):
    from keras_recipes.cli import main

    arguments = ["cv", "logistic_regression", "--folds", "2"]
    arguments += ["--set", "train.epochs=2", "--set", "train.verbose=0"]
    assert main([*arguments, "--runs-root", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "val_accuracy: mean 0." in printed and " std 0." in printed
    assert "over 2 folds" in printed


def test_score_predictions():
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0]])
    scores = score_predictions(logits, np.array([0, 1, 1]))
    assert scores["accuracy"] == pytest.approx(2 / 3)
    probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    expected = -np.mean(np.log(probabilities[[0, 1, 2], [0, 1, 1]]))
    assert scores["cross_entropy"] == pytest.approx(expected)
    assert score_predictions(np.array([[1.0], [3.0]]), np.array([0.0, 1.0])) == {
        "mse": 2.5
    }


def test_ensemble_of_three_runs(tmp_path):
    run_dirs = [
        keras_recipes.run("mlp", {**QUICK, "seed": seed}, runs_root=tmp_path).run_dir
        for seed in (1, 2, 3)
    ]
    report = ensemble([str(p) for p in run_dirs])
    members = [m["accuracy"] for m in report["members"]]
    for member, run_dir in zip(members, run_dirs, strict=True):
        reported = json.loads((run_dir / "metrics.json").read_text())
        assert member == pytest.approx(reported["test_accuracy"], abs=1e-6)
    assert report["member_mean"]["accuracy"] == pytest.approx(np.mean(members))
    assert report["ensemble"]["accuracy"] >= report["member_mean"]["accuracy"]
    assert report["ensemble"]["cross_entropy"] < report["member_mean"]["cross_entropy"]
    with pytest.raises(UserError, match="at least two"):
        ensemble([str(run_dirs[0])])


def test_tta_views_are_shifts_and_mirrors():
    images = np.arange(2 * 10 * 10, dtype="float32").reshape(2, 10, 10, 1) + 1
    views = tta_views(images, ("flip", "crop"), margin=0.1)
    assert len(views) == 10 and all(v.shape == images.shape for v in views)
    np.testing.assert_array_equal(views[0], images)
    # Top-left crop of the image padded by one pixel: a shift down-right.
    np.testing.assert_array_equal(views[1][:, 1:, 1:], images[:, :-1, :-1])
    assert (views[1][:, 0] == 0).all()
    # Bottom-right crop: a shift up-left.
    np.testing.assert_array_equal(views[4][:, :-1, :-1], images[:, 1:, 1:])
    np.testing.assert_array_equal(views[5], images[:, :, ::-1])
    assert len(tta_views(images, ("flip",))) == 2
    with pytest.raises(UserError, match="images"):
        tta_views(np.zeros((2, 8, 1)))


class _ShiftSensitive(keras.Model):
    """Votes by where the ink is: a classifier TTA views disagree with."""

    def call(self, images):
        column = keras.ops.mean(images, axis=(1, 3))
        return keras.ops.softmax(column * 0.01)


def test_tta_metrics_average_the_views():
    images = np.random.default_rng(0).uniform(0, 255, (20, 6, 6, 1)).astype("float32")
    labels = np.random.default_rng(1).integers(0, 6, 20)
    import tensorflow as tf

    data = keras_recipes.Datasets(
        train=None, test=tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)
    )
    model = _ShiftSensitive(name="shift_sensitive")
    metrics = tta_metrics(model, data, ("flip",))
    single = model(images).numpy()
    mirrored = model(images[:, :, ::-1]).numpy()
    expected = np.mean(((single + mirrored) / 2).argmax(-1) == labels)
    assert metrics["test_accuracy_tta"] == pytest.approx(expected)
    assert metrics["test_accuracy_single"] == pytest.approx(
        np.mean(single.argmax(-1) == labels)
    )
    assert metrics["tta_views"] == 2


def test_evaluate_with_tta_on_a_classifier_run(tmp_path, capsys):
    from keras_recipes.cli import main

    overrides = {
        "train.epochs": 4,
        "train.verbose": 0,
        "data.image_size": [8, 8],
        "model.filters": [16],
        "model.dense_units": 32,
        "optimizer.learning_rate": 0.01,
        "optimizer.schedule.name": "constant",
        "callbacks.tensorboard.enabled": False,
    }
    result = keras_recipes.run("small_data_classifier", overrides, runs_root=tmp_path)
    capsys.readouterr()
    assert (
        main(["evaluate", str(result.run_dir), "--tta", "flip", "crop", "--json"]) == 0
    )
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["tta_views"] == 10
    assert metrics["test_accuracy_single"] == pytest.approx(
        result.metrics["test_accuracy"], abs=1e-6
    )
    # Mirrored digits are other shapes, so averaging them in cannot help much.
    assert metrics["test_accuracy_tta"] <= metrics["test_accuracy_single"] + 0.02
