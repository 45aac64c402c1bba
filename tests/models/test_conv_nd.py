"""Convolutions in 1, 2 and 3 dimensions follow (N - F + 2P)/S + 1."""

import itertools

import keras
import numpy as np
import pytest

from keras_recipes.models.classifier import small_cnn
from keras_recipes.models.conv_nd import (
    conv_output_size,
    padded_conv,
    pooling_layer,
)

# (N, F, S, P): sizes, filters, strides and paddings, including strides that
# do not divide N - F + 2P (the last partial window is dropped).
CASES = [
    (7, 3, 1, 0),
    (7, 3, 2, 1),
    (8, 3, 2, 0),
    (9, 5, 2, 2),
    (10, 4, 3, 1),
    (6, 6, 1, 0),
    (5, 1, 1, 3),
]


def test_known_sizes():
    assert conv_output_size(227, 11, stride=4) == 55  # AlexNet conv1
    assert conv_output_size(32, 5, stride=1, padding=2) == 32  # "same"
    assert conv_output_size(7, 3, stride=2, padding=1) == 4
    assert conv_output_size(8, 3, stride=2) == 3  # (8 - 3) / 2 + 1 = 3.5
    with pytest.raises(ValueError, match="kernel_size=9"):
        conv_output_size(4, 9)
    with pytest.raises(ValueError, match="stride=0"):
        conv_output_size(4, 3, stride=0)


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("size, kernel, stride, padding", CASES)
def test_conv_output_follows_the_formula(rank, size, kernel, stride, padding):
    shape = (size,) * rank + (2,)
    model = keras.Sequential(
        [keras.Input(shape), *padded_conv(rank, 3, kernel, stride, padding)]
    )
    expected = (size - kernel + 2 * padding) // stride + 1
    assert expected == conv_output_size(size, kernel, stride, padding)
    assert model.output_shape == (None, *(expected,) * rank, 3)
    # The real output of a forward pass has that shape too.
    output = model(np.zeros((1, *shape), "float32"))
    assert tuple(output.shape) == (1, *(expected,) * rank, 3)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_anisotropic_input_sizes(rank):
    sizes = (11, 8, 6)[:rank]
    model = keras.Sequential(
        [keras.Input((*sizes, 1)), *padded_conv(rank, 4, 3, strides=2, padding=1)]
    )
    assert model.output_shape[1:-1] == tuple((n - 3 + 2) // 2 + 1 for n in sizes)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_pooling_follows_the_formula_with_no_padding(rank):
    for size, window, stride in itertools.product((8, 9), (2, 3), (1, 2)):
        model = keras.Sequential(
            [keras.Input((size,) * rank + (1,)), pooling_layer(rank, window, stride)]
        )
        expected = conv_output_size(size, window, stride)
        assert model.output_shape == (None, *(expected,) * rank, 1)


@pytest.mark.parametrize(
    "input_shape, conv_class, pool_class",
    [
        ((32, 2), keras.layers.Conv1D, keras.layers.MaxPooling1D),
        ((16, 16, 1), keras.layers.Conv2D, keras.layers.MaxPooling2D),
        ((10, 12, 16, 1), keras.layers.Conv3D, keras.layers.MaxPooling3D),
    ],
)
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_small_cnn_blocks_in_every_rank(input_shape, conv_class, pool_class, padding):
    model = small_cnn(
        input_shape=input_shape,
        num_classes=3,
        filters=(4, 6),
        kernel_size=3,
        dense_units=8,
        padding=padding,
    )
    sizes = list(input_shape[:-1])
    for index, filters in ((1, 4), (2, 6)):
        conv = model.get_layer(f"block{index}_conv")
        pool = model.get_layer(f"block{index}_pool")
        assert isinstance(conv, conv_class) and isinstance(pool, pool_class)
        p = 1 if padding == "same" else 0
        sizes = [conv_output_size(n, 3, 1, p) for n in sizes]
        assert conv.output.shape[1:] == (*sizes, filters)
        sizes = [conv_output_size(n, 2, 2) for n in sizes]
        assert pool.output.shape[1:] == (*sizes, filters)
    assert model.output_shape == (None, 3)


def test_small_cnn_rejects_other_ranks_and_tiny_inputs():
    with pytest.raises(ValueError, match=r"input_shape=\(4, 4, 4, 4, 1\)"):
        small_cnn(input_shape=(4, 4, 4, 4, 1))
    with pytest.raises(ValueError, match="below 1"):
        small_cnn(input_shape=(4, 1), filters=(2, 2, 2))


def _waves(count, length=64, seed=0):
    """Noisy sine, square and sawtooth waves of random frequency and phase."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, count)
    t = np.arange(length) / length
    frequency = rng.uniform(2, 6, (count, 1))
    phase = rng.uniform(0, 1, (count, 1))
    cycle = (t * frequency + phase) % 1.0
    waves = np.where(
        labels[:, None] == 0,
        np.sin(2 * np.pi * cycle),
        np.where(labels[:, None] == 1, np.sign(cycle - 0.5), 2 * cycle - 1),
    )
    waves += rng.normal(0, 0.2, waves.shape)
    return (waves[..., None] * 127.5 + 127.5).astype("float32"), labels


def _shapes(count, size=12, seed=0):
    """Volumes holding a ball, a cube or a rod at a random place and size."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, count)
    grid = np.stack(np.meshgrid(*[np.arange(size)] * 3, indexing="ij"), -1)
    volumes = np.zeros((count, size, size, size, 1), "float32")
    for i, label in enumerate(labels):
        radius = rng.uniform(2, 3.5)
        centre = rng.uniform(radius, size - 1 - radius, 3)
        offset = np.abs(grid - centre)
        if label == 0:
            inside = np.sqrt((offset**2).sum(-1)) <= radius
        elif label == 1:
            inside = offset.max(-1) <= radius
        else:
            axis = rng.integers(0, 3)
            across = np.delete(offset, axis, axis=-1)
            inside = across.max(-1) <= 1.0
        volumes[i, ..., 0] = 255.0 * inside
    return volumes, labels


@pytest.mark.parametrize(
    "make, input_shape",
    [(_waves, (64, 1)), (_shapes, (12, 12, 12, 1))],
    ids=["conv1d_waves", "conv3d_shapes"],
)
def test_small_examples_learn(make, input_shape):
    keras.utils.set_random_seed(0)
    x_train, y_train = make(600, seed=0)
    x_test, y_test = make(200, seed=1)
    model = small_cnn(
        input_shape=input_shape,
        num_classes=3,
        filters=(8, 16),
        dense_units=32,
        dropout=0.2,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, epochs=8, batch_size=32, verbose=0)
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    assert accuracy >= 0.9
