"""Convolution and pooling in 1, 2 or 3 dimensions, and their output sizes.

A 1-D convolution slides along a sequence (audio, sensor readings, a row of
text), a 2-D one over an image, a 3-D one through a volume (a scan, a video
as frames x height x width). The arithmetic is the same along every axis:
an input of size N, a filter of size F, zero padding P and stride S give
(N - F + 2P)/S + 1 outputs.
"""

import keras

_CONV = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}
_MAX_POOL = {
    1: keras.layers.MaxPooling1D,
    2: keras.layers.MaxPooling2D,
    3: keras.layers.MaxPooling3D,
}
_AVERAGE_POOL = {
    1: keras.layers.AveragePooling1D,
    2: keras.layers.AveragePooling2D,
    3: keras.layers.AveragePooling3D,
}
_ZERO_PADDING = {
    1: keras.layers.ZeroPadding1D,
    2: keras.layers.ZeroPadding2D,
    3: keras.layers.ZeroPadding3D,
}


def conv_output_size(size, kernel_size, stride=1, padding=0):
    """Returns (N - F + 2P)/S + 1, the output length of a convolution or pooling.

    When S does not divide N - F + 2P the last positions that do not fit a
    whole window are dropped, so the result is rounded down, as Keras does.

    Args:
        size: Input length N along one axis.
        kernel_size: Window length F.
        stride: Step S between windows. Defaults to `1`.
        padding: Zeros P added at each end. Defaults to `0`.

    Returns:
        The output length, an int.

    Example:

    ```python
    conv_output_size(32, 5, stride=1, padding=2)  # 32: "same" for F=5
    conv_output_size(227, 11, stride=4)  # 55, AlexNet's first layer
    ```

    Reference:
        https://cs231n.github.io/convolutional-networks/#conv
    """
    if min(size, kernel_size, stride) < 1 or padding < 0:
        raise ValueError(
            f"size, kernel_size and stride must be positive and padding >= 0. "
            f"Received: size={size}, kernel_size={kernel_size}, stride={stride}, "
            f"padding={padding}"
        )
    if kernel_size > size + 2 * padding:
        raise ValueError(
            f"kernel_size={kernel_size} is larger than the padded input "
            f"{size} + 2 * {padding}"
        )
    return (size - kernel_size + 2 * padding) // stride + 1


def _rank(rank):
    if rank not in _CONV:
        raise ValueError(f"rank must be 1, 2 or 3. Received: rank={rank}")
    return rank


def conv_layer(rank, filters, kernel_size, strides=1, padding="valid", **kwargs):
    """Returns a `Conv1D`, `Conv2D` or `Conv3D` layer.

    Args:
        rank: Number of spatial axes: 1, 2 or 3.
        filters: Number of filters (output channels).
        kernel_size: Window size, the same along every axis.
        strides: Step along every axis. Defaults to `1`.
        padding: `"valid"` (P = 0) or `"same"` (output = ceil(N / S)).
            Defaults to `"valid"`.
        **kwargs: Other layer arguments (`activation`, `name`, ...).

    Returns:
        The Keras layer.

    Example:

    ```python
    layer = conv_layer(3, filters=8, kernel_size=3, activation="relu")
    ```
    """
    return _CONV[_rank(rank)](
        filters, kernel_size, strides=strides, padding=padding, **kwargs
    )


def pooling_layer(rank, pool_size=2, strides=None, kind="max", **kwargs):
    """Returns a max or average pooling layer of 1, 2 or 3 dimensions.

    Args:
        rank: Number of spatial axes: 1, 2 or 3.
        pool_size: Window size along every axis. Defaults to `2`.
        strides: Step; `None` means `pool_size`. Defaults to `None`.
        kind: `"max"` or `"average"`. Defaults to `"max"`.
        **kwargs: Other layer arguments (`name`, `padding`).

    Returns:
        The Keras layer.

    Example:

    ```python
    layer = pooling_layer(1, pool_size=2)  # MaxPooling1D
    ```
    """
    if kind not in ("max", "average"):
        raise ValueError(f"kind must be 'max' or 'average'. Received: kind={kind!r}")
    layers = _MAX_POOL if kind == "max" else _AVERAGE_POOL
    return layers[_rank(rank)](pool_size, strides=strides, **kwargs)


def zero_padding_layer(rank, padding, **kwargs):
    """Returns a layer that adds `padding` zeros at both ends of every axis.

    Args:
        rank: Number of spatial axes: 1, 2 or 3.
        padding: Zeros P per side.
        **kwargs: Other layer arguments (`name`).

    Returns:
        The Keras layer.

    Example:

    ```python
    layer = zero_padding_layer(2, 1)  # 8x8 -> 10x10
    ```
    """
    return _ZERO_PADDING[_rank(rank)](padding, **kwargs)


def padded_conv(
    rank, filters, kernel_size, strides=1, padding=0, name="conv", **kwargs
):
    """Returns the layers of a convolution with explicit zero padding P.

    Args:
        rank: Number of spatial axes: 1, 2 or 3.
        filters: Number of filters.
        kernel_size: Window size F.
        strides: Step S. Defaults to `1`.
        padding: Zeros P per side (an int), or `"same"` / `"valid"`.
            Defaults to `0`.
        name: Name of the convolution layer; the padding layer gets
            `<name>_pad`. Defaults to `"conv"`.
        **kwargs: Other convolution arguments (`activation`, ...).

    Returns:
        A list of one or two layers: `[ZeroPadding, Conv]` or `[Conv]`.

    Example:

    ```python
    model = keras.Sequential([keras.Input((32, 3)), *padded_conv(1, 8, 5, 2, 2)])
    model.output_shape  # (None, 15, 8): (32 - 5 + 4) // 2 + 1
    ```
    """
    kwargs["name"] = name
    if isinstance(padding, str):
        return [conv_layer(rank, filters, kernel_size, strides, padding, **kwargs)]
    if padding < 0:
        raise ValueError(f"padding must be >= 0. Received: padding={padding}")
    layers = [zero_padding_layer(rank, padding, name=f"{name}_pad")] if padding else []
    layers.append(conv_layer(rank, filters, kernel_size, strides, **kwargs))
    return layers
