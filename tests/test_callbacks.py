import math
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_recipes.callbacks import (
    AtomicBackupAndRestore,
    AtomicModelCheckpoint,
    EpochTensorBoard,
    ResumableEarlyStopping,
    ResumableReduceLROnPlateau,
    best_value,
    build_callbacks,
    read_backup_pointer,
)
from keras_recipes.config import CallbacksConfig, resolve
from keras_recipes.errors import UserError


def _types(callbacks):
    return [type(c).__name__ for c in callbacks]


def test_defaults(tmp_path):
    callbacks = build_callbacks(resolve(CallbacksConfig), tmp_path)
    assert _types(callbacks) == [
        "TerminateOnNaN",
        "ResumableEarlyStopping",
        "AtomicModelCheckpoint",
        "EpochTensorBoard",
        "CSVLogger",
        "AtomicBackupAndRestore",
    ]
    stop = callbacks[1]
    assert stop.restore_best_weights and stop.patience == 10
    assert stop.best_checkpoint == tmp_path / "checkpoints" / "best.keras"
    assert callbacks[2].save_best_only
    assert callbacks[2].filepath == str(tmp_path / "checkpoints" / "best.keras")


def test_each_can_be_switched_and_tuned(tmp_path):
    config = resolve(
        CallbacksConfig,
        overrides={
            "early_stopping.enabled": False,
            "tensorboard.histogram_freq": 2,
            "reduce_lr_on_plateau.enabled": True,
            "reduce_lr_on_plateau.factor": 0.2,
            "backup_and_restore.enabled": False,
            "csv_logger.enabled": False,
        },
    )
    callbacks = build_callbacks(config, tmp_path)
    types = _types(callbacks)
    assert (
        "ResumableEarlyStopping" not in types and "AtomicBackupAndRestore" not in types
    )
    board = next(c for c in callbacks if isinstance(c, keras.callbacks.TensorBoard))
    assert board.histogram_freq == 2
    plateau = next(c for c in callbacks if isinstance(c, ResumableReduceLROnPlateau))
    assert plateau.factor == 0.2


def test_a_resume_hands_each_callback_the_finished_epochs(tmp_path):
    config = resolve(
        CallbacksConfig,
        overrides={
            "reduce_lr_on_plateau.enabled": True,
            "early_stopping.patience": 3,
        },
    )
    history = {
        "loss": [1.0, 0.8, 0.7],
        "val_loss": [0.9, 0.6, 0.7],
        "learning_rate": [0.01, 0.01, 0.01],
    }
    callbacks = build_callbacks(config, tmp_path, resume=True, history=history)
    stop, checkpoint, plateau = (
        next(c for c in callbacks if isinstance(c, kind))
        for kind in (
            ResumableEarlyStopping,
            AtomicModelCheckpoint,
            ResumableReduceLROnPlateau,
        )
    )
    assert stop.finished == [0.9, 0.6, 0.7]
    assert checkpoint.best == 0.6
    assert plateau.finished == [0.9, 0.6, 0.7]
    assert plateau.learning_rates == [0.01, 0.01, 0.01]
    assert stop.best_weights_file is None
    # Early stopping with a min_delta picks its best unlike the checkpoint:
    # it keeps its best weights itself.
    config = resolve(CallbacksConfig, overrides={"early_stopping.min_delta": 0.01})
    stop = build_callbacks(config, tmp_path, resume=True, history=history)[1]
    assert stop.best_checkpoint is None
    assert stop.best_weights_file == tmp_path / "backup" / "early_stopping_best.npz"


def test_best_value_follows_the_mode():
    history = {"val_loss": [0.5, 0.3, math.nan], "val_acc": [0.5, 0.7, 0.6]}
    assert best_value(history, "val_loss", "auto") == 0.3
    assert best_value(history, "val_acc", "auto") == 0.7
    assert best_value(history, "val_acc", "min") == 0.5
    assert best_value(history, "val_auc", "auto") is None


class WriteLogs(keras.callbacks.Callback):
    """Puts fixed values into each epoch's logs, for the callbacks after it."""

    def __init__(self, **values):
        super().__init__()
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        for name, values in self.values.items():
            logs[name] = values[epoch]


class InterruptAfter(keras.callbacks.Callback):
    """Raises `KeyboardInterrupt` at the end of an epoch, as a kill would."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def _fit_small(callbacks, epochs=3, initial_epoch=0, model=None):
    keras.utils.set_random_seed(0)
    if model is None:
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(keras.optimizers.SGD(0.1), "mse")
    x = np.random.default_rng(0).random((40, 2)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    history = model.fit(
        x,
        y,
        batch_size=8,
        epochs=epochs,
        initial_epoch=initial_epoch,
        validation_split=0.2,
        shuffle=False,
        verbose=0,
        callbacks=callbacks,
    )
    return model, history.history


def _assert_same_weights(ours, theirs):
    for mine, keras_weights in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, keras_weights, rtol=1e-6)


def test_checkpoint_keeps_the_best_and_survives_a_failed_save(tmp_path, monkeypatch):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    x = np.random.default_rng(0).random((32, 2)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    path = tmp_path / "best.keras"
    checkpoint = AtomicModelCheckpoint(str(path), monitor="loss", save_best_only=True)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[checkpoint])
    saved = keras.saving.load_model(path).get_weights()
    for ours, theirs in zip(saved, model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)

    def crash(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as file:
            file.write(b"half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", crash)
    checkpoint.best = float("inf")
    try:
        model.fit(x, y, epochs=1, verbose=0, callbacks=[checkpoint])
    except OSError:
        pass
    monkeypatch.undo()
    for ours, theirs in zip(
        keras.saving.load_model(path).get_weights(), saved, strict=True
    ):
        np.testing.assert_array_equal(ours, theirs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.keras"]


@pytest.mark.parametrize(
    "save_best_only, monitor, ours_mode, keras_mode",
    [
        (False, "val_loss", "auto", "auto"),
        (True, "val_loss", "auto", "auto"),
        (True, "val_acc", "auto", "max"),  # Keras cannot tell "auto" here
        (True, "val_loss", "max", "max"),
    ],
)
def test_checkpoint_saves_the_epochs_keras_saves(
    tmp_path, save_best_only, monitor, ours_mode, keras_mode
):
    values = [0.5, 0.4, 0.4, 0.6, 0.3, 0.7]
    name = "epoch_{epoch:03d}.keras"
    ours = AtomicModelCheckpoint(
        tmp_path / "ours" / name,
        monitor=monitor,
        mode=ours_mode,
        save_best_only=save_best_only,
    )
    theirs = keras.callbacks.ModelCheckpoint(
        str(tmp_path / "keras" / name),
        monitor=monitor,
        mode=keras_mode,
        save_best_only=save_best_only,
    )
    _fit_small([WriteLogs(**{monitor: values}), ours, theirs], epochs=len(values))
    saved = sorted(p.name for p in (tmp_path / "ours").iterdir())
    assert saved == sorted(p.name for p in (tmp_path / "keras").iterdir())
    assert saved[0] == "epoch_001.keras"
    if not save_best_only:
        assert len(saved) == len(values)


def test_checkpoint_of_weights_only(tmp_path):
    path = tmp_path / "best.weights.h5"
    checkpoint = AtomicModelCheckpoint(
        path, monitor="loss", save_best_only=True, save_weights_only=True
    )
    model, _ = _fit_small([checkpoint], epochs=2)
    copy = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    copy.load_weights(path)
    _assert_same_weights(copy.get_weights(), model.get_weights())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.weights.h5"]
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        AtomicModelCheckpoint(tmp_path / "x.keras", save_weights_only=True)


def test_resumed_early_stopping_matches_an_uninterrupted_one():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    values = [0.9, 0.7, 0.75, 0.72, 0.71, 0.69, 0.8, 0.79, 0.78]
    options = dict(monitor="val_loss", patience=3, min_delta=0.005)
    straight = keras.callbacks.EarlyStopping(**options)
    straight.set_model(model)
    straight.on_train_begin()
    for epoch, value in enumerate(values):
        straight.on_epoch_end(epoch, {"val_loss": value})
    for cut in range(1, len(values)):
        resumed = ResumableEarlyStopping(finished=values[:cut], **options)
        resumed.set_model(model)
        resumed.on_train_begin()
        for epoch in range(cut, len(values)):
            resumed.on_epoch_end(epoch, {"val_loss": values[epoch]})
        state = (resumed.best, resumed.best_epoch, resumed.wait, resumed.stopped_epoch)
        assert state == (
            straight.best,
            straight.best_epoch,
            straight.wait,
            straight.stopped_epoch,
        ), cut
    assert straight.stopped_epoch == 8 and straight.best == 0.69


# Fixed val_loss sequences and early-stopping settings, each of which makes
# Keras's callback stop (or not) by another of its rules.
EARLY_STOPPING_CASES = {
    "min_delta": (
        [0.9, 0.7, 0.75, 0.72, 0.71, 0.69, 0.8, 0.79, 0.78, 0.5],
        dict(patience=3, min_delta=0.005),
    ),
    # 0.8 - 1e-9 is below 0.8 in float64 but equal in float32, as Keras
    # compares: no improvement.
    "ties_and_float32": (
        [0.9, 0.8, 0.8, 0.8 - 1e-9, 0.8, 0.7, 0.7, 0.7, 0.7],
        dict(patience=2),
    ),
    "baseline": (
        [0.9, 0.8, 0.79, 0.85, 0.6, 0.5],
        dict(patience=2, baseline=0.7),
    ),
    "start_from_epoch": (
        [0.5, 0.9, 0.95, 0.8, 0.85, 0.86, 0.87, 0.1],
        dict(patience=2, start_from_epoch=2),
    ),
    "max": (
        [0.1, 0.3, 0.2, 0.35, 0.34, 0.3, 0.2, 0.9],
        dict(patience=2, mode="max"),
    ),
    "nan": (
        [0.9, math.nan, 0.8, math.nan, math.nan, 0.85, 0.1],
        dict(patience=2),
    ),
    "never_stops": ([0.9, 0.8, 0.7, 0.6], dict(patience=1)),
}


@pytest.mark.parametrize("case", sorted(EARLY_STOPPING_CASES))
def test_early_stopping_equals_keras_on_an_uninterrupted_run(case):
    values, options = EARLY_STOPPING_CASES[case]
    options = dict(options, monitor="val_loss", restore_best_weights=True)
    runs = {}
    for kind in (keras.callbacks.EarlyStopping, ResumableEarlyStopping):
        stop = kind(**options)
        model, history = _fit_small(
            [WriteLogs(val_loss=values), stop], epochs=len(values)
        )
        runs[kind] = (stop, model.get_weights(), len(history["loss"]))
    (theirs, keras_weights, keras_epochs), (ours, weights, epochs) = runs.values()
    assert (epochs, ours.stopped_epoch, ours.best_epoch) == (
        keras_epochs,
        theirs.stopped_epoch,
        theirs.best_epoch,
    )
    if case != "never_stops":
        assert epochs < len(values), "the case should stop early"
    _assert_same_weights(weights, keras_weights)


def _run_with_backup(tmp_path, values, options, cut=None):
    """Fits with early stopping, a best checkpoint and a backup; resumes.

    Early stopping takes its best weights from the checkpoint when it has
    no `min_delta`, else from its own file. With `cut`, the run is
    interrupted after `cut` epochs and resumed as `Recipe` resumes: from the
    backup's epoch, with the finished epochs' values.
    """
    best = tmp_path / "best.keras"
    backup = tmp_path / "backup"
    own_file = options.get("min_delta", 0) > 0

    def callbacks(finished=()):
        history = {"val_loss": list(finished)}
        return [
            WriteLogs(val_loss=values),
            ResumableEarlyStopping(
                **options,
                finished=finished,
                best_checkpoint=None if own_file else best,
                best_weights_file=backup / "best.npz" if own_file else None,
            ),
            AtomicModelCheckpoint(
                best,
                save_best_only=True,
                initial_value_threshold=best_value(history, "val_loss", "auto"),
            ),
            AtomicBackupAndRestore(backup),
        ]

    if cut is None:
        return _fit_small(callbacks(), epochs=len(values))
    with pytest.raises(KeyboardInterrupt):
        _fit_small([*callbacks(), InterruptAfter(cut - 1)], epochs=len(values))
    finished = read_backup_pointer(backup)["epoch"]
    assert finished == cut
    return _fit_small(
        callbacks(values[:finished]), epochs=len(values), initial_epoch=finished
    )


@pytest.mark.parametrize(
    "min_delta, cuts",
    [
        (0, (4, 7)),  # before the best epoch, and counting after it
        # The checkpoint keeps epoch 6 (0.688), early stopping epoch 5.
        (0.005, (6,)),
    ],
)
def test_resumed_early_stopping_stops_and_restores_as_an_uninterrupted_run(
    tmp_path, min_delta, cuts
):
    values = [0.9, 0.7, 0.75, 0.72, 0.69, 0.688, 0.79, 0.78, 0.77, 0.4]
    options = dict(
        monitor="val_loss", patience=3, min_delta=min_delta, restore_best_weights=True
    )
    model, history = _run_with_backup(tmp_path / "straight", values, options)
    epochs = len(history["loss"])
    assert epochs == (9 if min_delta == 0 else 8)
    for cut in cuts:
        resumed, rest = _run_with_backup(tmp_path / str(cut), values, options, cut)
        assert cut + len(rest["loss"]) == epochs, cut
        np.testing.assert_allclose(rest["loss"], history["loss"][cut:], rtol=1e-6)
        _assert_same_weights(resumed.get_weights(), model.get_weights())


def test_early_stopping_that_already_stopped_says_so_on_resume():
    values = [0.9, 0.7, 0.75, 0.72, 0.8]
    stop = ResumableEarlyStopping(patience=3, finished=values)
    stop.on_train_begin()
    assert (stop.stopped_epoch, stop.best_epoch) == (4, 1)


# Fixed val_loss sequences and plateau settings: reductions, cooldowns, and
# a learning rate that reaches its floor.
PLATEAU_CASES = {
    "reductions": (
        [1.0, 0.9, 0.9, 0.95, 0.91, 0.8, 0.85, 0.85, 0.85, 0.86, 0.7, 0.9],
        dict(patience=2, factor=0.5),
    ),
    "cooldown": (
        [1.0, 1.1, 1.2, 1.3, 1.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1],
        dict(patience=1, factor=0.5, cooldown=2),
    ),
    "floor": (
        [1.0] + [1.0 + i / 100 for i in range(1, 12)],
        dict(patience=1, factor=0.1, min_lr=0.0005),
    ),
    "max": (
        [0.1, 0.3, 0.2, 0.2, 0.35, 0.3, 0.2, 0.1, 0.4, 0.3],
        dict(patience=2, factor=0.5, mode="max", min_delta=0.01),
    ),
}


def _plateau_run(callback, values, start=0, learning_rate=0.01):
    """Steps a plateau callback through epochs; returns its state per epoch."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(learning_rate), "mse")
    callback.set_model(model)
    callback.on_train_begin()
    states = []
    for epoch in range(start, len(values)):
        logs = {"val_loss": values[epoch]}
        callback.on_epoch_end(epoch, logs)
        learning_rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        states.append(
            (
                logs["learning_rate"],
                learning_rate,
                callback.best,
                callback.wait,
                callback.cooldown_counter,
            )
        )
    return states


@pytest.mark.parametrize("case", sorted(PLATEAU_CASES))
def test_plateau_equals_keras_and_resumes_where_it_stopped(case):
    values, options = PLATEAU_CASES[case]
    theirs = _plateau_run(keras.callbacks.ReduceLROnPlateau(**options), values)
    assert _plateau_run(ResumableReduceLROnPlateau(**options), values) == theirs
    assert len({state[1] for state in theirs}) > 2, "the case should reduce"
    for cut in range(1, len(values)):
        # The backup brings back the learning rate; the history the rest.
        resumed = ResumableReduceLROnPlateau(
            **options,
            finished=values[:cut],
            learning_rates=[state[0] for state in theirs[:cut]],
        )
        states = _plateau_run(resumed, values, cut, learning_rate=theirs[cut - 1][1])
        assert states == theirs[cut:], cut


def _events(folder):
    """Returns `{(subfolder, tag): [(step, value)]}` of the scalar summaries."""
    import tensorflow as tf

    found = {}
    for path in sorted(Path(folder).rglob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name != "scalars":
                    continue
                number = float(tf.make_ndarray(value.tensor))
                key = (path.parent.name, value.tag)
                found.setdefault(key, []).append((event.step, number))
    return found


def test_epoch_tensorboard_logs_what_keras_logs_without_batch_hooks(tmp_path):
    ours = EpochTensorBoard(log_dir=str(tmp_path / "ours"), histogram_freq=1)
    _, history = _fit_small([ours])
    theirs = keras.callbacks.TensorBoard(
        log_dir=str(tmp_path / "keras"), histogram_freq=1, write_graph=False
    )
    _fit_small([theirs])
    for hook in ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin"):
        assert getattr(getattr(ours, hook), "_is_default", False), hook
    assert not getattr(theirs.on_train_batch_end, "_is_default", False)
    events = _events(tmp_path / "ours")
    assert events == _events(tmp_path / "keras")
    train, validation = (
        events["train", "epoch_loss"],
        events["validation", "epoch_loss"],
    )
    assert [v for _, v in train] == pytest.approx(history["loss"])
    assert [v for _, v in validation] == pytest.approx(history["val_loss"])
    assert [step for step, _ in train] == [0, 1, 2]


def test_the_graph_is_left_to_keras_tensorboard(tmp_path):
    config = resolve(CallbacksConfig, overrides={"tensorboard.write_graph": True})
    board = build_callbacks(config, tmp_path)[3]
    assert type(board) is keras.callbacks.TensorBoard and board.write_graph


def test_backup_restores_weights_and_optimizer_state(tmp_path):
    backup = tmp_path / "backup"
    whole, _ = _fit_small([], epochs=4)
    with pytest.raises(KeyboardInterrupt):
        _fit_small([AtomicBackupAndRestore(backup), InterruptAfter(1)], epochs=4)
    pointer = read_backup_pointer(backup)
    assert pointer["epoch"] == 2 and (backup / pointer["state"]).is_file()
    assert sorted(p.name for p in backup.iterdir()) == sorted(
        [pointer["state"], "training_metadata.json"]
    )
    resumed, history = _fit_small(
        [AtomicBackupAndRestore(backup)], epochs=4, initial_epoch=pointer["epoch"]
    )
    assert len(history["loss"]) == 2  # epochs 3 and 4 only
    _assert_same_weights(resumed.get_weights(), whole.get_weights())
    assert int(resumed.optimizer.iterations) == int(whole.optimizer.iterations)
    assert not backup.exists()


def test_backup_brings_back_a_lowered_learning_rate(tmp_path):
    backup = tmp_path / "backup"
    plateau = ResumableReduceLROnPlateau(patience=0, factor=0.5)
    with pytest.raises(KeyboardInterrupt):
        _fit_small(
            [
                WriteLogs(val_loss=[1.0, 1.0, 1.0]),
                plateau,
                AtomicBackupAndRestore(backup),
                InterruptAfter(1),
            ]
        )
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    pointer = read_backup_pointer(backup)
    _fit_small(
        [AtomicBackupAndRestore(backup)], initial_epoch=pointer["epoch"], model=model
    )
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == (
        pytest.approx(0.05)
    )


def test_backup_of_another_model_is_refused(tmp_path):
    backup = tmp_path / "backup"
    _fit_small([AtomicBackupAndRestore(backup, delete_checkpoint=False)], epochs=1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    with pytest.raises(UserError, match="another model"):
        model.fit(
            np.zeros((8, 3)),
            np.zeros((8, 1)),
            verbose=0,
            callbacks=[AtomicBackupAndRestore(backup)],
        )
