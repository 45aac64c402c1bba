import keras
import numpy as np
import pytest

from keras_recipes.detection import (
    classify_windows,
    to_fully_convolutional,
    window_stride,
)


def course_classifier():
    """The course's 14x14x3 window classifier: conv 5x5, pool, FC 400, FC 400."""
    return keras.Sequential(
        [
            keras.Input((14, 14, 3)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(16, 5, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(400, activation="relu"),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(400, activation="relu"),
            keras.layers.Dense(4, activation="softmax"),
        ]
    )


def functional_classifier():
    images = keras.Input((12, 10, 2))
    x = keras.layers.Conv2D(6, 3, strides=1)(images)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.LeakyReLU(0.1)(x)
    x = keras.layers.AveragePooling2D(2)(x)
    x = keras.layers.Conv2D(8, (2, 3), activation="tanh")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(5)(x)
    return keras.Model(images, x)


def _randomize(model, seed):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, gamma.shape),
                    rng.normal(0, 0.2, beta.shape),
                    rng.normal(0, 0.2, mean.shape),
                    rng.uniform(0.5, 1.5, var.shape),
                ]
            )


@pytest.mark.parametrize("size", [(16, 16), (28, 28), (15, 21)])
def test_course_example_equals_per_window_outputs(size):
    keras.utils.set_random_seed(0)
    model = course_classifier()
    assert window_stride(model) == (2, 2)
    images = np.random.default_rng(1).uniform(0, 255, (2, *size, 3)).astype("float32")
    convolutional = to_fully_convolutional(model)
    maps = convolutional.predict(images, verbose=0)
    expected = classify_windows(model, images)
    rows, columns = (size[0] - 14) // 2 + 1, (size[1] - 14) // 2 + 1
    assert maps.shape == expected.shape == (2, rows, columns, 4)
    np.testing.assert_allclose(maps, expected, atol=1e-5)
    # On one window it is the classifier itself.
    window = images[:, :14, :14]
    np.testing.assert_allclose(
        convolutional.predict(window, verbose=0)[:, 0, 0],
        model.predict(window, verbose=0),
        atol=1e-5,
    )


def test_functional_chain_with_global_pooling_and_batch_norm():
    keras.utils.set_random_seed(0)
    model = functional_classifier()
    _randomize(model, 0)
    assert window_stride(model) == (2, 2)
    images = np.random.default_rng(2).normal(size=(3, 20, 17, 2)).astype("float32")
    maps = to_fully_convolutional(model).predict(images, verbose=0)
    expected = classify_windows(model, images)
    assert maps.shape == expected.shape == (3, 5, 4, 5)
    np.testing.assert_allclose(maps, expected, atol=1e-5)


def test_same_padding_is_refused():
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(2, 3, padding="same"),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    with pytest.raises(ValueError, match="padding='valid'"):
        to_fully_convolutional(model)


def test_branching_model_is_refused():
    images = keras.Input((8, 8, 1))
    a = keras.layers.Conv2D(2, 3)(images)
    b = keras.layers.Conv2D(2, 3)(images)
    x = keras.layers.Flatten()(keras.layers.Add()([a, b]))
    model = keras.Model(images, keras.layers.Dense(2)(x))
    with pytest.raises(ValueError, match="chain"):
        to_fully_convolutional(model)


def test_already_convolutional_model_is_refused():
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3)])
    with pytest.raises(ValueError, match="already fully convolutional"):
        to_fully_convolutional(model)
