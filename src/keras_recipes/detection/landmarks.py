"""Landmark detection: a network that outputs the coordinates of K points."""

import keras

from keras_recipes.detection.localization import _check_common, _features


def landmark_detector(
    input_shape=(64, 64, 3),
    num_landmarks=4,
    filters=(16, 32, 64),
    dense_units=128,
    name="landmark_detector",
):
    """Builds a regressor of `K` landmark positions (eye corners, joints, ...).

    The output holds `(x, y)` for each landmark, relative to the image (0 to
    1, sigmoid), always in the same landmark order: the labels must name the
    same point in the same row of every image. Train it with a squared error
    (`"mse"`); multiply by the image size for pixels.

    Args:
        input_shape: `(height, width, channels)`, values in [0, 255].
            Defaults to `(64, 64, 3)`.
        num_landmarks: The number of points `K`. Defaults to `4`.
        filters: Filters of the conv blocks, each followed by 2x2 pooling.
            Defaults to `(16, 32, 64)`.
        dense_units: Units of the hidden dense layer. Defaults to `128`.
        name: Model name. Defaults to `"landmark_detector"`.

    Returns:
        An uncompiled `keras.Model` with output shape `[batch, K, 2]`.

    Example:

    ```python
    model = landmark_detector((64, 64, 3), num_landmarks=3)
    model.compile(optimizer="adam", loss="mse")
    ```
    """
    input_shape = tuple(input_shape)
    _check_common(input_shape, filters, dense_units)
    if num_landmarks < 1:
        raise ValueError(
            "`num_landmarks` must be at least 1. "
            f"Received: num_landmarks={num_landmarks}"
        )
    images = keras.Input(input_shape, name="images")
    x = _features(images, input_shape, filters)
    x = keras.layers.Dense(dense_units, activation="relu", name="fc")(x)
    x = keras.layers.Dense(2 * num_landmarks, activation="sigmoid", name="points")(x)
    outputs = keras.layers.Reshape((num_landmarks, 2), name="landmarks")(x)
    return keras.Model(images, outputs, name=name)
