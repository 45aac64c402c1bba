"""Gram matrix of convolutional feature maps."""

from keras import ops


def gram_matrix(features):
    """Computes the Gram matrix of each feature map in a batch.

    For one image, reshape its `(height, width, channels)` feature map into a
    `(height * width, channels)` matrix `F`; its Gram matrix is `F^T F`, the
    `(channels, channels)` inner products between every pair of channels over
    all positions. No normalisation is applied: `style_loss` divides by the
    feature-map size itself.

    Args:
        features: Float tensor of shape `(batch, height, width, channels)`.

    Returns:
        Tensor of shape `(batch, channels, channels)`.

    Example:

    ```python
    features = keras.random.normal((2, 8, 8, 16))
    gram_matrix(features).shape  # (2, 16, 16)
    ```

    Reference:

    - [Gatys et al., 2015](https://arxiv.org/abs/1508.06576)
    """
    features = ops.convert_to_tensor(features)
    return ops.einsum("bhwc,bhwd->bcd", features, features)
