"""The pretrained base of the transfer recipes: built, cut, and identified.

`build_frozen_base` makes the base a config names (a `keras.applications`
model or a model file), cut where the approach or `base.cut_layer` says,
with its preprocessing and the key that identifies the features it gives.
"""

import dataclasses
from pathlib import Path

import keras
import numpy as np

from keras_recipes.data.feature_cache import array_fingerprint, weights_fingerprint
from keras_recipes.errors import ConfigError, DataError
from keras_recipes.models.transfer import application_preprocessing, cut_base
from keras_recipes.models.transfer_approaches import APPROACHES, approach_cut_layer
from keras_recipes.recipes.vgg16_bottleneck.config import (
    APPLICATION_NAMES,
    channels_of,
    is_model_file,
)
from keras_recipes.weights import build_application


@dataclasses.dataclass
class FrozenBase:
    """A cut pretrained base, frozen, and what identifies its features.

    Attributes:
        base: The cut base model, from preprocessed images to feature maps.
        preprocessing_name: The application whose `preprocess_input` comes
            first, or `"none"`.
        extractor: The model from raw images to features: preprocessing,
            then `base` in inference mode.
        cut_layer: The last layer kept, or `None` for the whole base.
        key: What the features depend on (base, weights, cut, input shape,
            preprocessing, dtype policy), the stem of every cache key.

    Example:

    ```python
    frozen = build_frozen_base(config)
    features = frozen.extractor.predict(images)
    ```
    """

    base: keras.Model
    preprocessing_name: str
    extractor: keras.Model
    cut_layer: str | None
    key: dict

    @property
    def feature_shape(self):
        """The shape of one image's features, without the batch axis."""
        return tuple(self.base.output.shape[1:])


def build_frozen_base(config, dtype_policy="float32"):
    """Builds the configured base, cut and frozen, with its feature extractor.

    A missing ImageNet download or a wrong base file stops here, before any
    image is read.

    Args:
        config: A `VGG16BottleneckConfig` (or a config with the same `base`,
            `data` and `approach` settings).
        dtype_policy: The run's dtype policy, part of the cache key.
            Defaults to `"float32"`.

    Returns:
        A `FrozenBase`.

    Example:

    ```python
    frozen = build_frozen_base(load_config("vgg16_bottleneck"))
    frozen.feature_shape  # (4, 4, 512)
    ```
    """
    base_config, data_config = config.base, config.data
    size, channels = tuple(data_config.image_size), channels_of(data_config)
    if is_model_file(base_config.name):
        whole = _load_model_file(base_config, size, channels)
    else:
        whole = _build_application(base_config, size, channels)
    try:
        cut_layer = approach_cut_layer(config.approach, whole, base_config.cut_layer)
        base = cut_base(whole, cut_layer)
    except ValueError as error:
        raise ConfigError(f"base.cut_layer: {error}") from None
    base.trainable = False
    preprocessing_name = resolve_preprocessing(base_config)
    inputs = keras.Input((*size, channels), name="image")
    preprocessing = make_preprocessing(preprocessing_name)
    x = preprocessing(inputs) if preprocessing is not None else inputs
    extractor = keras.Model(inputs, base(x, training=False), name="extractor")
    key = {
        "base": _base_identity(base_config),
        "weights": _weights_identity(base_config, base),
        "cut_layer": cut_layer,
        "input_shape": [*size, channels],
        "preprocessing": preprocessing_name,
        # bfloat16 features differ from float32 ones in the third digit.
        "dtype_policy": dtype_policy,
    }
    advice = APPROACHES[config.approach].advice
    print(
        f"approach {config.approach}: {advice}; base cut after "
        f"{cut_layer or 'its last layer'}",
        flush=True,
    )
    return FrozenBase(base, preprocessing_name, extractor, cut_layer, key)


def make_preprocessing(preprocessing_name):
    """Returns the preprocessing layer of an application, or `None`.

    Args:
        preprocessing_name: An application name such as `"VGG16"`, or
            `"none"`.

    Returns:
        A model of Keras operations (or an `Identity` layer) named
        `preprocessing`, or `None`.

    Example:

    ```python
    layer = make_preprocessing("VGG16")
    ```
    """
    if preprocessing_name == "none":
        return None
    return application_preprocessing(preprocessing_name)


def resolve_preprocessing(base_config):
    """Returns the application whose preprocessing the base takes, or `"none"`.

    Args:
        base_config: The `base` section.

    Returns:
        An application name as `keras.applications` spells it, or `"none"`.

    Example:

    ```python
    resolve_preprocessing(config.base)  # "VGG16" for base.preprocessing: auto
    ```
    """
    setting = base_config.preprocessing
    if setting.lower() == "none":
        return "none"
    if setting.lower() == "auto":
        if is_model_file(base_config.name):
            return "none"
        setting = base_config.name
    names = {name.lower(): name for name in APPLICATION_NAMES}
    return names[setting.lower()]


def _build_application(base_config, size, channels):
    if channels != 3:
        raise ConfigError(
            f"keras.applications bases take RGB images; set "
            f"data.color_mode=rgb (base.name={base_config.name})"
        )
    try:
        return build_application(
            base_config.name,
            weights=base_config.weights,
            input_shape=(*size, 3),
            include_top=False,
            weights_key="base.weights",
        )
    except ValueError as error:
        raise ConfigError(
            f"base.name={base_config.name} with data.image_size="
            f"{list(size)}: {str(error).splitlines()[0]}"
        ) from None


def _load_model_file(base_config, size, channels):
    path = Path(base_config.name).expanduser()
    if not path.is_file():
        raise DataError(
            f"base model file not found: {path} (check base.name, or give a "
            f"keras.applications name such as VGG16)"
        )
    try:
        whole = keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for a bad file
        raise DataError(
            f"cannot load the base model {path}: {str(error)[:200]}"
        ) from None
    if base_config.weights is None:
        whole = keras.models.clone_model(whole)  # same layers, new weights
    elif base_config.weights != "saved":
        weights = Path(base_config.weights).expanduser()
        if not weights.is_file():
            raise DataError(f"weights file not found: {weights} (base.weights)")
        try:
            whole.load_weights(weights)
        except (ValueError, OSError) as error:
            raise DataError(
                f"cannot load base.weights={weights} into {path}: "
                f"{str(error).splitlines()[0][:200]}"
            ) from None
    expected = tuple(whole.input_shape[1:])
    if expected != (*size, channels):
        raise ConfigError(
            f"the base {path} takes images of {expected} but the data gives "
            f"{(*size, channels)}; set data.image_size={list(expected[:2])} "
            f"and data.color_mode="
            f"{'grayscale' if expected[-1] == 1 else 'rgb'}"
        )
    return whole


def _base_identity(base_config):
    name = base_config.name
    if is_model_file(name):
        return f"file:{weights_fingerprint(Path(name).expanduser())}"
    return name.lower()


def _weights_identity(base_config, base):
    weights = base_config.weights
    if weights in ("imagenet", "saved"):
        return weights
    if weights is None:
        # Random weights depend on the seed and on build order; hash them.
        values = [np.asarray(w) for w in base.get_weights()]
        return f"random:{array_fingerprint(*values)}"
    return weights_fingerprint(weights)
