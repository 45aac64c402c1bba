"""Randomness that is a pure function of (seed, epoch), so resumed runs match.

`BackupAndRestore` brings back the weights, the optimizer and the epoch
counter of an interrupted run, but not the state of `tf.data` shuffling nor
of the seed generators that dropout and other random layers draw from.
Re-seeding all of them from `(seed, epoch)` at the start of every epoch makes
epoch `k` of a resumed run draw exactly what epoch `k` of an uninterrupted run
draws, so both end with the same weights.
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


def epoch_shuffled_indices(size, seed, epoch):
    """Returns a dataset of `range(size)` in an order fixed by `(seed, epoch)`.

    The order is drawn when an iterator starts, from the value `epoch` has
    then, so each epoch gets its own permutation and the same epoch always
    gets the same one.

    Args:
        size: Number of elements.
        seed: The run's integer seed.
        epoch: The variable from `make_epoch_variable`.

    Returns:
        A `tf.data.Dataset` of int64 indices.

    Example:

    ```python
    order = epoch_shuffled_indices(100, seed=42, epoch=make_epoch_variable())
    ```
    """

    def permutation(_):
        stream = tf.stack([tf.constant(seed, tf.int64), epoch.read_value()])
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
