import keras

from keras_recipes.callbacks import build_callbacks
from keras_recipes.config import CallbacksConfig, resolve


def _types(callbacks):
    return [type(c).__name__ for c in callbacks]


def test_defaults(tmp_path):
    callbacks = build_callbacks(resolve(CallbacksConfig), tmp_path)
    assert _types(callbacks) == [
        "TerminateOnNaN",
        "EarlyStopping",
        "ModelCheckpoint",
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
    assert "EarlyStopping" not in types and "AtomicBackupAndRestore" not in types
    board = next(c for c in callbacks if isinstance(c, keras.callbacks.TensorBoard))
    assert board.histogram_freq == 2
    plateau = next(
        c for c in callbacks if isinstance(c, keras.callbacks.ReduceLROnPlateau)
    )
    assert plateau.factor == 0.2
