"""Keras callbacks built from the `callbacks` config section.

Every callback here is written on Keras's public callback API: the hooks
(`on_train_begin`, `on_epoch_end`, ...), `model.get_weights`/`set_weights`,
`model.save`/`save_weights`, `model.stop_training` and
`model.optimizer.variables`. None reaches into a Keras class's private
members, so a Keras release that reworks its own callbacks changes nothing
here.

The callbacks that remember something across epochs (early stopping, the
learning-rate plateau, the best checkpoint) take the history of the epochs
an interrupted run finished, so that a resumed run continues exactly where
the uninterrupted one would be.
"""

import json
import math
import os
import shutil
import warnings
from pathlib import Path

import keras
import numpy as np

from keras_recipes.errors import UserError
from keras_recipes.saving import save_model_atomic, write_text_atomic

BACKUP_POINTER = "training_metadata.json"
# Early stopping's best weights, in the backup folder, when no checkpoint
# holds them.
EARLY_STOPPING_BEST = "early_stopping_best.npz"


def _resolve_mode(monitor, mode):
    """Returns `"min"` or `"max"`: `mode`, or for `"auto"` one from the name.

    `"auto"` maximises names containing `"acc"` or `"auc"` and minimises
    every other (losses, errors); give `mode` for anything else to maximise.
    """
    if mode in ("min", "max"):
        return mode
    if mode != "auto":
        raise ValueError(f"mode must be 'auto', 'min' or 'max'. Received: {mode!r}")
    name = monitor.removeprefix("val_")
    return "max" if ("acc" in name or "auc" in name) else "min"


def _improves(current, reference, mode, min_delta=0.0):
    """Whether `current` beats `reference` by more than `min_delta`.

    Compared in float32, as Keras's callbacks compare the Python floats they
    are given, so a value equal to the reference in float32 is no progress.
    `None` as the reference means no value yet: anything improves on it.
    """
    if reference is None:
        return True
    if mode == "max":
        return bool(np.float32(current - min_delta) > np.float32(reference))
    return bool(np.float32(current + min_delta) < np.float32(reference))


def _finished_values(values):
    """Returns the monitored values of finished epochs as floats or `None`."""
    return [None if value is None else float(value) for value in values]


class AtomicBackupAndRestore(keras.callbacks.Callback):
    """Backs up the training state after every epoch, never half-written.

    After each epoch the model's weights and the optimizer's variables (in
    their fixed order) go to a new `.npz` file, renamed into place when
    complete; then a small JSON pointer, `training_metadata.json`, naming
    that file and the number of finished epochs replaces the old pointer.
    A kill at any moment leaves a consistent backup: the pointer and the
    state it names always belong to the same epoch. NumPy writes the state
    several times faster than Keras writes a `.weights.h5` file (3 ms
    against 15 ms for the default classifier, whose epochs take 0.2 s).

    At the start of training the state the pointer names is loaded back
    (the optimizer is built first if it is not yet), and a backup of
    another model (other variable shapes) is refused with a `UserError`.
    The epoch to continue from is the pointer's `"epoch"`, which the caller
    gives to `fit` as `initial_epoch` (see `read_backup_pointer`). When
    training ends normally the backup folder is removed. The state is
    saved per epoch only: a run killed inside an epoch repeats that epoch.

    Args:
        backup_dir: Folder for the backup.
        delete_checkpoint: Whether to remove the folder when training
            finishes. Defaults to `True`.

    Example:

    ```python
    pointer = read_backup_pointer("run/backup")
    model.fit(
        data,
        epochs=10,
        initial_epoch=pointer["epoch"] if pointer else 0,
        callbacks=[AtomicBackupAndRestore("run/backup")],
    )
    ```
    """

    def __init__(self, backup_dir, delete_checkpoint=True):
        super().__init__()
        self.backup_dir = str(backup_dir)
        self.delete_checkpoint = delete_checkpoint

    def on_train_begin(self, logs=None):
        pointer = read_backup_pointer(self.backup_dir)
        if pointer is None:
            return
        if not self.model.built:
            raise UserError(
                f"cannot restore the backup in {self.backup_dir}: the model "
                f"must be built before fit (give it an Input)"
            )
        optimizer = self.model.optimizer
        if optimizer is not None and not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        variables = self._state_variables()
        with np.load(Path(self.backup_dir) / pointer["state"]) as saved:
            arrays = [saved[f"v{i:05d}"] for i in range(len(saved.files))]
        shapes = [tuple(variable.shape) for variable in variables]
        if [array.shape for array in arrays] != shapes:
            raise UserError(
                f"the backup in {self.backup_dir} holds another model's state "
                f"(variable shapes {[a.shape for a in arrays]}, this model's "
                f"{shapes}); remove that folder to start over"
            )
        for variable, array in zip(variables, arrays, strict=True):
            variable.assign(array)

    def on_epoch_end(self, epoch, logs=None):
        folder = Path(self.backup_dir)
        folder.mkdir(parents=True, exist_ok=True)
        finished = epoch + 1
        name = f"epoch_{finished:05d}.npz"
        arrays = {
            f"v{i:05d}": np.asarray(keras.ops.convert_to_numpy(variable))
            for i, variable in enumerate(self._state_variables())
        }
        partial = folder / f"partial_{name}"
        with open(partial, "wb") as file:
            np.savez(file, **arrays)
        os.replace(partial, folder / name)
        pointer = {"epoch": finished, "batch": 0, "state": name}
        write_text_atomic(folder / BACKUP_POINTER, json.dumps(pointer))
        for old in folder.glob("epoch_*.npz"):
            if old.name != name:
                old.unlink(missing_ok=True)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint:
            shutil.rmtree(self.backup_dir, ignore_errors=True)

    def _state_variables(self):
        optimizer = self.model.optimizer
        return list(self.model.weights) + (
            list(optimizer.variables) if optimizer is not None else []
        )


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


class EpochTensorBoard(keras.callbacks.TensorBoard):
    """`TensorBoard` logging once per epoch, with no per-batch hooks.

    Keras's callback defines batch hooks even when it only logs per epoch
    (`update_freq="epoch"`, no profiling), and any callback with batch hooks
    makes `fit` call it, after turning the logs into Python numbers, at every
    step. Without them the steps run back to back. It writes the same
    per-epoch summaries as `keras.callbacks.TensorBoard(write_graph=False)`;
    Keras writes the train graph from a batch hook, so for the graph use
    Keras's callback (as `build_callbacks` does when `write_graph` is on).

    Args:
        log_dir: Folder for the event files. Defaults to `"logs"`.
        histogram_freq: Epochs between weight histograms; `0` for none.
            Defaults to `0`.
        write_images: Whether to write the weights as images. Defaults to
            `False`.
        embeddings_freq: Epochs between embedding snapshots; `0` for none.
            Defaults to `0`.
        embeddings_metadata: As for `keras.callbacks.TensorBoard`. Defaults
            to `None`.

    Example:

    ```python
    board = EpochTensorBoard(log_dir="run/logs")
    ```
    """

    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_images=False,
        embeddings_freq=0,
        embeddings_metadata=None,
    ):
        super().__init__(
            log_dir=log_dir,
            histogram_freq=histogram_freq,
            write_graph=False,
            write_images=write_images,
            update_freq="epoch",
            profile_batch=0,
            embeddings_freq=embeddings_freq,
            embeddings_metadata=embeddings_metadata,
        )

    on_train_batch_begin = keras.callbacks.Callback.on_train_batch_begin
    on_train_batch_end = keras.callbacks.Callback.on_train_batch_end
    on_test_batch_begin = keras.callbacks.Callback.on_test_batch_begin


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


def read_backup_pointer(backup_dir):
    """Returns the last complete backup's pointer, or `None`.

    Args:
        backup_dir: The folder `AtomicBackupAndRestore` writes.

    Returns:
        A `dict` with the number of finished epochs (`"epoch"`, the
        `initial_epoch` to resume `fit` from), `"batch"` (always `0`) and
        the state file's name (`"state"`), or `None` when there is no
        backup.

    Example:

    ```python
    pointer = read_backup_pointer("runs/x/20260101-000000/backup")
    initial_epoch = pointer["epoch"] if pointer else 0
    ```
    """
    path = Path(backup_dir) / BACKUP_POINTER
    if not path.is_file():
        return None
    pointer = json.loads(path.read_text())
    return pointer if "state" in pointer else None


def best_value(history, monitor, mode):
    """Returns the best value of `monitor` in a history, or `None`.

    Args:
        history: `dict` of metric name to per-epoch values.
        monitor: The metric, e.g. `"val_loss"`.
        mode: `"min"`, `"max"` or `"auto"` (max for names containing
            `"acc"` or `"auc"`, min otherwise).

    Returns:
        The best finite value, or `None` when there is none.

    Example:

    ```python
    best_value({"val_loss": [0.5, 0.3, 0.4]}, "val_loss", "auto")  # 0.3
    ```
    """
    values = [v for v in history.get(monitor, []) if math.isfinite(v)]
    if not values:
        return None
    return max(values) if _resolve_mode(monitor, mode) == "max" else min(values)


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
