"""Serving models: a trained model behind the preprocessing it was trained with.

An exported file should take what a user has (image pixels in [0, 255], raw
table rows) and give what the recipe reports, so nothing of this package is
needed beside it. These wrappers put the recipe's preprocessing (and, for a
regression, the target's scaling back) into the graph with Keras layers.
"""

import keras
import numpy as np
from keras import ops


def rescaled_model(model, scale=1.0 / 255, input_shape=None, name=None):
    """Wraps a model that takes scaled inputs so that it takes raw ones.

    Args:
        model: A `keras.Model` whose inputs are the raw ones times `scale`
            (e.g. pixels in [0, 1]).
        scale: The factor the recipe applies. Defaults to `1 / 255`.
        input_shape: Shape of one raw input. Defaults to `None`: the
            model's input shape.
        name: Name of the wrapper. Defaults to `None`: `<model>_serving`.

    Returns:
        A functional `keras.Model` from raw inputs to `model`'s outputs.

    Example:

    ```python
    served = rescaled_model(autoencoder)  # pixels in [0, 255] go in
    ```
    """
    shape = tuple(input_shape or model.input_shape[1:])
    raw = keras.Input(shape, name="images")
    scaled = keras.layers.Rescaling(scale, name="rescale")(raw)
    return keras.Model(raw, model(scaled), name=name or f"{model.name}_serving")


def standardized_model(
    model,
    mean,
    std,
    input_shape=None,
    target_mean=None,
    target_std=None,
    name=None,
):
    """Wraps a model of standardised features so that it takes raw rows.

    The raw input (of any shape with as many values as the model's input)
    is flattened, standardised as `(x - mean) / std` and fed to `model`;
    with `target_mean` and `target_std` a regression's output is scaled
    back to the target's units as `y * target_std + target_mean`.

    Args:
        model: A `keras.Model` of standardised feature rows.
        mean: Per-feature means of the raw values, shape `[features]` or a
            scalar.
        std: Per-feature standard deviations, same shape, all above 0.
        input_shape: Shape of one raw input, e.g. `(8, 8, 1)` for an image
            read as 64 features. Defaults to `None`: the model's.
        target_mean: Mean of a numeric target. Defaults to `None`.
        target_std: Standard deviation of that target. Defaults to `None`.
        name: Name of the wrapper. Defaults to `None`: `<model>_serving`.

    Returns:
        A functional `keras.Model` from raw inputs to `model`'s outputs.

    Example:

    ```python
    served = standardized_model(model, scaling["x_mean"], scaling["x_std"])
    ```
    """
    features = model.input_shape[1:]
    shape = tuple(input_shape or features)
    mean = np.broadcast_to(np.asarray(mean, "float32"), features)
    std = np.broadcast_to(np.asarray(std, "float32"), features)
    if np.any(std <= 0):
        raise ValueError("`std` must be positive everywhere.")
    raw = keras.Input(shape, name="features" if shape == features else "images")
    x = raw if shape == features else keras.layers.Reshape(features)(raw)
    # (x - mean) / std as x * (1 / std) - mean / std: Keras's Normalization
    # keeps its statistics in a form tf2onnx reads as missing inputs.
    x = keras.layers.Rescaling(1.0 / std, offset=-mean / std, name="standardize")(x)
    outputs = model(x)
    if target_mean is not None or target_std is not None:
        outputs = keras.layers.Rescaling(
            float(1.0 if target_std is None else target_std),
            offset=float(0.0 if target_mean is None else target_mean),
            name="target_units",
        )(outputs)
    return keras.Model(raw, outputs, name=name or f"{model.name}_serving")


def per_image_mse(reconstruction, images):
    """Returns each image's mean squared reconstruction error, as a Keras op.

    Args:
        reconstruction: Tensor `[N, ...]`.
        images: Tensor of the same shape.

    Returns:
        A tensor `[N]`.

    Example:

    ```python
    error = per_image_mse(autoencoder(scaled), scaled)
    ```
    """
    squared = ops.square(ops.subtract(reconstruction, images))
    return ops.mean(squared, axis=tuple(range(1, len(squared.shape))))


def reconstruction_model(model, scale=1.0 / 255, encoder=None, decoder=None, name=None):
    """Wraps an autoencoder for raw images: reconstruction, its error, the code.

    Images go in with pixels in [0, 255]; they are scaled by `scale` as the
    autoencoder was trained. Out come `reconstruction` (as the autoencoder
    gives it, in the scaled units), `reconstruction_mse` (each image's mean
    squared error against its scaled pixels: an anomaly score) and, given
    `encoder` and `decoder`, `code` (the encoder's first output, from which
    the reconstruction is decoded).

    Args:
        model: The autoencoder, from scaled images to reconstructions.
        scale: The factor from raw to scaled pixels. Defaults to `1 / 255`.
        encoder: Optional encoder model; its first output is the code.
            Defaults to `None`.
        decoder: The decoder of that code, with `encoder`. Defaults to
            `None`.
        name: Name of the wrapper. Defaults to `None`: `<model>_serving`.

    Returns:
        A functional `keras.Model` from raw images to a dict of outputs.

    Example:

    ```python
    served = reconstruction_model(vae, encoder=vae.encoder, decoder=vae.decoder)
    ```
    """
    source = encoder if encoder is not None else model
    raw = keras.Input(tuple(source.input_shape[1:]), name="images")
    scaled = keras.layers.Rescaling(scale, name="rescale")(raw)
    outputs = {}
    if encoder is not None and decoder is not None:
        codes = encoder(scaled)
        code = codes[0] if isinstance(codes, (list, tuple)) else codes
        reconstruction = decoder(code)
        outputs["code"] = code
    else:
        reconstruction = model(scaled)
    outputs["reconstruction"] = reconstruction
    outputs["reconstruction_mse"] = per_image_mse(reconstruction, scaled)
    return keras.Model(raw, outputs, name=name or f"{model.name}_serving")


RECURRENT_LAYERS = ("SimpleRNN", "GRU", "LSTM")


def unrolled_model(model, sequence_length, name=None):
    """Returns a copy of a recurrent model unrolled over a fixed length.

    The copy has the same weights and outputs on sequences of
    `sequence_length`; its recurrent layers are written out step by step
    (`unroll=True`), plain matrix products that LiteRT's builtin ops hold,
    where a free length needs TensorFlow's list ops.

    Args:
        model: A `keras.Sequential` or functional model whose input is
            `(batch, time)` or `(batch, time, features)`.
        sequence_length: The fixed number of time steps.
        name: Name of the copy. Defaults to `None`: `<model>_serving`.

    Returns:
        The unrolled `keras.Model`.

    Example:

    ```python
    served = unrolled_model(char_model, 100)  # ids [N, 100] in
    ```
    """
    config = model.get_config()
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer":
            shape = list(layer["config"]["batch_shape"])
            layer["config"]["batch_shape"] = [
                shape[0],
                int(sequence_length),
                *shape[2:],
            ]
        elif layer["class_name"] in RECURRENT_LAYERS:
            layer["config"]["unroll"] = True
    config["name"] = name or f"{model.name}_serving"
    copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    return copy
