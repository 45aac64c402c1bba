"""Training across worker processes, where Keras 3's `fit` cannot yet go.

Keras 3.15's `Model.fit` fails under `MultiWorkerMirroredStrategy` with more
than one worker: it reduces the first input batch and every scalar log with
`strategy.reduce(..., axis=0)`, which collective all-reduce rejects
(keras-team/keras#20585). This module runs the same Keras `train_step` and
`test_step` in `strategy.run`, as `fit` does on one worker, and drives the
same callbacks; only the reduction of the logs differs (a mean over
replicas, made inside the compiled step).
"""

import hashlib
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf


def build_training_state(model, dataset):
    """Creates the optimizer, loss and metric variables before training.

    Under a strategy every variable must exist before the first distributed
    step, in cross-replica context; `fit` builds them from one batch, and so
    does this, with public calls only.

    Args:
        model: A compiled `keras.Model`, made in the strategy's scope.
        dataset: The training `tf.data.Dataset` of `(x, y)` batches.

    Returns:
        `None`.

    Example:

    ```python
    with strategy.scope():
        build_training_state(model, train)
    ```
    """
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(next(iter(dataset)))
    y_pred = model(x, training=False)
    if model.loss is not None:  # models with their own train_step may have none
        model.compute_loss(x, y, y_pred, sample_weight)
    model.compute_metrics(x, y, y_pred, sample_weight)
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    model.reset_metrics()


def _distributed_step(model, strategy, step):
    @tf.function
    def run(batch):
        logs = strategy.run(step, args=(batch,))
        return {
            name: strategy.reduce("MEAN", value, axis=None)
            for name, value in logs.items()
        }

    return run


def _run_epoch(model, strategy, dataset, step, steps, callbacks, mode):
    """Runs `step` over `dataset` and returns the last step's mean logs."""
    logs = {}
    iterator = iter(strategy.experimental_distribute_dataset(dataset))
    index = 0
    while steps is None or index < steps:
        batch = iterator.get_next_as_optional()
        if not batch.has_value():
            break
        if mode == "train":
            callbacks.on_train_batch_begin(index)
        logs = {name: float(value) for name, value in step(batch.get_value()).items()}
        if mode == "train":
            callbacks.on_train_batch_end(index, logs)
            if model.stop_training:
                break
        index += 1
    return logs


def fit_multi_worker(
    model,
    strategy,
    train,
    validation=None,
    epochs=1,
    steps_per_epoch=None,
    validation_steps=None,
    callbacks=(),
    verbose="auto",
    initial_epoch=0,
):
    """Trains `model` on every worker of `strategy`, like `Model.fit`.

    Every worker calls this with the same arguments. Each global batch of
    `train` is split among the workers' replicas, gradients are summed
    across them, and every worker ends with the same weights. Callbacks see
    the logs `fit` gives them (means over replicas) and can stop training;
    a resumed run starts at `initial_epoch`, as with `fit`.

    Args:
        model: A compiled `keras.Model`, made in `strategy.scope()`.
        strategy: A `tf.distribute.MultiWorkerMirroredStrategy`.
        train: `tf.data.Dataset` of global batches.
        validation: Validation dataset, or `None`. Defaults to `None`.
        epochs: Epochs to train. Defaults to `1`.
        steps_per_epoch: Batches per epoch, or `None` for the whole dataset.
            Defaults to `None`.
        validation_steps: Validation batches, or `None` for all. Defaults to
            `None`.
        callbacks: Keras callbacks. Defaults to `()`.
        verbose: `fit`'s verbosity. Defaults to `"auto"`.
        initial_epoch: Epochs already finished, from which to go on (a
            resumed run's backup pointer says how many). Defaults to `0`.

    Returns:
        The `keras.callbacks.History` of the run.

    Example:

    ```python
    with strategy.scope():
        model = build_model()
        model.compile(optimizer="adam", loss="mse")
    history = fit_multi_worker(model, strategy, train, epochs=5)
    ```
    """
    verbose = 1 if verbose == "auto" else verbose
    with strategy.scope():
        build_training_state(model, train)
    callback_list = keras.callbacks.CallbackList(
        list(callbacks),
        add_history=True,
        add_progbar=verbose != 0,
        verbose=verbose,
        epochs=epochs,
        steps=steps_per_epoch,
        model=model,
    )
    train_step = _distributed_step(model, strategy, model.train_step)
    test_step = _distributed_step(model, strategy, model.test_step)
    model.stop_training = False
    callback_list.on_train_begin()
    epoch_logs = {}
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        epoch_logs = _run_epoch(
            model, strategy, train, train_step, steps_per_epoch, callback_list, "train"
        )
        if validation is not None:
            model.reset_metrics()
            val_logs = _run_epoch(
                model, strategy, validation, test_step, validation_steps, None, "test"
            )
            epoch_logs.update({f"val_{k}": value for k, value in val_logs.items()})
        callback_list.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    callback_list.on_train_end(epoch_logs)
    return model.history


def weights_digest(model):
    """Returns a SHA-256 digest of `model`'s weights, to compare workers.

    Args:
        model: A `keras.Model`.

    Returns:
        The hexadecimal digest of every weight's bytes, in order.

    Example:

    ```python
    print(f"weights sha256: {weights_digest(model)}")
    ```
    """
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()


def local_copy(model, path):
    """Returns a copy of a distributed `model` that lives outside its strategy.

    The copy is saved to `path` and loaded back with `safe_mode` on, outside
    any strategy scope, with the same weights and compile settings; the file
    is removed.

    Args:
        model: A compiled `keras.Model` made in a strategy's scope.
        path: A `.keras` file path to use on the way.

    Returns:
        The local `keras.Model`.

    Example:

    ```python
    model = local_copy(model, run_dir / ".local_copy.keras")
    ```
    """
    path = Path(path)
    model.save(str(path))
    try:
        return keras.saving.load_model(str(path), safe_mode=True)
    finally:
        path.unlink(missing_ok=True)
