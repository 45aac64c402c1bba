"""Keras callbacks built from the `callbacks` config section."""

from pathlib import Path

import keras


def build_callbacks(config, run_dir, resume=False):
    """Returns the callbacks that `config` switches on, writing into `run_dir`.

    Args:
        config: A `CallbacksConfig`.
        run_dir: The run directory; checkpoints, logs and history go inside.
        resume: Whether the run continues an interrupted one, so the history
            file is appended to rather than started anew. Defaults to `False`.

    Returns:
        A list of `keras.callbacks.Callback`. `BackupAndRestore` comes first
        so that it restores the state before the others see an epoch.

    Example:

    ```python
    callbacks = build_callbacks(config.callbacks, Path("runs/x/1"))
    ```
    """
    run_dir = Path(run_dir)
    callbacks = []
    if config.backup_and_restore.enabled:
        callbacks.append(
            keras.callbacks.BackupAndRestore(backup_dir=str(run_dir / "backup"))
        )
    if config.terminate_on_nan.enabled:
        callbacks.append(keras.callbacks.TerminateOnNaN())
    stop = config.early_stopping
    if stop.enabled:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=stop.monitor,
                mode=stop.mode,
                patience=stop.patience,
                min_delta=stop.min_delta,
                restore_best_weights=stop.restore_best_weights,
                verbose=1,
            )
        )
    checkpoint = config.model_checkpoint
    if checkpoint.enabled:
        (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        name = "best.keras" if checkpoint.save_best_only else "epoch_{epoch:03d}.keras"
        callbacks.append(
            keras.callbacks.ModelCheckpoint(
                str(run_dir / "checkpoints" / name),
                monitor=checkpoint.monitor,
                mode=checkpoint.mode,
                save_best_only=checkpoint.save_best_only,
            )
        )
    plateau = config.reduce_lr_on_plateau
    if plateau.enabled:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=plateau.monitor,
                mode=plateau.mode,
                factor=plateau.factor,
                patience=plateau.patience,
                min_lr=plateau.min_lr,
                verbose=1,
            )
        )
    board = config.tensorboard
    if board.enabled:
        callbacks.append(
            keras.callbacks.TensorBoard(
                log_dir=str(run_dir / "logs"),
                histogram_freq=board.histogram_freq,
                write_images=board.write_images,
                write_graph=board.write_graph,
                update_freq=board.update_freq,
            )
        )
    if config.csv_logger.enabled:
        callbacks.append(
            keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=resume)
        )
    return callbacks
