"""The training doctor on made-up curves and on real runs the tests make."""

import re

import pytest

import keras_recipes
from keras_recipes.doctor import (
    capacity_finding,
    dead_relu_findings,
    diagnose,
    diagnose_history,
)
from keras_recipes.errors import UserError

NO_STOPPING = {"enabled": False}
RESTORING = {"enabled": True, "restore_best_weights": True, "monitor": "val_loss"}


def _kinds(diagnosis):
    return [finding.kind for finding in diagnosis.findings]


def test_rising_validation_loss_is_over_fitting_with_numbers():
    history = {
        "loss": [1.0, 0.6, 0.4, 0.3, 0.25, 0.2, 0.15, 0.12, 0.1],
        "val_loss": [1.0, 0.7, 0.6, 0.62, 0.65, 0.7, 0.74, 0.78, 0.81],
    }
    diagnosis = diagnose_history(history, NO_STOPPING, epochs_configured=9)
    assert diagnosis.verdict == "over-fitting"
    message = diagnosis.findings[0].message
    assert "validation loss rose 35% over its minimum" in message
    assert "(epoch 3: 0.6000 -> epoch 9: 0.8100)" in message
    assert "training loss fell 75% (0.4000 -> 0.1000)" in message
    assert "stopped too late" in _kinds(diagnosis)
    assert any("smaller net" in r for r in diagnosis.remedies())
    assert any("early stopping" in r for r in diagnosis.remedies())


def test_early_stopping_that_kept_the_best_epoch_judges_that_epoch():
    history = {
        "loss": [1.0, 0.5, 0.3, 0.2, 0.1],
        "val_loss": [1.0, 0.6, 0.5, 0.6, 0.7],
        "accuracy": [0.5, 0.8, 0.9, 0.95, 0.97],
        "val_accuracy": [0.5, 0.78, 0.88, 0.87, 0.86],
    }
    diagnosis = diagnose_history(history, RESTORING)
    assert diagnosis.verdict == "healthy"
    assert diagnosis.facts["kept_epoch"] == 3
    assert "a gap of 2.0 points" in diagnosis.findings[0].message
    rise = diagnosis.findings[1].message
    assert "rose 40%" in rise and "early stopping kept" in rise
    assert not any("early stopping" in r for r in diagnosis.remedies())


def test_accuracy_gap_is_over_fitting():
    history = {
        "loss": [0.5, 0.1, 0.02, 0.01],
        "val_loss": [0.6, 0.41, 0.4, 0.405],
        "accuracy": [0.8, 0.97, 1.0, 1.0],
        "val_accuracy": [0.75, 0.86, 0.87, 0.87],
    }
    diagnosis = diagnose_history(history, RESTORING)
    assert diagnosis.verdict == "over-fitting"
    assert diagnosis.facts["kept_epoch"] == 3
    assert "training accuracy is 100.0% but validation accuracy 87.0%" in (
        diagnosis.findings[0].message
    )
    assert "a gap of 13.0 points" in diagnosis.findings[0].message


def test_a_gap_while_validation_still_improves_is_not_over_fitting_yet():
    history = {
        "loss": [1.5, 1.2, 1.1, 1.0],
        "val_loss": [1.5, 1.35, 1.3, 1.25],
        "accuracy": [0.5, 0.62, 0.67, 0.71],
        "val_accuracy": [0.5, 0.6, 0.63, 0.655],
    }
    diagnosis = diagnose_history(history, RESTORING, epochs_configured=4)
    assert diagnosis.verdict == "healthy"
    assert "a gap of 5.5 points" in diagnosis.findings[0].message
    assert "still falling 6% per epoch: not over-fitting yet" in (
        diagnosis.findings[0].message
    )
    assert "stopped too early" in _kinds(diagnosis)


def test_remeasured_training_scores_replace_the_dropout_averages():
    history = {
        "loss": [1.0, 0.5, 0.33, 0.3],
        "val_loss": [0.9, 0.45, 0.32, 0.33],
        "accuracy": [0.7, 0.9, 0.96, 0.96],
        "val_accuracy": [0.7, 0.92, 0.97, 0.97],
    }
    assert diagnose_history(history, RESTORING).verdict == "under-fitting"
    scores = {"loss": 0.2, "accuracy": 0.994}
    diagnosis = diagnose_history(history, RESTORING, train_scores=scores)
    assert diagnosis.verdict == "healthy"
    assert diagnosis.facts["accuracy"] == 0.994
    assert "scores loss 0.2000, accuracy 0.9940" in diagnosis.report()


def test_equal_losses_on_a_poorly_fit_training_set_is_under_fitting():
    history = {
        "loss": [1.6, 1.2, 1.1, 1.09, 1.09],
        "val_loss": [1.5, 1.2, 1.12, 1.11, 1.11],
        "accuracy": [0.4, 0.55, 0.6, 0.61, 0.61],
        "val_accuracy": [0.42, 0.54, 0.59, 0.6, 0.6],
    }
    diagnosis = diagnose_history(history, RESTORING)
    assert diagnosis.verdict == "under-fitting"
    message = diagnosis.findings[0].message
    assert "are about equal (+2%)" in message
    assert "training accuracy is 61.0%" in message
    assert any("larger net" in r for r in diagnosis.remedies())


def test_still_falling_at_the_end_stopped_too_early():
    history = {"loss": [1.0, 0.8, 0.6, 0.5], "val_loss": [1.1, 0.9, 0.8, 0.7]}
    diagnosis = diagnose_history(history, RESTORING, epochs_configured=4)
    assert "stopped too early" in _kinds(diagnosis)
    finding = diagnosis.findings[_kinds(diagnosis).index("stopped too early")]
    assert "still falling 14% per epoch over the last 3 epochs" in finding.message
    assert "after 4 of 4 epochs" in finding.message


def test_training_loss_going_back_up_is_unstable():
    history = {
        "loss": [2.0, 1.0, 0.8, 1.5, 2.3],
        "val_loss": [2.0, 1.1, 0.9, 1.6, 2.4],
    }
    diagnosis = diagnose_history(history, NO_STOPPING)
    assert "unstable" in _kinds(diagnosis)
    assert any("lower learning rate" in r for r in diagnosis.remedies())


def test_no_validation_loss_is_one_clear_error():
    with pytest.raises(UserError, match="no val_loss"):
        diagnose_history({"loss": [1.0, 0.5]})


def test_capacity_and_dead_relu_findings():
    assert "850.00 per example): more than 10x" in (
        capacity_finding(85_000, 100, "over-fitting").message
    )
    assert "within one order of magnitude" in (
        capacity_finding(280_000, 425_000, "healthy").message
    )
    dead = dead_relu_findings({"hidden_1": ([1, 2], [0.05, 0.62])})
    assert dead[0].kind == "dead relu"
    assert "hidden_1: 62% of its ReLU units are dead at epoch 2" in dead[0].message
    assert dead_relu_findings({"hidden_1": ([1], [0.1])})[0].kind == "note"


QUICK = {"train.verbose": 0, "callbacks.tensorboard.enabled": False}


@pytest.fixture(scope="module")
def over_fitting_run(tmp_path_factory):
    # A large net, 100 training digits, no dropout, no early stopping.
    overrides = {
        **QUICK,
        "model.hidden_units": [256, 256],
        "model.dropout": 0.0,
        "data.train_examples": 100,
        "train.epochs": 40,
        "optimizer.learning_rate": 0.003,
        "callbacks.early_stopping.enabled": False,
        "callbacks.dead_relu.enabled": True,
    }
    root = tmp_path_factory.mktemp("doctor")
    return keras_recipes.run("mlp", overrides, runs_root=root)


@pytest.fixture(scope="module")
def healthy_run(tmp_path_factory):
    overrides = {**QUICK, "train.epochs": 30}
    root = tmp_path_factory.mktemp("doctor")
    return keras_recipes.run("mlp", overrides, runs_root=root)


def test_over_fitting_run_is_called_over_fitting(over_fitting_run):
    diagnosis = diagnose(over_fitting_run.run_dir)
    assert diagnosis.verdict == "over-fitting"
    report = diagnosis.report()
    rise = re.search(r"validation loss rose (\d+)% over its minimum", report)
    assert rise and int(rise.group(1)) >= 10
    history = over_fitting_run.history
    gap = history["accuracy"][-1] - history["val_accuracy"][-1]
    assert f"a gap of {100 * gap:.1f} points" in report
    assert "85,002 parameters for 100 training examples" in report
    assert "dead ReLU units: at most" in report or "ReLU units are dead" in report
    assert "remedies:" in report and "smaller net" in report


def test_healthy_run_is_called_healthy(healthy_run):
    diagnosis = diagnose(healthy_run.run_dir)
    assert diagnosis.verdict == "healthy", diagnosis.report()
    assert "parameters for 1,221 training examples" in diagnosis.report()


def test_diagnose_command(over_fitting_run, capsys):
    from keras_recipes.cli import main

    assert main(["diagnose", str(over_fitting_run.run_dir)]) == 0
    printed = capsys.readouterr().out
    assert "verdict: OVER-FITTING" in printed
    assert main(["diagnose", str(over_fitting_run.run_dir.parent)]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_a_nan_loss_is_diverged():
    history = {
        "loss": [1.0, 0.8, 0.7, float("nan")],
        "val_loss": [1.0, 0.9, 0.8, float("nan")],
    }
    diagnosis = diagnose_history(history, RESTORING)
    assert diagnosis.verdict == "diverged"
    assert "the loss became nan at epoch 4" in diagnosis.findings[0].message
    assert "before that, over 3 epochs" in diagnosis.findings[1].message
    assert diagnosis.remedies()[0].startswith("a lower learning rate")


def test_dead_units_replace_the_under_fitting_remedies():
    history = {"loss": [2.4, 2.3, 2.3], "val_loss": [2.4, 2.31, 2.31]}
    history.update(accuracy=[0.1, 0.1, 0.1], val_accuracy=[0.1, 0.1, 0.1])
    diagnosis = diagnose_history(history, RESTORING)
    assert diagnosis.verdict == "under-fitting"
    diagnosis.findings += dead_relu_findings({"hidden_5": ([1, 2, 3], [1, 1, 1])})
    remedies = diagnosis.remedies()
    assert remedies[0].startswith("a lower learning rate")
    assert not any("larger net" in r for r in remedies)
