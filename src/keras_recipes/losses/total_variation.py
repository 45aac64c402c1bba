"""Total variation loss of images."""

from keras import ops


def total_variation_loss(images):
    """Computes the total variation loss of each image in a batch.

    The sum of squared differences between every pixel and its neighbour
    below, plus the same for its neighbour to the right, over all channels.
    It penalises high-frequency noise in a generated image.

    Args:
        images: Float tensor of shape `(batch, height, width, channels)`.

    Returns:
        Tensor of shape `(batch,)`, one loss per image.

    Example:

    ```python
    images = keras.random.uniform((2, 64, 64, 3))
    total_variation_loss(images).shape  # (2,)
    ```

    Reference:

    - [Mahendran and Vedaldi, 2015](https://arxiv.org/abs/1412.0035)
    """
    images = ops.convert_to_tensor(images)
    down = ops.square(images[:, 1:, :, :] - images[:, :-1, :, :])
    right = ops.square(images[:, :, 1:, :] - images[:, :, :-1, :])
    return ops.sum(down, axis=(1, 2, 3)) + ops.sum(right, axis=(1, 2, 3))
