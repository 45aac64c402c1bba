"""The callbacks a `callbacks` config section switches on."""

from pathlib import Path

import keras

from keras_recipes.callbacks.backup import AtomicBackupAndRestore
from keras_recipes.callbacks.checkpoint import AtomicModelCheckpoint
from keras_recipes.callbacks.early_stopping import (
    EARLY_STOPPING_BEST,
    ResumableEarlyStopping,
)
from keras_recipes.callbacks.monitoring import _resolve_mode, best_value
from keras_recipes.callbacks.reduce_lr import ResumableReduceLROnPlateau
from keras_recipes.callbacks.tensorboard import EpochTensorBoard


def build_callbacks(config, run_dir, resume=False, history=None):
    """Returns the callbacks that `config` switches on, writing into `run_dir`.

    Args:
        config: A `CallbacksConfig`.
        run_dir: The run directory; checkpoints, logs and history go inside.
        resume: Whether the run continues an interrupted one, so the history
            file is appended to rather than started anew. Defaults to `False`.
        history: On resume, the history of the finished epochs (`dict` of
            log name to per-epoch values), from which early stopping, the
            learning-rate plateau and the best checkpoint take up their
            count. Defaults to `None`.

    Returns:
        A list of `keras.callbacks.Callback`, the backup last.

    Example:

    ```python
    callbacks = build_callbacks(config.callbacks, Path("runs/x/1"))
    ```
    """
    run_dir = Path(run_dir)
    history = history or {}
    callbacks = []
    if config.terminate_on_nan.enabled:
        callbacks.append(keras.callbacks.TerminateOnNaN())
    stop = config.early_stopping
    checkpoint = config.model_checkpoint
    if stop.enabled:
        # The best checkpoint holds early stopping's best weights when both
        # pick the best epoch alike.
        same_best = (
            checkpoint.enabled
            and checkpoint.save_best_only
            and checkpoint.monitor == stop.monitor
            and _resolve_mode(checkpoint.monitor, checkpoint.mode)
            == _resolve_mode(stop.monitor, stop.mode)
            and stop.min_delta == 0
        )
        # Otherwise it keeps its best weights beside the backup, for a resume.
        own_file = (
            not same_best
            and stop.restore_best_weights
            and config.backup_and_restore.enabled
        )
        callbacks.append(
            ResumableEarlyStopping(
                monitor=stop.monitor,
                mode=stop.mode,
                patience=stop.patience,
                min_delta=stop.min_delta,
                restore_best_weights=stop.restore_best_weights,
                verbose=1,
                finished=history.get(stop.monitor, ()),
                best_checkpoint=run_dir / "checkpoints" / "best.keras"
                if same_best
                else None,
                best_weights_file=run_dir / "backup" / EARLY_STOPPING_BEST
                if own_file
                else None,
            )
        )
    if checkpoint.enabled:
        (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        name = "best.keras" if checkpoint.save_best_only else "epoch_{epoch:03d}.keras"
        callbacks.append(
            AtomicModelCheckpoint(
                str(run_dir / "checkpoints" / name),
                monitor=checkpoint.monitor,
                mode=checkpoint.mode,
                save_best_only=checkpoint.save_best_only,
                initial_value_threshold=best_value(
                    history, checkpoint.monitor, checkpoint.mode
                ),
            )
        )
    plateau = config.reduce_lr_on_plateau
    if plateau.enabled:
        callbacks.append(
            ResumableReduceLROnPlateau(
                monitor=plateau.monitor,
                mode=plateau.mode,
                factor=plateau.factor,
                patience=plateau.patience,
                min_lr=plateau.min_lr,
                verbose=1,
                finished=history.get(plateau.monitor, ()),
                learning_rates=history.get("learning_rate", ()),
            )
        )
    board = config.tensorboard
    if board.enabled:
        options = {
            "log_dir": str(run_dir / "logs"),
            "histogram_freq": board.histogram_freq,
            "write_images": board.write_images,
        }
        if board.update_freq == "epoch" and not board.write_graph:
            callbacks.append(EpochTensorBoard(**options))
        else:
            callbacks.append(
                keras.callbacks.TensorBoard(
                    **options,
                    write_graph=board.write_graph,
                    update_freq=board.update_freq,
                )
            )
    if config.csv_logger.enabled:
        callbacks.append(
            keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=resume)
        )
    if config.backup_and_restore.enabled:
        # Last, so an epoch is backed up only once everything above has
        # recorded it; on resume the history is cut back to the backup.
        callbacks.append(AtomicBackupAndRestore(run_dir / "backup"))
    return callbacks
