"""Sliding windows done convolutionally: a classifier's Dense head as convs."""

import keras
import numpy as np

# Layers that act on each position (or each window) the same way at any size.
_SPATIAL_LAYERS = (
    keras.layers.Conv2D,
    keras.layers.MaxPooling2D,
    keras.layers.AveragePooling2D,
    keras.layers.BatchNormalization,
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.Softmax,
    keras.layers.Dropout,
    keras.layers.Rescaling,
    keras.layers.Dense,
)
# Layers that act on each value alone, so they may sit between Flatten and Dense.
_ELEMENTWISE_LAYERS = (
    keras.layers.Dropout,
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
)
_COLLAPSING_LAYERS = (
    keras.layers.Flatten,
    keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalMaxPooling2D,
)


def _chain(model):
    """Returns the layers of a single-input, single-output chain, in order."""
    layers = [
        layer
        for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer)
    ]
    if not isinstance(model, keras.Sequential):
        previous = model.inputs
        for layer in layers:
            try:
                inputs = layer.input
            except (AttributeError, ValueError):
                inputs = None
            inputs = inputs if isinstance(inputs, list) else [inputs]
            if len(previous) != 1 or len(inputs) != 1 or inputs[0] is not previous[0]:
                raise ValueError(
                    "`model` must be a chain of layers (a Sequential model or a "
                    f"functional one without branches). Received: layer "
                    f"'{layer.name}' does not take the previous layer's output"
                )
            previous = [layer.output]
    return layers


def _check_valid_padding(layer):
    padding = getattr(layer, "padding", "valid")
    kernel = getattr(layer, "kernel_size", None) or getattr(layer, "pool_size", (1,))
    if padding != "valid" and max(kernel) > 1:
        raise ValueError(
            f"Layer '{layer.name}' uses padding='{padding}': its border pixels "
            "would see the neighbouring windows' pixels instead of zeros, so the "
            "result would differ from classifying each window. Build the "
            f"classifier with padding='valid'. Received: padding='{padding}'"
        )


def window_stride(model):
    """Returns how far apart the windows of `to_fully_convolutional(model)` are.

    Args:
        model: The classifier (a chain of layers).

    Returns:
        `(stride_y, stride_x)`: the product of the strides of the layers
        before the flattening one.

    Example:

    ```python
    window_stride(classifier)  # (2, 2) with one 2x2 pooling layer
    ```
    """
    stride = np.array([1, 1])
    for layer in _chain(model):
        if isinstance(layer, _COLLAPSING_LAYERS):
            break
        stride *= np.array(getattr(layer, "strides", (1, 1)) or (1, 1))
    return int(stride[0]), int(stride[1])


def _copy_layer(layer):
    copy = layer.__class__.from_config(layer.get_config())
    return copy, layer.get_weights()


def to_fully_convolutional(model, name=None):
    """Turns a trained window classifier into one convolution over big images.

    The layers up to the flattening one are kept; `Flatten` and the `Dense`
    layer after it become one `Conv2D` whose kernel covers the whole feature
    map of a window, the later `Dense` layers become 1x1 convolutions, and
    `GlobalAveragePooling2D` / `GlobalMaxPooling2D` become pooling over the
    window's feature map with stride 1. Each layer keeps its weights. On an
    image larger than a window the new model returns a map whose value at
    `(i, j)` equals the classifier's output for the window whose top-left
    corner is at `(i * stride_y, j * stride_x)` (see `window_stride`): all
    windows in one pass, sharing the computation where they overlap
    (OverFeat).

    Args:
        model: A trained classifier with a fixed input size: a chain of
            `Conv2D` / pooling / normalisation / activation / `Dropout` /
            `Rescaling` layers with `padding="valid"`, then `Flatten` or a
            global pooling, then `Dense` layers.
        name: Name of the new model. Defaults to `None`, which appends
            `"_fully_convolutional"` to the model's name.

    Returns:
        A `keras.Model` taking images of any size at least the window's, with
        output `[batch, rows, columns, ...]` (the classifier's output per
        window).

    Reference:
        - [Sermanet et al., 2014](https://arxiv.org/abs/1312.6229)

    Example:

    ```python
    convolutional = to_fully_convolutional(classifier)   # window 14x14
    maps = convolutional(images_16x16)                   # [batch, 2, 2, 4]
    ```
    """
    window = model.input_shape[1:]
    if len(window) != 3 or None in window[:2]:
        raise ValueError(
            "`model` must take images of a fixed size [height, width, channels]. "
            f"Received: model.input_shape={model.input_shape}"
        )
    images = keras.Input((None, None, window[2]), name="images")
    x = images
    collapsed = False
    pending_flatten = None
    weights = []
    for layer in _chain(model):
        if not collapsed and isinstance(layer, _COLLAPSING_LAYERS):
            height, width = layer.input.shape[1:3]
            if isinstance(layer, keras.layers.Flatten):
                pending_flatten = (height, width)
            else:
                pool = (
                    keras.layers.AveragePooling2D
                    if isinstance(layer, keras.layers.GlobalAveragePooling2D)
                    else keras.layers.MaxPooling2D
                )
                x = pool((height, width), strides=1, name=layer.name)(x)
                pending_flatten = None
            collapsed = True
            continue
        if isinstance(layer, keras.layers.Dense) and collapsed:
            kernel, *bias = layer.get_weights()
            if pending_flatten is not None:
                height, width = pending_flatten
                pending_flatten = None
            else:
                height, width = 1, 1
            kernel = kernel.reshape(height, width, -1, layer.units)
            conv = keras.layers.Conv2D(
                layer.units,
                (height, width),
                activation=layer.activation,
                use_bias=layer.use_bias,
                name=layer.name,
            )
            x = conv(x)
            weights.append((conv, [kernel, *bias]))
            continue
        pending = collapsed and pending_flatten is not None
        if pending and not isinstance(layer, _ELEMENTWISE_LAYERS):
            raise ValueError(
                "Between Flatten and the next Dense layer only Dropout and "
                "activation layers can be converted. "
                f"Received: layer '{layer.name}' ({type(layer).__name__})"
            )
        if not isinstance(layer, _SPATIAL_LAYERS):
            raise ValueError(
                f"Cannot convert layer '{layer.name}' ({type(layer).__name__}); "
                "see the docstring for the layers that can be converted."
            )
        _check_valid_padding(layer)
        copy, layer_weights = _copy_layer(layer)
        x = copy(x)
        weights.append((copy, layer_weights))
    if not collapsed:
        raise ValueError(
            "`model` has no Flatten or global pooling layer, so it is already "
            "fully convolutional."
        )
    converted = keras.Model(images, x, name=name or f"{model.name}_fully_convolutional")
    for layer, layer_weights in weights:
        layer.set_weights(layer_weights)
    return converted


def classify_windows(model, images, stride=None, batch_size=256):
    """Runs a classifier on every window of the images, one window at a time.

    The plain sliding-window detector that `to_fully_convolutional` speeds up,
    and the reference it must equal.

    Args:
        model: A classifier with a fixed input size (the window).
        images: Array `[batch, height, width, channels]`.
        stride: `(stride_y, stride_x)` between windows. Defaults to `None`,
            which uses `window_stride(model)`.
        batch_size: Windows per `predict` batch. Defaults to `256`.

    Returns:
        A NumPy array `[batch, rows, columns, ...]` of the classifier's
        outputs.

    Example:

    ```python
    scores = classify_windows(classifier, images, stride=(2, 2))
    ```
    """
    images = np.asarray(images, "float32")
    window_height, window_width = model.input_shape[1:3]
    stride_y, stride_x = stride or window_stride(model)
    rows = (images.shape[1] - window_height) // stride_y + 1
    columns = (images.shape[2] - window_width) // stride_x + 1
    if rows < 1 or columns < 1:
        raise ValueError(
            f"The images must be at least as large as the {window_height}x"
            f"{window_width} window. Received: images.shape={images.shape}"
        )
    windows = np.stack(
        [
            images[
                :,
                r * stride_y : r * stride_y + window_height,
                c * stride_x : c * stride_x + window_width,
            ]
            for r in range(rows)
            for c in range(columns)
        ],
        axis=1,
    )
    flat = windows.reshape(-1, window_height, window_width, images.shape[3])
    outputs = model.predict(flat, batch_size=batch_size, verbose=0)
    return outputs.reshape(len(images), rows, columns, *outputs.shape[1:])
