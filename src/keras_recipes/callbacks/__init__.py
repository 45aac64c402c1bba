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

from keras_recipes.callbacks.backup import (
    BACKUP_POINTER,
    AtomicBackupAndRestore,
    read_backup_pointer,
)
from keras_recipes.callbacks.build import build_callbacks
from keras_recipes.callbacks.checkpoint import AtomicModelCheckpoint
from keras_recipes.callbacks.early_stopping import (
    EARLY_STOPPING_BEST,
    ResumableEarlyStopping,
)
from keras_recipes.callbacks.interrupt import InterruptCheck
from keras_recipes.callbacks.monitoring import best_value
from keras_recipes.callbacks.reduce_lr import ResumableReduceLROnPlateau
from keras_recipes.callbacks.tensorboard import EpochTensorBoard

__all__ = [
    "BACKUP_POINTER",
    "EARLY_STOPPING_BEST",
    "AtomicBackupAndRestore",
    "AtomicModelCheckpoint",
    "EpochTensorBoard",
    "InterruptCheck",
    "ResumableEarlyStopping",
    "ResumableReduceLROnPlateau",
    "best_value",
    "build_callbacks",
    "read_backup_pointer",
]
