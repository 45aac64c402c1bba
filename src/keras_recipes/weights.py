"""Pretrained `keras.applications` backbones, with a clear line when offline."""

import difflib
import os
import re
from pathlib import Path

import keras

from keras_recipes.errors import ConfigError, DataError, UserError

# Backbone name -> the keras.applications module holding its preprocess_input.
_MODULES = {
    "VGG16": "vgg16",
    "VGG19": "vgg19",
    "ResNet50": "resnet",
    "ResNet101": "resnet",
    "ResNet152": "resnet",
    "ResNet50V2": "resnet_v2",
    "MobileNet": "mobilenet",
    "MobileNetV2": "mobilenet_v2",
    "MobileNetV3Small": "mobilenet_v3",
    "MobileNetV3Large": "mobilenet_v3",
    "EfficientNetB0": "efficientnet",
    "EfficientNetV2B0": "efficientnet_v2",
    "DenseNet121": "densenet",
    "InceptionV3": "inception_v3",
    "Xception": "xception",
    "ConvNeXtTiny": "convnext",
}


def application_names():
    """Returns the `keras.applications` model names this package knows.

    Returns:
        A sorted list of names such as `"VGG16"`.

    Example:

    ```python
    "VGG19" in application_names()  # True
    ```
    """
    return sorted(_MODULES)


def _canonical(name):
    for known in _MODULES:
        if known.lower() == str(name).lower():
            return known
    lowered = {known.lower(): known for known in _MODULES}
    match = difflib.get_close_matches(str(name).lower(), list(lowered), n=1, cutoff=0.5)
    hint = f"; did you mean '{lowered[match[0]]}'?" if match else ""
    raise ConfigError(
        f"unknown backbone '{name}'{hint} (known: {', '.join(application_names())})"
    )


def keras_cache_dir():
    """Returns the folder where Keras keeps downloaded weight files.

    Returns:
        A `Path`, `$KERAS_HOME/models` or `~/.keras/models`.

    Example:

    ```python
    keras_cache_dir()  # PosixPath('/home/me/.keras/models')
    ```
    """
    home = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    return Path(home) / "models"


def build_application(
    name, weights="imagenet", input_shape=None, weights_key=None, **kwargs
):
    """Builds a `keras.applications` backbone, local weights or ImageNet ones.

    ImageNet weights are fetched by Keras on first use and need the internet.
    When that fails, this raises a `UserError` with one line that names the
    file Keras wanted and the folder to put it in.

    Args:
        name: The application, e.g. `"VGG16"` (case does not matter).
        weights: `"imagenet"`, `None` for random initialisation, or the path
            of a local weights file (`.h5` / `.weights.h5`) for the same
            architecture. Defaults to `"imagenet"`.
        input_shape: Input shape without the batch axis. Defaults to `None`.
        weights_key: The config key that set `weights`, named in the offline
            message (e.g. `"base.weights"`). Defaults to `None`.
        **kwargs: Passed to the application (`include_top`, `pooling`, ...).

    Returns:
        The `keras.Model`.

    Example:

    ```python
    base = build_application("VGG16", weights=None, include_top=False,
                             input_shape=(64, 64, 3))
    ```
    """
    name = _canonical(name)
    builder = getattr(keras.applications, name)
    local = None
    if weights not in (None, "imagenet"):
        local = Path(weights).expanduser()
        if not local.is_file():
            raise DataError(
                f"weights file not found: {local} (give a local file, "
                f"'imagenet' to download, or null for random weights)"
            )
        weights = None
    try:
        model = builder(weights=weights, input_shape=input_shape, **kwargs)
    except Exception as error:
        message = str(error)
        if "URL fetch failure" not in message and "HTTP" not in message:
            raise
        url = re.search(r"https?://\S+?(?=:|\s|$)", message)
        filename = url.group(0).rsplit("/", 1)[-1] if url else f"{name} weights"
        raise UserError(
            f"cannot download the ImageNet weights of {name} (no internet): put "
            f"{filename} in {keras_cache_dir()}/, or set {weights_key or 'the weights'}"
            f" to a local file, or to null for random weights"
        ) from None
    if local is not None:
        try:
            model.load_weights(local)
        except (ValueError, OSError) as error:
            raise DataError(
                f"cannot load weights {local} into {name}: {str(error)[:200]}"
            ) from None
    return model


def preprocess_input(name):
    """Returns the `preprocess_input` function that goes with a backbone.

    Args:
        name: The application, e.g. `"VGG16"`.

    Returns:
        A function mapping [0, 255] RGB images to the backbone's input range.

    Example:

    ```python
    x = preprocess_input("VGG16")(images)
    ```
    """
    module = getattr(keras.applications, _MODULES[_canonical(name)])
    return module.preprocess_input
