"""Content and style losses of neural style transfer."""

from keras import ops

from keras_recipes.losses.gram import gram_matrix


def content_loss(content_features, generated_features):
    """Computes the content loss between two batches of feature maps.

    `loss = 1/2 * sum((generated_features - content_features) ** 2)`, summed
    over every axis but the batch axis.

    Args:
        content_features: Float tensor of shape `(batch, height, width,
            channels)`, the features of the content image.
        generated_features: Float tensor of the same shape, the features of
            the generated image.

    Returns:
        Tensor of shape `(batch,)`, one loss per batch item.

    Example:

    ```python
    content = keras.random.normal((1, 8, 8, 16))
    generated = keras.random.normal((1, 8, 8, 16))
    content_loss(content, generated).shape  # (1,)
    ```

    Reference:

    - [Gatys et al., 2015](https://arxiv.org/abs/1508.06576)
    """
    content_features = ops.convert_to_tensor(content_features)
    generated_features = ops.convert_to_tensor(generated_features)
    squared = ops.square(generated_features - content_features)
    return 0.5 * ops.sum(squared, axis=tuple(range(1, len(squared.shape))))


def style_loss(style_features, generated_features):
    """Computes the style loss between two batches of feature maps.

    `loss = (1 / (2 * H * W * C)) ** 2 * sum((G_style - G_generated) ** 2)`,
    where `G` is the unnormalised `gram_matrix` and `H`, `W` and `C` are the
    height, width and channels of `generated_features`. This is the
    per-layer term `E_l` of Gatys et al.; weight and sum it over layers for
    the full style cost.

    Args:
        style_features: Float tensor of shape `(batch, height, width,
            channels)`, the features of the style image.
        generated_features: Float tensor of shape `(batch, height, width,
            channels)`, the features of the generated image.

    Returns:
        Tensor of shape `(batch,)`, one loss per batch item.

    Example:

    ```python
    style = keras.random.normal((1, 8, 8, 16))
    generated = keras.random.normal((1, 8, 8, 16))
    style_loss(style, generated).shape  # (1,)
    ```

    Reference:

    - [Gatys et al., 2015](https://arxiv.org/abs/1508.06576)
    """
    generated_features = ops.convert_to_tensor(generated_features)
    shape = ops.shape(generated_features)
    size = ops.cast(shape[1] * shape[2] * shape[3], generated_features.dtype)
    # Scaling before squaring keeps large feature maps far from overflow.
    scale = 1.0 / (2.0 * size)
    difference = (gram_matrix(style_features) - gram_matrix(generated_features)) * scale
    return ops.sum(ops.square(difference), axis=(1, 2))
