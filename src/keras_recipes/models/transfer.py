"""Transfer learning pieces: a top model, a cut and partly frozen base, both joined.

The recipe of the Keras blog post "Building powerful image classification
models using very little data" and of the Keras transfer-learning guide:
cut a pretrained base at a named layer, freeze it (all of it to compute
bottleneck features, or up to its last block to fine-tune), and put a small
top model on its output. The base's BatchNormalization layers stay in
inference mode even while part of the base is trained.
"""

import difflib
import re

import keras

from keras_recipes.weights import preprocess_input

POOLINGS = ("flatten", "avg", "max")
_BLOCK = re.compile(r"^((?:block|conv)\d+)")


def top_model(
    input_shape,
    num_classes,
    pooling="flatten",
    units=256,
    dropout=0.5,
    name="top",
):
    """Builds the top model: POOL -> DENSE(units, relu) -> DROPOUT -> DENSE.

    It takes the base's feature maps (bottleneck features) and returns class
    probabilities. `"flatten"` keeps where a feature was found, as in the
    blog post; global average or max pooling keep only what, with far fewer
    weights, which suits large feature maps and few images.

    Args:
        input_shape: Shape of one feature map, `(height, width, channels)`,
            or `(features,)` for vectors.
        num_classes: Number of classes; the output is a softmax over them.
        pooling: `"flatten"`, `"avg"` or `"max"`. Defaults to `"flatten"`.
        units: Units of the hidden dense layer. Defaults to `256`.
        dropout: Dropout rate before the output layer, in [0, 1).
            Defaults to `0.5`.
        name: Model name. Defaults to `"top"`.

    Returns:
        An uncompiled `keras.Sequential`.

    Example:

    ```python
    top = top_model((4, 4, 512), num_classes=2)
    ```

    Reference:
        https://blog.keras.io/building-powerful-image-classification-models-using-very-little-data.html
    """
    input_shape = tuple(input_shape)
    if pooling not in POOLINGS:
        raise ValueError(
            f"pooling must be one of {POOLINGS}. Received: pooling={pooling}"
        )
    if pooling != "flatten" and len(input_shape) != 3:
        raise ValueError(
            f"pooling='{pooling}' needs (height, width, channels) feature maps. "
            f"Received: input_shape={input_shape}"
        )
    if num_classes < 2:
        raise ValueError(
            f"num_classes must be at least 2. Received: num_classes={num_classes}"
        )
    if units < 1:
        raise ValueError(f"units must be positive. Received: units={units}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1). Received: dropout={dropout}")
    pool = {
        "flatten": keras.layers.Flatten(name="flatten"),
        "avg": keras.layers.GlobalAveragePooling2D(name="avg_pool"),
        "max": keras.layers.GlobalMaxPooling2D(name="max_pool"),
    }[pooling]
    return keras.Sequential(
        [
            keras.Input(shape=input_shape, name="features"),
            pool,
            keras.layers.Dense(units, activation="relu", name="fc1"),
            keras.layers.Dropout(dropout, name="dropout"),
            keras.layers.Dense(num_classes, activation="softmax", name="predictions"),
        ],
        name=name,
    )


def _layer_names(model):
    return [layer.name for layer in model.layers]


def _unknown_layer(argument, value, model):
    names = _layer_names(model)
    match = difflib.get_close_matches(str(value), names, n=1, cutoff=0.5)
    hint = f" Did you mean '{match[0]}'?" if match else ""
    return ValueError(
        f"{argument} must name a layer of '{model.name}'.{hint} Layers: "
        f"{', '.join(names)}. Received: {argument}={value}"
    )


def cut_base(model, cut_layer=None, name=None):
    """Returns the part of `model` from its input up to a named layer.

    Args:
        model: A functional or `Sequential` model, e.g. a
            `keras.applications` base or a loaded `.keras` classifier.
        cut_layer: Name of the last layer to keep, or `None` to keep the
            whole model. Defaults to `None`.
        name: Name of the returned model. Defaults to `"<model>_to_<layer>"`.

    Returns:
        A functional `keras.Model` sharing `model`'s layers and weights.

    Example:

    ```python
    vgg = keras.applications.VGG16(weights=None, include_top=False)
    features = cut_base(vgg, "block4_pool")
    ```
    """
    if cut_layer is None:
        return model
    if cut_layer not in _layer_names(model):
        raise _unknown_layer("cut_layer", cut_layer, model)
    output = model.get_layer(cut_layer).output
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs, output, name=name or f"{model.name}_to_{cut_layer}")


def first_trainable_index(base, trainable_from):
    """Returns the index in `base.layers` of the first layer left trainable.

    Args:
        base: The base model.
        trainable_from: A layer name (`"block5_conv1"`), a block name that
            prefixes layer names (`"block5"`), or the number of leading
            layers of `base.layers` to freeze (the input layer counts, as
            in `base.layers`; `0` trains everything).

    Returns:
        An index into `base.layers`; `len(base.layers)` freezes everything.

    Example:

    ```python
    first_trainable_index(vgg, "block5")  # 15 for VGG16 without its top
    ```
    """
    count = len(base.layers)
    if isinstance(trainable_from, bool) or trainable_from is None:
        raise ValueError(
            f"trainable_from must be a layer name, a block name or a count. "
            f"Received: trainable_from={trainable_from}"
        )
    if isinstance(trainable_from, int):
        if not 0 <= trainable_from <= count:
            raise ValueError(
                f"trainable_from must be between 0 and the {count} layers of "
                f"'{base.name}'. Received: trainable_from={trainable_from}"
            )
        return trainable_from
    for index, layer in enumerate(base.layers):
        if layer.name == trainable_from or layer.name.startswith(f"{trainable_from}_"):
            return index
    raise _unknown_layer("trainable_from", trainable_from, base)


def freeze_base(base, trainable_from=None, freeze_batch_norm=True):
    """Freezes the layers of `base` before `trainable_from`, trains the rest.

    BatchNormalization layers stay frozen even in the trained part, as the
    Keras transfer-learning guide advises: in Keras 3 a non-trainable
    BatchNormalization layer runs in inference mode, with its moving
    statistics. (The guide's other half, calling the base with
    `training=False`, does not hold on its own in Keras 3: `fit` calls a
    functional model with `training=True`, which reaches the nested base
    too; keras-team/keras#20285.)

    Args:
        base: The base model; its layers' `trainable` flags are set in place.
        trainable_from: Where training starts: a layer name, a block name
            such as `"block5"`, a count of frozen leading layers, or `None`
            to freeze the whole base. Defaults to `None`.
        freeze_batch_norm: Keep every BatchNormalization layer frozen, in
            inference mode. Defaults to `True`.

    Returns:
        The names of the layers left trainable.

    Example:

    ```python
    freeze_base(vgg, "block5")  # ['block5_conv1', ..., 'block5_pool']
    ```

    Reference:
        https://keras.io/guides/transfer_learning/
    """
    start = (
        len(base.layers)
        if trainable_from is None
        else first_trainable_index(base, trainable_from)
    )
    base.trainable = True
    trainable = []
    for index, layer in enumerate(base.layers):
        frozen_norm = freeze_batch_norm and isinstance(
            layer, keras.layers.BatchNormalization
        )
        layer.trainable = index >= start and not frozen_norm
        if layer.trainable:
            trainable.append(layer.name)
    if not trainable:
        base.trainable = False
    return trainable


def block_names(model):
    """Returns the model's blocks, in order, from its layer names.

    A block is a layer-name prefix such as `block5` (VGG, EfficientNet, the
    small CNN of this package) or `conv4` (ResNet, DenseNet).

    Args:
        model: A model.

    Returns:
        A list of block names, e.g. `["block1", ..., "block5"]`; empty when
        the layer names show no blocks.

    Example:

    ```python
    block_names(keras.applications.VGG16(weights=None, include_top=False))
    ```
    """
    blocks = []
    for layer in model.layers:
        match = _BLOCK.match(layer.name)
        if match and match.group(1) not in blocks:
            blocks.append(match.group(1))
    return blocks


def last_layer_of_block(model, block):
    """Returns the name of the last layer of `model` whose name starts a block.

    Args:
        model: A model.
        block: A block name such as `"block4"`.

    Returns:
        The layer name, e.g. `"block4_pool"`.

    Example:

    ```python
    last_layer_of_block(vgg, "block4")  # 'block4_pool'
    ```
    """
    names = [n for n in _layer_names(model) if n.startswith(f"{block}_")]
    if not names:
        raise ValueError(
            f"no layer of '{model.name}' starts with '{block}_'. Received: "
            f"block={block}"
        )
    return names[-1]


def application_preprocessing(application, name="preprocessing"):
    """Returns a backbone's `preprocess_input` as a model of Keras operations.

    Inside a model, it lets a saved transfer model take raw [0, 255] RGB
    images like any other model of this package. It is a functional model
    of `keras.ops` calls (or a `keras.layers.Identity` for a backbone whose
    preprocessing is built in, such as EfficientNet), so a model holding it
    saves Keras's classes only and loads with plain
    `keras.saving.load_model`, without this package.

    Args:
        application: The backbone, e.g. `"VGG16"`.
        name: Name of the model (or layer). Defaults to `"preprocessing"`.

    Returns:
        A `keras.Model` from images `[batch, height, width, 3]` of any size
        to the backbone's input, or a `keras.layers.Identity`.

    Example:

    ```python
    preprocessing = application_preprocessing("VGG16")
    model = transfer_model(base, top, preprocessing)
    ```
    """
    inputs = keras.Input(shape=(None, None, 3), name=f"{name}_images")
    outputs = preprocess_input(application)(inputs)
    if outputs is inputs:
        return keras.layers.Identity(name=name)
    return keras.Model(inputs, outputs, name=name)


@keras.saving.register_keras_serializable(package="keras_recipes")
class ApplicationPreprocessing(keras.layers.Layer):
    """Applies a `keras.applications` backbone's `preprocess_input`.

    Transfer models saved by earlier versions of this package hold this
    layer, so it stays registered; new models use
    `application_preprocessing`, which computes the same with Keras's
    classes only. A model holding this layer loads only where
    `keras_recipes.models` is imported, or with
    `custom_objects=keras_recipes.custom_objects()`.

    Args:
        application: The backbone, e.g. `"VGG16"`.
        **kwargs: Layer arguments such as `name`.

    Example:

    ```python
    layer = ApplicationPreprocessing("VGG16")
    ```
    """

    def __init__(self, application, **kwargs):
        super().__init__(**kwargs)
        self.application = application
        self._preprocess = preprocess_input(application)

    def call(self, inputs):
        return self._preprocess(inputs)

    def get_config(self):
        return {**super().get_config(), "application": self.application}


def transfer_model(base, top, preprocessing=None, name="transfer"):
    """Joins preprocessing, a base called in inference mode, and a top model.

    The base is called with `training=False`, as in the Keras
    transfer-learning guide, so that predicting and evaluating run it in
    inference mode. During `fit`, Keras 3 passes `training=True` down to the
    base anyway; `freeze_base` keeps its BatchNormalization layers in
    inference mode then, so fine-tuning does not wreck their statistics.

    Args:
        base: The (cut, partly frozen) base model.
        top: The top model; its input shape is the base's output shape.
        preprocessing: A layer applied to the raw images first, such as
            `application_preprocessing("VGG16")`, or `None`. Defaults to
            `None`.
        name: Model name. Defaults to `"transfer"`.

    Returns:
        A functional `keras.Model` from images to class probabilities.

    Example:

    ```python
    model = transfer_model(base, top_model(base.output.shape[1:], 2),
                           application_preprocessing("VGG16"))
    ```

    Reference:
        https://keras.io/guides/transfer_learning/
    """
    if tuple(base.output.shape[1:]) != tuple(top.input_shape[1:]):
        raise ValueError(
            f"the top model takes {tuple(top.input_shape[1:])} but the base "
            f"gives {tuple(base.output.shape[1:])}. Received: top={top.name}"
        )
    inputs = keras.Input(shape=tuple(base.input_shape[1:]), name="image")
    x = preprocessing(inputs) if preprocessing is not None else inputs
    x = base(x, training=False)
    return keras.Model(inputs, top(x), name=name)
