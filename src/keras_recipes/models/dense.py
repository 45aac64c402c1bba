"""Fully connected networks: linear and logistic regression, shallow and deep MLPs."""

import math

import keras

INITIALIZERS = ("he_normal", "glorot_uniform", "truncated_normal", "uniform_fan_in")


def build_initializer(name, seed=None):
    """Returns the Keras weight initializer called `name`.

    `"he_normal"` draws from N(0, 2/n) and suits ReLU layers; `"glorot_uniform"`
    (the Keras default) balances fan-in and fan-out for tanh and sigmoid;
    `"truncated_normal"` draws from N(0, 0.1^2) cut at two standard deviations,
    the choice of the early TensorFlow tutorials; `"uniform_fan_in"` draws
    from U(-1/sqrt(n), 1/sqrt(n)), the classic heuristic. `n` is a unit's
    number of inputs (fan-in).

    Args:
        name: One of `INITIALIZERS`.
        seed: Seed of the draws, or `None`. Defaults to `None`.

    Returns:
        A `keras.initializers.Initializer`.

    Example:

    ```python
    layer = keras.layers.Dense(64, kernel_initializer=build_initializer("he_normal"))
    ```

    Reference:
        https://arxiv.org/abs/1502.01852 (He),
        https://proceedings.mlr.press/v9/glorot10a.html (Glorot)
    """
    if name == "he_normal":
        return keras.initializers.HeNormal(seed=seed)
    if name == "glorot_uniform":
        return keras.initializers.GlorotUniform(seed=seed)
    if name == "truncated_normal":
        return keras.initializers.TruncatedNormal(stddev=0.1, seed=seed)
    if name == "uniform_fan_in":
        # VarianceScaling's uniform limit is sqrt(3 * scale / n): 1/sqrt(n) here.
        return keras.initializers.VarianceScaling(
            scale=1.0 / 3.0, mode="fan_in", distribution="uniform", seed=seed
        )
    raise ValueError(
        f"kernel_initializer must be one of {INITIALIZERS}. "
        f"Received: kernel_initializer={name!r}"
    )


def dense_network(
    input_dim,
    output_units,
    hidden_units=(),
    activation="relu",
    output_activation=None,
    kernel_initializer="glorot_uniform",
    l1=0.0,
    l2=0.0,
    dropout=0.0,
    seed=None,
    name="dense_network",
):
    """Builds INPUT -> [DENSE -> ACTIVATION -> DROPOUT]*H -> DENSE.

    Every other factory of this module is this one with other defaults.

    Args:
        input_dim: Number of input features.
        output_units: Units of the output layer.
        hidden_units: Units of each hidden layer; empty for a linear model.
            Defaults to `()`.
        activation: Activation of the hidden layers. Defaults to `"relu"`.
        output_activation: Activation of the output layer, or `None` for raw
            scores. Defaults to `None`.
        kernel_initializer: One of `INITIALIZERS`, for every layer.
            Defaults to `"glorot_uniform"`.
        l1: L1 penalty on every kernel (sum of absolute weights times `l1`).
            Defaults to `0.0`.
        l2: L2 penalty on every kernel (sum of squared weights times `l2`).
            Defaults to `0.0`.
        dropout: Dropout rate after each hidden layer, in [0, 1).
            Defaults to `0.0`.
        seed: Seed of the initial weights and of dropout, or `None`.
            Defaults to `None`.
        name: Model name. Defaults to `"dense_network"`.

    Returns:
        An uncompiled `keras.Sequential`.

    Example:

    ```python
    model = dense_network(64, 10, hidden_units=(128,), output_activation="softmax")
    ```
    """
    if input_dim < 1 or output_units < 1:
        raise ValueError(
            f"input_dim and output_units must be positive. Received: "
            f"input_dim={input_dim}, output_units={output_units}"
        )
    if any(units < 1 for units in hidden_units):
        raise ValueError(
            f"hidden_units must be positive. Received: hidden_units={hidden_units}"
        )
    if l1 < 0 or l2 < 0:
        raise ValueError(f"l1 and l2 must be >= 0. Received: l1={l1}, l2={l2}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1). Received: dropout={dropout}")

    def dense(units, activation, layer_name, index):
        return keras.layers.Dense(
            units,
            activation=activation,
            kernel_initializer=build_initializer(
                kernel_initializer, None if seed is None else seed + index
            ),
            kernel_regularizer=keras.regularizers.L1L2(l1, l2) if l1 or l2 else None,
            name=layer_name,
        )

    layers = [keras.Input(shape=(input_dim,), name="features")]
    for index, units in enumerate(hidden_units, start=1):
        layers.append(dense(units, activation, f"hidden_{index}", index))
        if dropout:
            layers.append(
                keras.layers.Dropout(dropout, seed=seed, name=f"dropout_{index}")
            )
    layers.append(dense(output_units, output_activation, "output", 0))
    return keras.Sequential(layers, name=name)


def linear_regression(input_dim, outputs=1, **kwargs):
    """Builds a linear regression model, y = x W + b.

    Args:
        input_dim: Number of input features.
        outputs: Number of targets. Defaults to `1`.
        **kwargs: Other `dense_network` arguments (`l1`, `l2`,
            `kernel_initializer`, `seed`, `name`).

    Returns:
        An uncompiled `keras.Sequential`; train it with a squared-error loss.

    Example:

    ```python
    model = linear_regression(10)
    model.compile("sgd", "mse")
    ```
    """
    kwargs.setdefault("name", "linear_regression")
    return dense_network(input_dim, outputs, hidden_units=(), **kwargs)


def logistic_regression(input_dim, num_classes, **kwargs):
    """Builds multinomial logistic (softmax) regression, p = softmax(x W + b).

    Args:
        input_dim: Number of input features.
        num_classes: Number of classes.
        **kwargs: Other `dense_network` arguments (`l1`, `l2`,
            `kernel_initializer`, `seed`, `name`).

    Returns:
        An uncompiled `keras.Sequential` with softmax outputs.

    Example:

    ```python
    model = logistic_regression(64, 10, l2=1e-4)
    ```
    """
    kwargs.setdefault("name", "logistic_regression")
    return dense_network(
        input_dim, num_classes, hidden_units=(), output_activation="softmax", **kwargs
    )


def mlp(input_dim, num_classes, hidden_units=(128,), **kwargs):
    """Builds a multilayer perceptron classifier with softmax outputs.

    Args:
        input_dim: Number of input features.
        num_classes: Number of classes.
        hidden_units: Units of each hidden layer. Defaults to `(128,)`.
        **kwargs: Other `dense_network` arguments (`activation`, `dropout`,
            `l1`, `l2`, `kernel_initializer`, `seed`, `name`).

    Returns:
        An uncompiled `keras.Sequential`.

    Example:

    ```python
    model = mlp(64, 10, hidden_units=(256,), dropout=0.2)
    ```
    """
    kwargs.setdefault("name", "mlp")
    return dense_network(
        input_dim,
        num_classes,
        hidden_units=hidden_units,
        output_activation="softmax",
        **kwargs,
    )


def deep_mlp(input_dim, num_classes, hidden_units=(256, 256, 128, 128, 64), **kwargs):
    """Builds a deep multilayer perceptron classifier (He-initialised by default).

    With five or more ReLU layers the initialisation matters: He normal keeps
    the activations' scale from layer to layer where a too-small draw lets
    it shrink towards zero.

    Args:
        input_dim: Number of input features.
        num_classes: Number of classes.
        hidden_units: Units of each hidden layer.
            Defaults to `(256, 256, 128, 128, 64)`.
        **kwargs: Other `dense_network` arguments; `kernel_initializer`
            defaults to `"he_normal"` here.

    Returns:
        An uncompiled `keras.Sequential`.

    Example:

    ```python
    model = deep_mlp(64, 10, dropout=0.3)
    ```
    """
    kwargs.setdefault("name", "deep_mlp")
    kwargs.setdefault("kernel_initializer", "he_normal")
    return mlp(input_dim, num_classes, hidden_units=hidden_units, **kwargs)


def fan_in_limit(fan_in):
    """Returns 1/sqrt(n), the bound of the `"uniform_fan_in"` initializer.

    Args:
        fan_in: A unit's number of inputs.

    Returns:
        The float bound.

    Example:

    ```python
    fan_in_limit(64)  # 0.125
    ```
    """
    return 1.0 / math.sqrt(fan_in)
