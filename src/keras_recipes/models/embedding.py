"""Embedding networks for metric learning: triplet embeddings and Siamese pairs."""

import keras
from keras import layers, ops


def conv_backbone(
    input_shape=(8, 8, 1),
    filters=(32, 64),
    convs_per_block=2,
    batch_norm=True,
    pooling="avg",
    rescale=1.0 / 255,
    name="conv_backbone",
):
    """Builds a small convolutional feature extractor ending in one vector.

    Each block is `convs_per_block` 3x3 convolutions (with batch
    normalisation and ReLU), then 2x2 max pooling (not after the last
    block); the last feature map is averaged, or flattened so that where a
    stroke is stays in the features. Inputs are raw pixels in [0, 255].

    Args:
        input_shape: Shape of one image, `(height, width, channels)`.
            Defaults to `(8, 8, 1)`.
        filters: Filters of each block, one block per entry. Defaults to
            `(32, 64)`.
        convs_per_block: Convolutions per block. Defaults to `2`.
        batch_norm: Whether each convolution is followed by batch
            normalisation. Defaults to `True`.
        pooling: `"avg"` (global average pooling) or `"flatten"`.
            Defaults to `"avg"`.
        rescale: Factor applied to the raw pixels, or `None`. Defaults to
            `1 / 255`.
        name: Model name. Defaults to `"conv_backbone"`.

    Returns:
        An uncompiled `keras.Model` mapping images to `[batch, filters[-1]]`.

    Example:

    ```python
    backbone = conv_backbone(input_shape=(8, 8, 1), filters=(32, 64))
    ```
    """
    if len(input_shape) != 3:
        raise ValueError(
            f"input_shape must be (height, width, channels). "
            f"Received: input_shape={input_shape}"
        )
    if not filters or any(f < 1 for f in filters):
        raise ValueError(
            f"filters must be positive integers. Received: filters={filters}"
        )
    if convs_per_block < 1:
        raise ValueError(
            f"convs_per_block must be at least 1. "
            f"Received: convs_per_block={convs_per_block}"
        )
    if pooling not in ("avg", "flatten"):
        raise ValueError(
            f"pooling must be 'avg' or 'flatten'. Received: pooling={pooling}"
        )
    side = min(input_shape[0], input_shape[1])
    if side < 2 ** (len(filters) - 1):
        raise ValueError(
            f"{len(filters)} blocks of 2x2 pooling need images of at least "
            f"{2 ** (len(filters) - 1)} pixels a side. "
            f"Received: input_shape={tuple(input_shape)}"
        )
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = inputs
    if rescale is not None:
        x = layers.Rescaling(rescale, name="rescale")(x)
    for block, count in enumerate(filters, start=1):
        for conv in range(1, convs_per_block + 1):
            prefix = f"block{block}_conv{conv}"
            x = layers.Conv2D(
                count, 3, padding="same", use_bias=not batch_norm, name=prefix
            )(x)
            if batch_norm:
                x = layers.BatchNormalization(name=f"{prefix}_bn")(x)
            x = layers.Activation("relu", name=f"{prefix}_relu")(x)
        if block < len(filters):
            x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    if pooling == "avg":
        outputs = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    else:
        outputs = layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, outputs, name=name)


def embedding_model(
    input_shape=(8, 8, 1),
    embedding_dim=128,
    backbone=None,
    dropout=0.0,
    name="embedding",
):
    """Builds backbone -> Dense(embedding_dim) -> L2 normalisation.

    The embedding of FaceNet: every image maps to a point on the unit sphere,
    where the squared Euclidean distance between two points is
    `2 - 2 * cosine similarity`, in [0, 4]. Train it with
    `keras_recipes.losses.TripletLoss`.

    Args:
        input_shape: Shape of one image. Defaults to `(8, 8, 1)`.
        embedding_dim: Size of the embedding. Defaults to `128`.
        backbone: A `keras.Model` (or layer) mapping the images to features,
            e.g. `conv_backbone(...)` or a `keras.applications` model with
            `include_top=False`; a 4D feature map is average-pooled. `None`
            builds `conv_backbone(input_shape)`. Defaults to `None`.
        dropout: Dropout rate before the projection, in [0, 1). Defaults
            to `0.0`.
        name: Model name. Defaults to `"embedding"`.

    Returns:
        An uncompiled `keras.Model` mapping images to `[batch,
        embedding_dim]` unit vectors.

    Example:

    ```python
    model = embedding_model(input_shape=(8, 8, 1), embedding_dim=64)
    model.compile(optimizer="adam", loss=TripletLoss(mining="batch_all"))
    ```

    Reference:
        [Schroff et al., 2015](https://arxiv.org/abs/1503.03832)
    """
    if embedding_dim < 1:
        raise ValueError(
            f"embedding_dim must be a positive integer. "
            f"Received: embedding_dim={embedding_dim}"
        )
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1). Received: dropout={dropout}")
    if backbone is None:
        backbone = conv_backbone(input_shape)
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    features = backbone(inputs)
    if len(features.shape) == 4:
        features = layers.GlobalAveragePooling2D(name="features_pool")(features)
    elif len(features.shape) != 2:
        raise ValueError(
            f"backbone must output [batch, features] or a 4D feature map. "
            f"Received: output shape {features.shape}"
        )
    if dropout:
        features = layers.Dropout(dropout, name="dropout")(features)
    projected = layers.Dense(embedding_dim, name="projection")(features)
    outputs = layers.UnitNormalization(axis=-1, name="l2_normalize")(projected)
    return keras.Model(inputs, outputs, name=name)


@keras.saving.register_keras_serializable(package="keras_recipes")
class AbsoluteDifference(layers.Layer):
    """Returns `|a - b|` element-wise, for a pair of inputs.

    Example:

    ```python
    AbsoluteDifference()([np.array([[1.0, 2.0]]), np.array([[3.0, 1.0]])])
    # [[2.0, 1.0]]
    ```
    """

    def call(self, inputs):
        first, second = inputs
        return ops.abs(first - second)

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def siamese_model(encoder, name="siamese"):
    """Builds the Siamese binary classifier of same-identity pairs.

    Both images go through the same `encoder` (shared weights); the
    element-wise `|f(x1) - f(x2)|` feeds one sigmoid unit, trained with
    binary cross-entropy on pairs labelled 1 (same) or 0 (different). The
    alternative to the triplet loss in Andrew Ng's face recognition lectures
    and in DeepFace.

    Args:
        encoder: A `keras.Model` mapping one image to a feature vector, e.g.
            `embedding_model(...)` or `conv_backbone(...)`.
        name: Model name. Defaults to `"siamese"`.

    Returns:
        An uncompiled `keras.Model` with inputs `[image_1, image_2]` and
        output `[batch, 1]`, the probability that they show the same
        identity.

    Example:

    ```python
    encoder = embedding_model(input_shape=(8, 8, 1), embedding_dim=64)
    model = siamese_model(encoder)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit([first_images, second_images], same, epochs=5)
    ```

    Reference:
        [Taigman et al., 2014](https://doi.org/10.1109/CVPR.2014.220)
    """
    if not isinstance(encoder, keras.Model):
        raise ValueError(
            f"encoder must be a keras.Model. Received: encoder={encoder!r}"
        )
    if len(encoder.outputs) != 1 or len(encoder.outputs[0].shape) != 2:
        raise ValueError(
            f"encoder must output one [batch, features] tensor. "
            f"Received: outputs={encoder.outputs}"
        )
    shape = tuple(encoder.inputs[0].shape[1:])
    first = keras.Input(shape=shape, name="image_1")
    second = keras.Input(shape=shape, name="image_2")
    difference = AbsoluteDifference(name="absolute_difference")(
        [encoder(first), encoder(second)]
    )
    same = layers.Dense(1, activation="sigmoid", name="same_identity")(difference)
    return keras.Model([first, second], same, name=name)
