import keras

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
        "TensorBoard",
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
