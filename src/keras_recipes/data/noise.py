"""Gaussian pixel noise for training and testing denoising autoencoders."""

import numbers

import tensorflow as tf


def add_gaussian_noise(images, noise_factor, seed):
    """Adds Gaussian noise to images in `[0, 1]` and clips back to `[0, 1]`.

    The noise is drawn statelessly from `seed`, so the same images and seed
    always give the same noisy images, inside a `tf.data` pipeline or out of
    it.

    Args:
        images: Float images of any shape with pixels in `[0, 1]`. No default.
        noise_factor: Standard deviation of the noise, at least zero.
            No default.
        seed: Pair of integers `(a, b)`, or an int tensor of shape `[2]`, that
            fixes the draw. No default.

    Returns:
        A float32 tensor of the shape of `images`:
        `clip(images + noise_factor * normal(0, 1), 0, 1)`.

    Example:

    >>> clean = tf.fill((2, 8, 8, 1), 0.5)
    >>> noisy = add_gaussian_noise(clean, 0.5, seed=(42, 0))
    >>> float(tf.reduce_min(noisy)) >= 0.0
    True

    Reference:
        - [Vincent et al., Extracting and Composing Robust Features with
            Denoising Autoencoders](https://doi.org/10.1145/1390156.1390294)
    """
    if isinstance(noise_factor, bool) or not (
        isinstance(noise_factor, numbers.Real) and noise_factor >= 0
    ):
        raise ValueError(
            "`noise_factor` must be a number greater than or equal to zero. "
            f"Received: noise_factor={noise_factor}"
        )
    images = tf.convert_to_tensor(images, dtype=tf.float32)
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    noise = tf.random.stateless_normal(tf.shape(images), seed=seed)
    return tf.clip_by_value(images + noise_factor * noise, 0.0, 1.0)
