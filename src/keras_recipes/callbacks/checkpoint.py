"""Model checkpoints written whole, then renamed into place."""

import os
import warnings
from pathlib import Path

import keras

from keras_recipes.callbacks.monitoring import _improves, _resolve_mode
from keras_recipes.saving import save_model_atomic


class AtomicModelCheckpoint(keras.callbacks.Callback):
    """Saves the model after each epoch, writing it whole, then renaming it.

    A run killed while saving keeps its previous checkpoint intact instead
    of a truncated file. The file name may hold `{epoch}` (counted from 1)
    and the epoch's logs, as in `keras.callbacks.ModelCheckpoint`, e.g.
    `epoch_{epoch:03d}.keras`. With `save_best_only` the file is replaced
    only by an epoch whose `monitor` value is better than every earlier
    one, compared as Keras compares.

    Args:
        filepath: Where to save: a `.keras` file, or a `.weights.h5` file
            with `save_weights_only`.
        monitor: The log to compare with `save_best_only`. Defaults to
            `"val_loss"`.
        verbose: `1` prints a line when saving. Defaults to `0`.
        save_best_only: Save only epochs better than all before. Defaults
            to `False`.
        save_weights_only: Save the weights only. Defaults to `False`.
        mode: `"min"`, `"max"`, or `"auto"`: max for names containing
            `"acc"` or `"auc"`, min otherwise. Defaults to `"auto"`.
        initial_value_threshold: The value to beat first, e.g. the best of
            the epochs before a resume; `None` saves the first epoch.
            Defaults to `None`.

    Example:

    ```python
    checkpoint = AtomicModelCheckpoint("run/checkpoints/best.keras",
                                       save_best_only=True)
    ```
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        initial_value_threshold=None,
    ):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = _resolve_mode(monitor, mode)
        self.best = initial_value_threshold
        ending = ".weights.h5" if save_weights_only else ".keras"
        if not self.filepath.endswith(ending):
            raise ValueError(
                f"the checkpoint filepath must end in {ending}"
                f"{' with save_weights_only' if save_weights_only else ''}. "
                f"Received: filepath={self.filepath}"
            )

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        try:
            filepath = self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as error:
            raise KeyError(
                f"cannot format the checkpoint filepath {self.filepath!r}: "
                f"no log {error} (logs: {sorted(logs)})"
            ) from None
        current = logs.get(self.monitor)
        if self.save_best_only:
            if current is None:
                warnings.warn(
                    f"Can save best model only with {self.monitor} available; "
                    f"saving epoch {epoch + 1}.",
                    stacklevel=2,
                )
            elif not _improves(current, self.best, self.mode):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve")
                return
        self._save(filepath)
        if self.save_best_only and current is not None:
            self.best = current
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saved the model to {filepath}")

    def _save(self, filepath):
        path = Path(filepath)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not self.save_weights_only:
            save_model_atomic(self.model, path)
            return
        partial = path.with_name(f"partial_{path.name}")
        try:
            self.model.save_weights(str(partial), overwrite=True)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
