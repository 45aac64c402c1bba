"""Autoencoder factories: dense, linear, deep, sparse and convolutional.

Every factory returns an uncompiled `keras.Model` made of two nested functional
sub-models, `"encoder"` (whose last layer is named `"code"`) and `"decoder"`, so
codes can be extracted with `encoder_of(model)` and decoded with
`decoder_of(model)`. Inputs are images scaled to `[0, 1]`; the default sigmoid
output keeps reconstructions in the same range.

Reference:
    - [Building Autoencoders in Keras](
        https://blog.keras.io/building-autoencoders-in-keras.html)
"""

import math
import numbers

import keras
from keras import layers


def dense_autoencoder(
    input_shape=(8, 8, 1),
    code_size=32,
    linear=False,
    activity_l1=0.0,
    output_activation=None,
    name="dense_autoencoder",
):
    """Builds an autoencoder with a single fully connected code layer.

    The image is flattened, mapped to a `code_size`-unit `"code"` layer and mapped
    back to the image shape. With `linear=True` the encoder and decoder are affine
    maps (linear activations, biases kept), so a model trained with mean squared
    error spans the same subspace as PCA with `code_size` components.

    Args:
        input_shape: Shape of one image, pixels scaled to `[0, 1]`.
            Defaults to `(8, 8, 1)`.
        code_size: Number of units in the code layer. Defaults to `32`.
        linear: Whether the code and output layers have no non-linearity.
            Defaults to `False`.
        activity_l1: L1 activity penalty on the code; Keras adds
            `activity_l1 * sum(abs(code)) / batch_size` to `model.losses`.
            Defaults to `0.0` (no penalty).
        output_activation: Activation of the reconstruction. `None` means
            `"sigmoid"`, or `"linear"` when `linear=True`. Defaults to `None`.
        name: Name of the returned model. Defaults to `"dense_autoencoder"`.

    Returns:
        An uncompiled `keras.Model` mapping images to reconstructions of the
        same shape, with sub-models `"encoder"` and `"decoder"`.

    Example:

    >>> model = dense_autoencoder(input_shape=(8, 8, 1), code_size=16)
    >>> model.compile(optimizer="adam", loss="binary_crossentropy")
    >>> encoder_of(model).output_shape
    (None, 16)

    Reference:
        - [Building Autoencoders in Keras](
            https://blog.keras.io/building-autoencoders-in-keras.html)
    """
    input_shape = _check_shape(input_shape, "input_shape")
    code_size = _check_positive_int(code_size, "code_size")
    _check_activity_l1(activity_l1)
    if output_activation is None:
        output_activation = "linear" if linear else "sigmoid"
    elif linear and output_activation != "linear":
        raise ValueError(
            "A linear autoencoder needs a linear output. "
            f"Received: linear={linear}, output_activation={output_activation}"
        )
    code_activation = "linear" if linear else "relu"
    regularizer = keras.regularizers.L1(activity_l1) if activity_l1 else None

    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Flatten(name="flatten")(inputs)
    code = layers.Dense(
        code_size,
        activation=code_activation,
        activity_regularizer=regularizer,
        name="code",
    )(x)
    encoder = keras.Model(inputs, code, name="encoder")
    decoder = _dense_decoder(code_size, (), input_shape, "relu", output_activation)
    return _chain(encoder, decoder, name)


def sparse_autoencoder(
    input_shape=(8, 8, 1),
    code_size=32,
    activity_l1=1e-5,
    output_activation="sigmoid",
    name="sparse_autoencoder",
):
    """Builds a dense autoencoder whose code carries an L1 activity penalty.

    The penalty pushes most code units to zero for any one image, so each image
    is described by a few active units. Keras adds
    `activity_l1 * sum(abs(code)) / batch_size` to `model.losses`, and `fit()`
    adds that to the reconstruction loss.

    Args:
        input_shape: Shape of one image, pixels scaled to `[0, 1]`.
            Defaults to `(8, 8, 1)`.
        code_size: Number of units in the code layer. Defaults to `32`.
        activity_l1: Strength of the L1 penalty, greater than zero.
            Defaults to `1e-5`.
        output_activation: Activation of the reconstruction.
            Defaults to `"sigmoid"`.
        name: Name of the returned model. Defaults to `"sparse_autoencoder"`.

    Returns:
        An uncompiled `keras.Model` with sub-models `"encoder"` and `"decoder"`.

    Example:

    >>> model = sparse_autoencoder(code_size=16, activity_l1=1e-4)
    >>> model.compile(optimizer="adam", loss="binary_crossentropy")

    Reference:
        - [Building Autoencoders in Keras](
            https://blog.keras.io/building-autoencoders-in-keras.html)
    """
    if isinstance(activity_l1, bool) or not (
        isinstance(activity_l1, numbers.Real) and activity_l1 > 0
    ):
        raise ValueError(
            "`activity_l1` must be a number greater than zero for a sparse "
            f"autoencoder. Received: activity_l1={activity_l1}"
        )
    return dense_autoencoder(
        input_shape=input_shape,
        code_size=code_size,
        activity_l1=activity_l1,
        output_activation=output_activation,
        name=name,
    )


def deep_autoencoder(
    input_shape=(8, 8, 1),
    hidden_units=(128, 64),
    code_size=32,
    activation="relu",
    output_activation="sigmoid",
    name="deep_autoencoder",
):
    """Builds a stacked fully connected autoencoder with a mirrored decoder.

    The defaults give the 128-64-32 encoder of the Keras blog post; the decoder
    runs through the same widths in reverse (64-128) before the output layer.

    Args:
        input_shape: Shape of one image, pixels scaled to `[0, 1]`.
            Defaults to `(8, 8, 1)`.
        hidden_units: Widths of the encoder's hidden layers, outermost first.
            Defaults to `(128, 64)`.
        code_size: Number of units in the code layer. Defaults to `32`.
        activation: Activation of the hidden and code layers.
            Defaults to `"relu"`.
        output_activation: Activation of the reconstruction.
            Defaults to `"sigmoid"`.
        name: Name of the returned model. Defaults to `"deep_autoencoder"`.

    Returns:
        An uncompiled `keras.Model` with sub-models `"encoder"` and `"decoder"`.

    Example:

    >>> model = deep_autoencoder(hidden_units=(32, 16), code_size=8)
    >>> [layer.units for layer in encoder_of(model).layers[2:]]
    [32, 16, 8]

    Reference:
        - [Building Autoencoders in Keras](
            https://blog.keras.io/building-autoencoders-in-keras.html)
    """
    input_shape = _check_shape(input_shape, "input_shape")
    hidden_units = _check_positive_ints(hidden_units, "hidden_units")
    code_size = _check_positive_int(code_size, "code_size")

    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Flatten(name="flatten")(inputs)
    for index, units in enumerate(hidden_units, start=1):
        x = layers.Dense(units, activation=activation, name=f"encoder_dense_{index}")(x)
    code = layers.Dense(code_size, activation=activation, name="code")(x)
    encoder = keras.Model(inputs, code, name="encoder")
    decoder = _dense_decoder(
        code_size, hidden_units[::-1], input_shape, activation, output_activation
    )
    return _chain(encoder, decoder, name)


def conv_autoencoder(
    input_shape=(8, 8, 1),
    filters=(16, 8),
    code_size=None,
    activation="relu",
    output_activation="sigmoid",
    name="conv_autoencoder",
):
    """Builds a convolutional autoencoder: Conv/MaxPool down, UpSampling/Conv up.

    Each entry of `filters` adds one 3x3 convolution followed by 2x2 max pooling
    to the encoder; the decoder mirrors it with a 3x3 convolution and 2x2
    upsampling per entry, then a 3x3 convolution back to the input's channels.
    When the height or width is not divisible by `2 ** len(filters)` the image is
    zero-padded on the bottom and right before the encoder and the decoder crops
    the padding away, so the output always has the input's shape (28x28 with
    three stages runs at 32x32 inside).

    With `code_size`, the pooled feature map is flattened into a fully
    connected `"code"` layer of that many units, and the decoder maps the code
    back to the feature map with a fully connected layer first. That fixes the
    code size independently of the image size, for example to compare with
    PCA at the same number of components.

    Args:
        input_shape: Shape `(height, width, channels)` of one image, pixels
            scaled to `[0, 1]`. Defaults to `(8, 8, 1)`.
        filters: Number of filters of each encoder stage, outermost first; the
            code is the last stage's pooled feature map. Defaults to `(16, 8)`.
        code_size: Number of units of a fully connected code after the
            convolutions, or `None` to use the pooled feature map as the code.
            Defaults to `None`.
        activation: Activation of the hidden convolutions.
            Defaults to `"relu"`.
        output_activation: Activation of the reconstruction.
            Defaults to `"sigmoid"`.
        name: Name of the returned model. Defaults to `"conv_autoencoder"`.

    Returns:
        An uncompiled `keras.Model` with sub-models `"encoder"` and `"decoder"`;
        the code has shape `(ceil(height / 2**n), ceil(width / 2**n),
        filters[-1])` with `n = len(filters)`, or `(code_size,)`.

    Example:

    >>> model = conv_autoencoder(input_shape=(28, 28, 1), filters=(16, 8, 8))
    >>> model.output_shape, encoder_of(model).output_shape
    ((None, 28, 28, 1), (None, 4, 4, 8))
    >>> encoder_of(conv_autoencoder(filters=(16, 8), code_size=8)).output_shape
    (None, 8)

    Reference:
        - [Building Autoencoders in Keras](
            https://blog.keras.io/building-autoencoders-in-keras.html)
    """
    input_shape = _check_shape(input_shape, "input_shape")
    if len(input_shape) != 3:
        raise ValueError(
            "`input_shape` must be (height, width, channels) for a convolutional "
            f"autoencoder. Received: input_shape={input_shape}"
        )
    filters = _check_positive_ints(filters, "filters")
    if code_size is not None:
        code_size = _check_positive_int(code_size, "code_size")
    height, width, channels = input_shape
    factor = 2 ** len(filters)
    pad_height = -height % factor
    pad_width = -width % factor
    padding = ((0, pad_height), (0, pad_width))

    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    if pad_height or pad_width:
        x = layers.ZeroPadding2D(padding, name="pad")(x)
    for index, count in enumerate(filters, start=1):
        x = layers.Conv2D(
            count,
            3,
            padding="same",
            activation=activation,
            name=f"encoder_conv_{index}",
        )(x)
        last = index == len(filters) and code_size is None
        pool_name = "code" if last else f"encoder_pool_{index}"
        x = layers.MaxPooling2D(2, name=pool_name)(x)
    feature_shape = tuple(x.shape[1:])
    if code_size is not None:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(code_size, activation=activation, name="code")(x)
    encoder = keras.Model(inputs, x, name="encoder")

    codes = keras.Input(shape=encoder.output_shape[1:], name="code")
    x = codes
    if code_size is not None:
        x = layers.Dense(
            math.prod(feature_shape), activation=activation, name="decoder_dense"
        )(x)
        x = layers.Reshape(feature_shape, name="decoder_reshape")(x)
    for index, count in enumerate(filters[::-1], start=1):
        x = layers.Conv2D(
            count,
            3,
            padding="same",
            activation=activation,
            name=f"decoder_conv_{index}",
        )(x)
        x = layers.UpSampling2D(2, name=f"decoder_upsample_{index}")(x)
    if pad_height or pad_width:
        x = layers.Cropping2D(padding, name="crop")(x)
    outputs = layers.Conv2D(
        channels,
        3,
        padding="same",
        activation=output_activation,
        name="reconstruction",
    )(x)
    decoder = keras.Model(codes, outputs, name="decoder")
    return _chain(encoder, decoder, name)


def encoder_of(model):
    """Returns the encoder sub-model of an autoencoder from this module.

    Args:
        model: A model built by one of this module's factories (or any model with
            a sub-model named `"encoder"`). No default.

    Returns:
        The `keras.Model` mapping images to codes; it shares weights with
        `model`, so `encoder_of(model).predict(images)` gives trained codes.

    Example:

    >>> model = dense_autoencoder(code_size=8)
    >>> encoder_of(model).output_shape
    (None, 8)

    Reference:
        - [Building Autoencoders in Keras](
            https://blog.keras.io/building-autoencoders-in-keras.html)
    """
    return _sub_model(model, "encoder")


def decoder_of(model):
    """Returns the decoder sub-model of an autoencoder from this module.

    Args:
        model: A model built by one of this module's factories (or any model with
            a sub-model named `"decoder"`). No default.

    Returns:
        The `keras.Model` mapping codes to images; it shares weights with `model`.

    Example:

    >>> model = dense_autoencoder(code_size=8)
    >>> decoder_of(model).output_shape
    (None, 8, 8, 1)

    Reference:
        - [Building Autoencoders in Keras](
            https://blog.keras.io/building-autoencoders-in-keras.html)
    """
    return _sub_model(model, "decoder")


def _dense_decoder(code_size, hidden_units, output_shape, activation, out_activation):
    codes = keras.Input(shape=(code_size,), name="code")
    x = codes
    for index, units in enumerate(hidden_units, start=1):
        x = layers.Dense(units, activation=activation, name=f"decoder_dense_{index}")(x)
    x = layers.Dense(
        math.prod(output_shape), activation=out_activation, name="decoder_output"
    )(x)
    outputs = layers.Reshape(output_shape, name="reconstruction")(x)
    return keras.Model(codes, outputs, name="decoder")


def _chain(encoder, decoder, name):
    inputs = keras.Input(shape=encoder.input_shape[1:], name="image")
    return keras.Model(inputs, decoder(encoder(inputs)), name=name)


def _sub_model(model, name):
    if not isinstance(model, keras.Model):
        raise ValueError(
            f"Expected a keras.Model with a `{name}` sub-model. Received: model={model}"
        )
    for layer in model.layers:
        if layer.name == name and isinstance(layer, keras.Model):
            return layer
    raise ValueError(
        f"The model has no sub-model named `{name}`. Received: model={model.name}"
    )


def _check_positive_int(value, argument):
    if not _is_positive_int(value):
        raise ValueError(
            f"`{argument}` must be a positive integer. Received: {argument}={value}"
        )
    return int(value)


def _check_positive_ints(values, argument, example="(16, 8)", allow_empty=False):
    try:
        checked = tuple(values)
    except TypeError:
        checked = None
    valid = checked is not None and (checked or allow_empty)
    if not valid or not all(_is_positive_int(value) for value in checked):
        size = "" if allow_empty else "non-empty "
        raise ValueError(
            f"`{argument}` must be a {size}tuple of positive integers such as "
            f"{example}. Received: {argument}={values}"
        )
    return tuple(int(value) for value in checked)


def _check_shape(shape, argument):
    return _check_positive_ints(shape, argument, example="(8, 8, 1)")


def _is_positive_int(value):
    return (
        isinstance(value, numbers.Integral)
        and not isinstance(value, bool)
        and value > 0
    )


def _check_activity_l1(activity_l1):
    if isinstance(activity_l1, bool) or not (
        isinstance(activity_l1, numbers.Real) and activity_l1 >= 0
    ):
        raise ValueError(
            "`activity_l1` must be a number greater than or equal to zero. "
            f"Received: activity_l1={activity_l1}"
        )
