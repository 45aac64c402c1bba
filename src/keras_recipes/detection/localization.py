"""Classification with localization: one object per image, its class and box."""

import keras
from keras import ops


def _features(images, input_shape, filters):
    x = keras.layers.Rescaling(1 / 255, name="rescaling")(images)
    for index, count in enumerate(filters):
        x = keras.layers.Conv2D(
            count, 3, padding="same", activation="relu", name=f"block{index + 1}_conv"
        )(x)
        x = keras.layers.MaxPooling2D(2, name=f"block{index + 1}_pool")(x)
    return keras.layers.Flatten(name="flatten")(x)


def _check_common(input_shape, filters, dense_units):
    if len(input_shape) != 3 or any(s is None or s < 1 for s in input_shape):
        raise ValueError(
            "`input_shape` must be (height, width, channels) with fixed sizes. "
            f"Received: input_shape={input_shape}"
        )
    if not filters or min(filters) < 1:
        raise ValueError(
            f"`filters` must be positive and not empty. Received: filters={filters}"
        )
    if 2 ** len(filters) > min(input_shape[:2]):
        raise ValueError(
            f"{len(filters)} pooling blocks need an input of at least "
            f"{2 ** len(filters)} pixels. Received: input_shape={input_shape}"
        )
    if dense_units < 1:
        raise ValueError(f"`dense_units` must be positive. Received: {dense_units}")


def classification_with_localization(
    input_shape=(64, 64, 3),
    num_classes=3,
    filters=(16, 32, 64),
    dense_units=128,
    name="classification_with_localization",
):
    """Builds a classifier that also says whether and where its object is.

    The output is the deep-learning course's vector `y = [Pc, bx, by, bw,
    bh, c_1 .. c_C]`: `Pc` the probability that there is an object
    (sigmoid), the box centre and size relative to the image (sigmoid, 0 to
    1; width before height as in `"center_xywh"`) and the class
    probabilities (softmax). Train it with `LocalizationLoss`.

    Args:
        input_shape: `(height, width, channels)`, values in [0, 255].
            Defaults to `(64, 64, 3)`.
        num_classes: The number of classes `C`. Defaults to `3`.
        filters: Filters of the conv blocks, each followed by 2x2 pooling.
            Defaults to `(16, 32, 64)`.
        dense_units: Units of the hidden dense layer. Defaults to `128`.
        name: Model name. Defaults to `"classification_with_localization"`.

    Returns:
        An uncompiled `keras.Model` with output shape `[batch, 5 + C]`.

    Example:

    ```python
    model = classification_with_localization((64, 64, 3), num_classes=3)
    model.compile(optimizer="adam", loss=LocalizationLoss())
    ```
    """
    input_shape = tuple(input_shape)
    _check_common(input_shape, filters, dense_units)
    if num_classes < 1:
        raise ValueError(
            f"`num_classes` must be at least 1. Received: num_classes={num_classes}"
        )
    images = keras.Input(input_shape, name="images")
    x = _features(images, input_shape, filters)
    x = keras.layers.Dense(dense_units, activation="relu", name="fc")(x)
    presence = keras.layers.Dense(1, activation="sigmoid", name="presence")(x)
    box = keras.layers.Dense(4, activation="sigmoid", name="box")(x)
    classes = keras.layers.Dense(num_classes, activation="softmax", name="classes")(x)
    outputs = keras.layers.Concatenate(name="y")([presence, box, classes])
    return keras.Model(images, outputs, name=name)


@keras.saving.register_keras_serializable(package="keras_recipes")
class LocalizationLoss(keras.losses.Loss):
    """The mixed loss of classification with localization.

    For `y = [Pc, bx, by, bw, bh, c_1 .. c_C]`: the logistic loss of `Pc`
    always, plus, only where there is an object (`Pc = 1`), `box_weight`
    times the squared error of the box and `class_weight` times the class
    cross-entropy. Where there is no object the box and classes are
    "don't care".

    Args:
        box_weight: Weight of the box term. Defaults to `5.0`.
        class_weight: Weight of the class term. Defaults to `1.0`.
        name: Name of the loss. Defaults to `"localization_loss"`.
        **kwargs: Base loss arguments (`reduction`, `dtype`).

    Example:

    ```python
    model.compile(optimizer="adam", loss=LocalizationLoss(box_weight=5.0))
    ```
    """

    def __init__(
        self, box_weight=5.0, class_weight=1.0, name="localization_loss", **kwargs
    ):
        super().__init__(name=name, **kwargs)
        if box_weight < 0 or class_weight < 0:
            raise ValueError(
                "Weights must be >= 0. Received: "
                f"box_weight={box_weight}, class_weight={class_weight}"
            )
        self.box_weight = float(box_weight)
        self.class_weight = float(class_weight)

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.cast(y_true, y_pred.dtype)
        epsilon = keras.config.epsilon()
        presence = ops.clip(y_pred[..., 0], epsilon, 1 - epsilon)
        has_object = y_true[..., 0]
        presence_loss = -(
            has_object * ops.log(presence) + (1 - has_object) * ops.log(1 - presence)
        )
        box_loss = ops.sum(ops.square(y_pred[..., 1:5] - y_true[..., 1:5]), axis=-1)
        probabilities = ops.clip(y_pred[..., 5:], epsilon, 1.0)
        class_loss = -ops.sum(y_true[..., 5:] * ops.log(probabilities), axis=-1)
        return presence_loss + has_object * (
            self.box_weight * box_loss + self.class_weight * class_loss
        )

    def get_config(self):
        config = super().get_config()
        config.update(box_weight=self.box_weight, class_weight=self.class_weight)
        return config
