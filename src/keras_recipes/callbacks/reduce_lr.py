"""Lowering the learning rate on a plateau, resumable."""

import warnings

import keras
import numpy as np

from keras_recipes.callbacks.monitoring import (
    _finished_values,
    _improves,
    _resolve_mode,
)


class ResumableReduceLROnPlateau(keras.callbacks.Callback):
    """Lowers the learning rate on a plateau, and resumes where a run stopped.

    On an uninterrupted run it behaves as `keras.callbacks.ReduceLROnPlateau`
    with the same arguments, and like it adds the epoch's learning rate to
    the logs (`"learning_rate"`, before any reduction). After a resume it
    first replays the finished epochs' monitored values and learning rates,
    so its patience, best value and cooldown are the uninterrupted run's;
    the learning rate itself comes back with the optimizer's variables.

    Args:
        monitor: The log to watch. Defaults to `"val_loss"`.
        factor: Multiplies the learning rate on a plateau; below 1.
            Defaults to `0.1`.
        patience: Epochs without improvement before lowering. Defaults to
            `10`.
        verbose: `1` prints each reduction. Defaults to `0`.
        mode: `"min"`, `"max"`, or `"auto"`: max for names containing
            `"acc"` or `"auc"`, min otherwise. Defaults to `"auto"`.
        min_delta: Smallest change that counts as an improvement. Defaults
            to `1e-4`.
        cooldown: Epochs to wait after a reduction before counting again.
            Defaults to `0`.
        min_lr: The learning rate is not lowered below this. Defaults to
            `0.0`.
        finished: Monitored values of the epochs finished before a resume.
            Defaults to `()`.
        learning_rates: The learning rates those epochs logged; an epoch
            without one counts as above `min_lr`. Defaults to `()`.

    Example:

    ```python
    plateau = ResumableReduceLROnPlateau(factor=0.5, patience=3,
                                         finished=[0.9, 0.8],
                                         learning_rates=[1e-3, 1e-3])
    ```
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
        finished=(),
        learning_rates=(),
    ):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. "
                f"Received factor={factor}"
            )
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.mode = _resolve_mode(monitor, mode)
        self.min_delta = abs(min_delta)
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.finished = _finished_values(finished)
        self.learning_rates = _finished_values(learning_rates)
        self.best = None
        self.wait = 0
        self.cooldown_counter = 0

    def in_cooldown(self):
        """Returns whether the callback waits after a reduction."""
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self.best = None
        self.wait = 0
        self.cooldown_counter = 0
        for epoch, current in enumerate(self.finished):
            if current is None:
                continue
            rates = self.learning_rates
            rate = rates[epoch] if epoch < len(rates) else None

            def lowered(rate=rate):
                return rate is None or rate > np.float32(self.min_lr)

            self._record(current, lowered)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = self._read_learning_rate()
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric "
                f"`{self.monitor}` which is not available. Available metrics "
                f"are: {','.join(logs)}.",
                stacklevel=2,
            )
            return
        self._record(current, lambda: self._lower(epoch))

    def _read_learning_rate(self):
        return float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def _lower(self, epoch):
        """Lowers the learning rate unless at `min_lr`; returns whether it did."""
        old = self._read_learning_rate()
        if not old > np.float32(self.min_lr):
            return False
        new = max(old * self.factor, self.min_lr)
        self.model.optimizer.learning_rate = new
        if self.verbose > 0:
            print(
                f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                f"to {new}."
            )
        return True

    def _record(self, current, lower):
        """Counts one epoch's value; `lower()` lowers the rate if it may."""
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if _improves(current, self.best, self.mode, self.min_delta):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and lower():
                self.cooldown_counter = self.cooldown
                self.wait = 0
