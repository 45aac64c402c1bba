"""One dataset for a whole run: `every_epoch` against per-epoch datasets."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_recipes.epoch_seeding import (
    EpochSeeding,
    epoch_shuffled_indices,
    every_epoch,
    make_epoch_variable,
    never_ends,
    whole_epochs,
)

SIZE, BATCH = 10, 4  # three batches an epoch, the last one short


def _one_epoch(number):
    return epoch_shuffled_indices(SIZE, seed=7, epoch=number).batch(BATCH)


def _epoch_orders(first, count):
    """Each epoch's order, from a per-epoch dataset and the epoch variable."""
    epoch = make_epoch_variable()
    orders = []
    for number in range(first, first + count):
        epoch.assign(number)
        orders.append(np.concatenate(list(_one_epoch(epoch).as_numpy_iterator())))
    return orders


def test_every_epoch_gives_each_epochs_batches_from_the_starting_epoch():
    epoch = make_epoch_variable()
    epoch.assign(2)  # a run resumed at its third epoch
    batches = list(every_epoch(epoch, _one_epoch).take(9).as_numpy_iterator())

    assert [len(batch) for batch in batches] == [4, 4, 2] * 3
    epochs = [np.concatenate(batches[i : i + 3]) for i in (0, 3, 6)]
    for order, expected in zip(epochs, _epoch_orders(2, 3), strict=True):
        np.testing.assert_array_equal(order, expected)
        assert sorted(order) == list(range(SIZE))
    assert not np.array_equal(epochs[0], epochs[1])


def test_every_epoch_counts_epochs_itself_once_started():
    epoch = make_epoch_variable()
    iterator = iter(every_epoch(epoch, _one_epoch).prefetch(8))
    first = np.concatenate([next(iterator).numpy() for _ in range(3)])
    epoch.assign(5)  # only a new iterator reads the variable
    second = np.concatenate([next(iterator).numpy() for _ in range(3)])

    expected = _epoch_orders(0, 2)
    np.testing.assert_array_equal(first, expected[0])
    np.testing.assert_array_equal(second, expected[1])


def test_never_ends_tells_every_epoch_from_one_epoch():
    epoch = make_epoch_variable()
    assert never_ends(every_epoch(epoch, _one_epoch))
    assert not never_ends(_one_epoch(epoch))
    assert not never_ends(np.zeros((4, 2)))


class _Recorder(keras.Model):
    """Records the targets of every batch it trains on (runs eagerly)."""

    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.targets = []

    def call(self, inputs):
        return self.dense(inputs)

    def train_step(self, data):
        self.targets.append(data[1].numpy())
        return super().train_step(data)


def _fit_recorder(steps_per_execution):
    """Fits `_Recorder` for 3 epochs of `every_epoch`, as `Recipe.fit_model` does."""
    epoch = make_epoch_variable()
    features = tf.constant(np.arange(SIZE, dtype="float32")[:, None])

    def one_epoch(number):
        order = epoch_shuffled_indices(SIZE, seed=7, epoch=number).batch(BATCH)
        return order.map(lambda i: (tf.gather(features, i), i))

    model = _Recorder()
    model.compile(
        "sgd", "mse", run_eagerly=True, steps_per_execution=steps_per_execution
    )
    train, steps = whole_epochs(
        every_epoch(epoch, one_epoch), 3, model.steps_per_execution
    )
    model.fit(
        train,
        epochs=3,
        steps_per_epoch=steps,
        callbacks=[EpochSeeding(7, epoch)],
        shuffle=False,
        verbose=0,
    )
    return model


def test_whole_epochs_keeps_the_endless_dataset_when_executions_fit():
    epoch = make_epoch_variable()
    train = every_epoch(epoch, _one_epoch)
    assert whole_epochs(train, 3, 1) == (train, 3)
    assert whole_epochs(train, 4, 2) == (train, 4)
    one_at_a_time, steps = whole_epochs(train, 3, 2)
    assert steps is None and int(one_at_a_time.cardinality()) == 3
    finite = _one_epoch(epoch)
    assert whole_epochs(finite, 3, 2) == (finite, 3)


@pytest.mark.parametrize("steps_per_execution", [1, 2])
def test_fit_on_every_epoch_trains_on_each_epochs_order_in_turn(steps_per_execution):
    model = _fit_recorder(steps_per_execution)

    assert [len(batch) for batch in model.targets] == [4, 4, 2] * 3
    for number, expected in enumerate(_epoch_orders(0, 3)):
        trained = np.concatenate(model.targets[3 * number : 3 * number + 3])
        np.testing.assert_array_equal(trained, expected)
