"""Early stopping that continues counting where an interrupted run stopped."""

import os
import warnings
from pathlib import Path

import keras
import numpy as np

from keras_recipes.callbacks.monitoring import (
    _finished_values,
    _improves,
    _resolve_mode,
)

# Early stopping's best weights, in the backup folder, when no checkpoint
# holds them.
EARLY_STOPPING_BEST = "early_stopping_best.npz"


class ResumableEarlyStopping(keras.callbacks.Callback):
    """Early stopping that continues counting where an interrupted run stopped.

    On an uninterrupted run it behaves as `keras.callbacks.EarlyStopping`
    with the same arguments: same stopped epoch, same restored weights.
    Keras's callback starts from scratch at every `fit`, so after a resume
    it would forget the best value, its epoch and the patience already used,
    and could restore worse weights than the uninterrupted run. This one
    first replays the monitored values of the finished epochs, and takes the
    best weights of those epochs from the best checkpoint, or, when no
    checkpoint picks the best epoch as it does (another monitor, a
    `min_delta`), from a file of its own that it keeps up to date.

    When the replay ends on an epoch where the uninterrupted run stopped
    (the run was killed between that epoch's backup and the end of `fit`),
    `stopped_epoch` is set at `on_train_begin`: no epoch is left to train.

    Args:
        monitor: The log to watch. Defaults to `"val_loss"`.
        min_delta: Smallest change that counts as an improvement. Defaults
            to `0`.
        patience: Epochs without improvement before stopping. Defaults to
            `0`.
        verbose: `1` prints when stopping and restoring. Defaults to `0`.
        mode: `"min"`, `"max"`, or `"auto"`: max for names containing
            `"acc"` or `"auc"`, min otherwise. Defaults to `"auto"`.
        baseline: A value to beat; until it is, improvements do not reset
            the patience. Defaults to `None`.
        restore_best_weights: Whether to end with the weights of the best
            epoch. Defaults to `False`.
        start_from_epoch: Epochs to ignore at the start. Defaults to `0`.
        finished: Monitored values of the epochs finished before a resume
            (`None` for an epoch without one). Defaults to `()`.
        best_checkpoint: A `.keras` file holding the weights of the best of
            the finished epochs, by this callback's own comparison, or
            `None`. Defaults to `None`.
        best_weights_file: A `.npz` file to which this callback writes the
            best weights and their epoch whenever they change (with
            `restore_best_weights`), and from which a resumed run reads them
            when `best_checkpoint` is `None`; or `None`. Defaults to `None`.

    Example:

    ```python
    stop = ResumableEarlyStopping(monitor="val_loss", patience=3,
                                  finished=[0.9, 0.7, 0.8])
    ```
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
        finished=(),
        best_checkpoint=None,
        best_weights_file=None,
    ):
        super().__init__()
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.verbose = verbose
        self.mode = _resolve_mode(monitor, mode)
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.finished = _finished_values(finished)
        self.best_checkpoint = best_checkpoint
        self.best_weights_file = best_weights_file
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_epoch = 0
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_epoch = 0
        self.best_weights = None
        for epoch, current in enumerate(self.finished):
            if current is None or epoch < self.start_from_epoch:
                continue
            if not self._record(epoch, current) and self._patience_used(epoch):
                self.stopped_epoch = epoch
        if self.restore_best_weights and self.best is not None:
            self.best_weights = self._finished_best_weights()
            if self.best_weights is None:
                warnings.warn(
                    f"neither a best checkpoint nor a best-weights file holds "
                    f"the weights of epoch {self.best_epoch + 1}; a later "
                    f"better epoch's weights will be restored, or none",
                    stacklevel=2,
                )

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which "
                f"is not available. Available metrics are: "
                f"{','.join(logs or {})}",
                stacklevel=2,
            )
            return
        if epoch < self.start_from_epoch:
            return
        if self._record(epoch, current):
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
                if self.best_weights_file is not None:
                    self._write_best_weights(epoch)
            return
        if self._patience_used(epoch):
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)

    def _record(self, epoch, current):
        """Counts one epoch's value; returns whether it was the best yet."""
        self.wait += 1
        if not _improves(current, self.best, self.mode, self.min_delta):
            return False
        self.best, self.best_epoch = current, epoch
        # Only a value that also beats the baseline restarts the count.
        if self.baseline is None or _improves(
            current, self.baseline, self.mode, self.min_delta
        ):
            self.wait = 0
        return True

    def _patience_used(self, epoch):
        return self.wait >= self.patience and epoch > 0

    def _finished_best_weights(self):
        """Returns the weights of the best finished epoch, or `None`."""
        checkpoint = self.best_checkpoint
        if checkpoint is not None:
            if not Path(checkpoint).is_file():
                return None
            return keras.saving.load_model(checkpoint, compile=False).get_weights()
        path = self.best_weights_file
        if path is None or not Path(path).is_file():
            return None
        with np.load(path) as saved:
            # A file newer than the finished epochs (a kill between writing
            # it and the backup) belongs to an epoch that runs again.
            if int(saved["epoch"]) != self.best_epoch:
                return None
            count = len(saved.files) - 1
            return [saved[f"w{i:05d}"] for i in range(count)]

    def _write_best_weights(self, epoch):
        path = Path(self.best_weights_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f"w{i:05d}": w for i, w in enumerate(self.best_weights)}
        partial = path.with_name(f"partial_{path.name}")
        with open(partial, "wb") as file:
            np.savez(file, epoch=np.int64(epoch), **arrays)
        os.replace(partial, path)
