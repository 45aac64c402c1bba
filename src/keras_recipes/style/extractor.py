"""A VGG feature extractor for the content and style layers."""

import difflib

import keras

from keras_recipes.weights import build_application

BACKBONES = ("VGG16", "VGG19")


def style_feature_extractor(layer_names, backbone="VGG19", weights="imagenet"):
    """Builds a model from images to the feature maps of some VGG layers.

    The model takes images already passed through the backbone's
    `preprocess_input` and accepts any height and width.

    Args:
        layer_names: Names of the convolution layers whose outputs are
            returned, e.g. `["block5_conv2", "block1_conv1"]`.
        backbone: `"VGG16"` or `"VGG19"`. Defaults to `"VGG19"`.
        weights: `"imagenet"`, `None` for random weights, or the path of a
            local weights file. Defaults to `"imagenet"`.

    Returns:
        A non-trainable `keras.Model` whose output is a `dict` from layer
        name to a `[batch, height, width, channels]` tensor.

    Example:

    ```python
    extractor = style_feature_extractor(["block1_conv1"], weights=None)
    extractor(keras.random.normal((1, 64, 64, 3)))["block1_conv1"].shape
    # (1, 64, 64, 64)
    ```

    Reference:

    - [Gatys et al., 2015](https://arxiv.org/abs/1508.06576)
    """
    if str(backbone).upper() not in BACKBONES:
        raise ValueError(
            f"backbone must be one of {BACKBONES}. Received: backbone={backbone}"
        )
    if not layer_names:
        raise ValueError(
            f"layer_names must name at least one layer. Received: "
            f"layer_names={layer_names}"
        )
    base = build_application(
        str(backbone).upper(),
        weights=weights,
        include_top=False,
        input_shape=(None, None, 3),
    )
    known = [layer.name for layer in base.layers if "conv" in layer.name]
    for name in layer_names:
        if name not in known:
            match = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean '{match[0]}'?" if match else ""
            raise ValueError(
                f"{base.name} has no convolution layer '{name}'{hint} "
                f"(it has {known[0]} ... {known[-1]}). Received: "
                f"layer_names={list(layer_names)}"
            )
    outputs = {name: base.get_layer(name).output for name in dict.fromkeys(layer_names)}
    extractor = keras.Model(base.input, outputs, name=f"{base.name}_features")
    extractor.trainable = False
    return extractor
