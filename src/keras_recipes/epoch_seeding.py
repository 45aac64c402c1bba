"""Randomness that is a pure function of (seed, epoch), so resumed runs match.

`BackupAndRestore` brings back the weights, the optimizer and the epoch
counter of an interrupted run, but not the state of `tf.data` shuffling nor
of the seed generators that dropout and other random layers draw from.
Re-seeding all of them from `(seed, epoch)` at the start of every epoch makes
epoch `k` of a resumed run draw exactly what epoch `k` of an uninterrupted run
draws, so both end with the same weights.

Training pipelines are built with `every_epoch`: one dataset for the whole
run, whose epochs are numbered by the dataset itself from the epoch the run
starts at.
"""

import keras
import tensorflow as tf

# Draws within one epoch stay below this, so epochs never share a stream.
_DRAWS_PER_EPOCH = 1_000_003


def make_epoch_variable():
    """Returns the int64 variable that holds the current epoch for pipelines.

    Returns:
        A non-trainable `tf.Variable` set to 0.

    Example:

    ```python
    epoch = make_epoch_variable()
    ```
    """
    return tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")


def read_epoch(epoch):
    """Returns the epoch number as an int64 tensor.

    Args:
        epoch: The variable from `make_epoch_variable` (its value now), or an
            epoch number (a scalar tensor, as `every_epoch` passes it).

    Returns:
        A scalar int64 tensor.

    Example:

    ```python
    stream = tf.stack([tf.constant(42, tf.int64), read_epoch(epoch)])
    ```
    """
    if hasattr(epoch, "read_value"):
        return epoch.read_value()
    return tf.cast(epoch, tf.int64)


def every_epoch(epoch, one_epoch):
    """Returns the batches of epoch after epoch, without end, for a whole run.

    Keras makes a new iterator at the start of every epoch of a finite
    dataset, and each new iterator instantiates every function of the
    pipeline again: a few milliseconds a function, about 40 ms an epoch for
    the classifier's augmented pipeline, a sixth of its training epoch on
    two cores. This dataset never ends, so `fit` given `steps_per_epoch`
    keeps one iterator for the whole run. It
    numbers the epochs itself, from the value `epoch` holds when the
    iterator starts (the run's first epoch, or where a resumed run picks
    up), so prefetching across an epoch's end cannot read a stale number.

    Args:
        epoch: The variable from `make_epoch_variable`.
        one_epoch: A function from an epoch number (a scalar int64 tensor)
            to a `tf.data.Dataset` of that epoch's batches; pass the number
            on to `epoch_shuffled_indices` and `augment_batches`.

    Returns:
        A `tf.data.Dataset` of infinite cardinality; `steps_per_epoch`
        batches of it make one epoch.

    Example:

    ```python
    features = tf.random.uniform([100, 8])

    def one_epoch(number):
        order = epoch_shuffled_indices(100, seed=42, epoch=number)
        return order.batch(32).map(lambda indices: tf.gather(features, indices))

    train = every_epoch(make_epoch_variable(), one_epoch)
    ```
    """
    first = tf.data.Dataset.from_tensors(0).map(lambda _: read_epoch(epoch))
    numbers = first.flat_map(lambda start: tf.data.Dataset.counter(start))
    batches = numbers.flat_map(one_epoch)
    return batches.apply(
        tf.data.experimental.assert_cardinality(tf.data.INFINITE_CARDINALITY)
    )


def never_ends(dataset):
    """Returns whether `dataset` is a `tf.data.Dataset` without end.

    Args:
        dataset: A `tf.data.Dataset`, or anything else `fit` takes.

    Returns:
        `True` for infinite cardinality, as `every_epoch` gives.

    Example:

    ```python
    steps = data.steps_per_epoch if never_ends(data.train) else None
    ```
    """
    return (
        isinstance(dataset, tf.data.Dataset)
        and dataset.cardinality() == tf.data.INFINITE_CARDINALITY
    )


def whole_epochs(dataset, steps_per_epoch, steps_per_execution):
    """Returns what to give `fit` so that each epoch trains on its own batches.

    Keras runs `steps_per_execution` steps per call and, on a dataset that
    never ends, runs the last call of an epoch whole, into the next epoch's
    batches. When the epoch is not a multiple of it, `fit` gets one epoch at
    a time instead (a new iterator each epoch, which `every_epoch` starts at
    the right epoch).

    Args:
        dataset: The training dataset.
        steps_per_epoch: Batches in one epoch, or `None`.
        steps_per_execution: The compiled model's `steps_per_execution`.

    Returns:
        `(dataset, steps_per_epoch)` for `fit`.

    Example:

    ```python
    train, steps = whole_epochs(train, 39, model.steps_per_execution)
    model.fit(train, steps_per_epoch=steps, epochs=10)
    ```
    """
    partial = steps_per_epoch and steps_per_epoch % steps_per_execution
    if partial and never_ends(dataset):
        return dataset.take(steps_per_epoch), None
    return dataset, steps_per_epoch


def epoch_shuffled_indices(size, seed, epoch):
    """Returns a dataset of `range(size)` in an order fixed by `(seed, epoch)`.

    Given the epoch variable, the order is drawn when an iterator starts,
    from the value the variable has then, so each epoch gets its own
    permutation and the same epoch always gets the same one.

    Args:
        size: Number of elements.
        seed: The run's integer seed.
        epoch: The variable from `make_epoch_variable`, or an epoch number
            (see `read_epoch`).

    Returns:
        A `tf.data.Dataset` of int64 indices.

    Example:

    ```python
    order = epoch_shuffled_indices(100, seed=42, epoch=make_epoch_variable())
    ```
    """

    def permutation(_):
        stream = tf.stack([tf.constant(seed, tf.int64), read_epoch(epoch)])
        keys = tf.random.stateless_uniform([size], seed=stream)
        return tf.argsort(keys, stable=True)

    indices = tf.data.Dataset.from_tensors(0).map(permutation).unbatch()
    # Known cardinality lets Keras count the steps of the first epoch.
    return indices.apply(tf.data.experimental.assert_cardinality(size))


def seed_generator_states(objects):
    """Returns the seed-generator state variables of layers and models.

    Args:
        objects: Keras layers or models (dropout, augmentation, ...).

    Returns:
        A list of the distinct `seed_generator_state` variables, in a fixed
        order.

    Example:

    ```python
    states = seed_generator_states([model, augmenter])
    ```
    """
    states, seen = [], set()
    for obj in objects:
        if obj is None:
            continue
        for variable in obj.variables:
            if (
                variable.path.endswith("seed_generator_state")
                and id(variable) not in seen
            ):
                seen.add(id(variable))
                states.append(variable)
    return states


class EpochSeeding(keras.callbacks.Callback):
    """Re-seeds input shuffling and every seed generator at each epoch start.

    Args:
        seed: The run's integer seed.
        epoch: The variable the input pipelines read, from
            `make_epoch_variable`.
        objects: Layers and models whose seed generators to re-seed; the
            model being trained is always included. Defaults to `()`.

    Example:

    ```python
    model.fit(train, epochs=5, callbacks=[EpochSeeding(42, epoch, [augmenter])])
    ```
    """

    def __init__(self, seed, epoch, objects=()):
        super().__init__()
        self.seed = seed
        self.epoch = epoch
        self.objects = list(objects)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch.assign(epoch)
        states = seed_generator_states([self.model, *self.objects])
        for index, state in enumerate(states):
            state.assign([self.seed * 1009 + index, epoch * _DRAWS_PER_EPOCH])
