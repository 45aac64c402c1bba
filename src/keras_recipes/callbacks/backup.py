"""A backup of the training state after every epoch, never half-written."""

import json
import os
import shutil
from pathlib import Path

import keras
import numpy as np

from keras_recipes.errors import UserError
from keras_recipes.saving import write_text_atomic

BACKUP_POINTER = "training_metadata.json"


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
