from pathlib import Path

import keras
import pytest

from keras_recipes.callbacks import build_callbacks
from keras_recipes.config import CallbacksConfig, resolve


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
    plateau = next(
        c for c in callbacks if isinstance(c, keras.callbacks.ReduceLROnPlateau)
    )
    assert plateau.factor == 0.2


def test_checkpoint_keeps_the_best_and_survives_a_failed_save(tmp_path, monkeypatch):
    import numpy as np

    from keras_recipes.callbacks import AtomicModelCheckpoint

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


def test_resumed_early_stopping_matches_an_uninterrupted_one():
    from keras_recipes.callbacks import ResumableEarlyStopping

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


def _has_graph(folder):
    import tensorflow as tf

    return any(
        event.HasField("graph_def")
        for path in Path(folder).rglob("events.out.tfevents.*")
        for event in tf.compat.v1.train.summary_iterator(str(path))
    )


def _fit_small(callbacks, epochs=3):
    import numpy as np

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    x = np.random.default_rng(0).random((40, 2)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    history = model.fit(
        x,
        y,
        batch_size=8,
        epochs=epochs,
        validation_split=0.2,
        shuffle=False,
        verbose=0,
        callbacks=callbacks,
    )
    return model, history.history


def test_epoch_tensorboard_logs_what_keras_logs_without_batch_hooks(tmp_path):
    from keras_recipes.callbacks import EpochTensorBoard

    ours = EpochTensorBoard(log_dir=str(tmp_path / "ours"), write_graph=True)
    _, history = _fit_small([ours])
    _fit_small([keras.callbacks.TensorBoard(log_dir=str(tmp_path / "keras"))])
    for hook in ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin"):
        assert getattr(getattr(ours, hook), "_is_default", False), hook
    theirs = keras.callbacks.TensorBoard(log_dir=str(tmp_path / "unused"))
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
    # A graph exactly when Keras writes one (it cannot with every TF version).
    assert _has_graph(tmp_path / "ours") == _has_graph(tmp_path / "keras")


def test_backup_restores_weights_and_optimizer_state(tmp_path):
    import numpy as np

    from keras_recipes.callbacks import AtomicBackupAndRestore, read_backup_pointer

    class StopAfter(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    backup = tmp_path / "backup"
    whole, _ = _fit_small([], epochs=4)
    try:
        _fit_small([AtomicBackupAndRestore(backup), StopAfter()], epochs=4)
    except KeyboardInterrupt:
        pass
    pointer = read_backup_pointer(backup)
    assert pointer["epoch"] == 2 and (backup / pointer["state"]).is_file()
    assert sorted(p.name for p in backup.iterdir()) == sorted(
        [pointer["state"], "training_metadata.json"]
    )
    resumed, history = _fit_small([AtomicBackupAndRestore(backup)], epochs=4)
    assert len(history["loss"]) == 2  # epochs 3 and 4 only
    for ours, theirs in zip(resumed.get_weights(), whole.get_weights(), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert int(resumed.optimizer.iterations) == int(whole.optimizer.iterations)
    assert not backup.exists()


def test_backup_of_another_model_is_refused(tmp_path):
    import numpy as np

    from keras_recipes.callbacks import AtomicBackupAndRestore
    from keras_recipes.errors import UserError

    backup = tmp_path / "backup"
    callback = AtomicBackupAndRestore(backup)
    callback.delete_checkpoint = False
    _fit_small([callback], epochs=1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    with pytest.raises(UserError, match="another model"):
        model.fit(
            np.zeros((8, 3)),
            np.zeros((8, 1)),
            verbose=0,
            callbacks=[AtomicBackupAndRestore(backup)],
        )
