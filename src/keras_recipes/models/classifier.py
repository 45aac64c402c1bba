"""A small convolutional image classifier."""

import keras

from keras_recipes.models.conv_nd import conv_layer, conv_output_size, pooling_layer


def small_cnn(
    input_shape=(150, 150, 3),
    num_classes=2,
    filters=(32, 32, 64),
    kernel_size=3,
    dense_units=64,
    dropout=0.5,
    padding="same",
    rescale=1.0 / 255,
    name="small_cnn",
):
    """Builds INPUT -> [CONV -> RELU -> POOL]*M -> FLATTEN -> DENSE -> DROPOUT -> DENSE.

    The network of the "building powerful image classification models using
    very little data" recipe: a few convolution blocks, one hidden dense
    layer and strong dropout, small enough not to overfit a few thousand
    images. Inputs are raw pixels in [0, 255]; the first layer rescales them.
    A 1-D input `(length, channels)` (a signal) gets `Conv1D` and
    `MaxPooling1D` blocks, a 3-D input `(depth, height, width, channels)`
    (a volume) `Conv3D` and `MaxPooling3D` ones.

    Args:
        input_shape: Shape of one image, `(height, width, channels)`; or
            `(length, channels)`, or `(depth, height, width, channels)`.
            Defaults to `(150, 150, 3)`.
        num_classes: Number of classes; the output is a softmax over them.
            Defaults to `2`.
        filters: Filters of each convolution block, one block per entry.
            Defaults to `(32, 32, 64)`.
        kernel_size: Convolution kernel size. Defaults to `3`.
        dense_units: Units of the hidden dense layer. Defaults to `64`.
        dropout: Dropout rate before the output layer, in [0, 1).
            Defaults to `0.5`.
        padding: `"same"` or `"valid"` convolutions. Defaults to `"same"`.
        rescale: Factor applied to the raw pixels, or `None` for none.
            Defaults to `1 / 255`.
        name: Model name. Defaults to `"small_cnn"`.

    Returns:
        An uncompiled `keras.Sequential`.

    Example:

    ```python
    model = small_cnn(input_shape=(8, 8, 1), num_classes=10, filters=(32, 64))
    ```

    Reference:
        https://blog.keras.io/building-powerful-image-classification-models-using-very-little-data.html
    """
    if len(input_shape) not in (2, 3, 4):
        raise ValueError(
            f"input_shape must be (height, width, channels), or (length, "
            f"channels) or (depth, height, width, channels). Received: "
            f"input_shape={input_shape}"
        )
    rank = len(input_shape) - 1
    if num_classes < 2:
        raise ValueError(
            f"num_classes must be at least 2. Received: num_classes={num_classes}"
        )
    if not filters or any(f < 1 for f in filters):
        raise ValueError(
            f"filters must be positive integers. Received: filters={filters}"
        )
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1). Received: dropout={dropout}")
    if padding not in ("same", "valid"):
        raise ValueError(
            f"padding must be 'same' or 'valid'. Received: padding={padding}"
        )
    sizes = list(input_shape[:rank])
    for _ in filters:
        if padding == "valid":
            sizes = [n - kernel_size + 1 for n in sizes]
        sizes = [conv_output_size(n, 2, 2) if n >= 2 else 0 for n in sizes]
        if min(sizes) < 1:
            raise ValueError(
                f"{len(filters)} blocks of size-{kernel_size} convolution and "
                f"size-2 pooling shrink input_shape={tuple(input_shape)} below 1 "
                f"along an axis; use fewer filters entries or larger inputs"
            )
    layers = [keras.Input(shape=tuple(input_shape), name="image")]
    if rescale is not None:
        layers.append(keras.layers.Rescaling(rescale, name="rescale"))
    for index, count in enumerate(filters, start=1):
        layers += [
            conv_layer(
                rank,
                count,
                kernel_size,
                padding=padding,
                activation="relu",
                name=f"block{index}_conv",
            ),
            pooling_layer(rank, 2, name=f"block{index}_pool"),
        ]
    layers += [
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(dense_units, activation="relu", name="fc1"),
        keras.layers.Dropout(dropout, name="dropout"),
        keras.layers.Dense(num_classes, activation="softmax", name="predictions"),
    ]
    return keras.Sequential(layers, name=name)
