"""The fine-tuned model's parts: a trainable copy of the base, and its top."""

from pathlib import Path

import keras

from keras_recipes.config import read_yaml
from keras_recipes.errors import ConfigError
from keras_recipes.recipes.vgg16_bottleneck.recipe import TOP_FILE


def trainable_copy(base):
    """Returns a new model with the layers and weights of `base`.

    The recipe's data holds the frozen base its features came from; the
    model that trains gets variables of its own, made where it is built
    (inside the distribution strategy's scope).

    Args:
        base: A functional or `Sequential` model.

    Returns:
        A `keras.Model` of the same name and layers, with a copy of the
        weights.

    Example:

    ```python
    base = trainable_copy(data.frozen.base)
    ```
    """
    copy = keras.models.clone_model(base)
    copy.set_weights(base.get_weights())
    return copy


def load_top_run(config, feature_shape, class_names):
    """Returns the trained top of a `vgg16_bottleneck` run, checked to fit.

    Args:
        config: A `VGG16FineTuneConfig` whose `fine_tune.top_run` names the
            run directory.
        feature_shape: The shape of the base's features, without the batch
            axis.
        class_names: The data's class names.

    Returns:
        The top model, uncompiled.

    Example:

    ```python
    top = load_top_run(config, (4, 4, 512), ["cats", "dogs"])
    ```
    """
    run = Path(config.fine_tune.top_run).expanduser()
    top_file, config_file = run / TOP_FILE, run / "config.yaml"
    if not top_file.is_file() or not config_file.is_file():
        raise ConfigError(
            f"fine_tune.top_run={run} has no top.keras and config.yaml; give "
            f"a finished vgg16_bottleneck run directory, or null to train the "
            f"top here"
        )
    trained = read_yaml(config_file)
    for key in ("name", "weights", "preprocessing"):
        theirs = trained.get("base", {}).get(key)
        if theirs != getattr(config.base, key):
            raise ConfigError(
                f"fine_tune.top_run={run} trained its top on base.{key}="
                f"{theirs} but this run has base.{key}="
                f"{getattr(config.base, key)}; use the same base"
            )
    top = keras.saving.load_model(top_file, compile=False)
    if tuple(top.input_shape[1:]) != tuple(feature_shape):
        raise ConfigError(
            f"the top of fine_tune.top_run={run} takes features "
            f"{tuple(top.input_shape[1:])} but this base gives "
            f"{tuple(feature_shape)}; use the same base.cut_layer and "
            f"data.image_size"
        )
    if top.output_shape[-1] != len(class_names):
        raise ConfigError(
            f"the top of fine_tune.top_run={run} has {top.output_shape[-1]} "
            f"classes but the data has {len(class_names)}"
        )
    return top
