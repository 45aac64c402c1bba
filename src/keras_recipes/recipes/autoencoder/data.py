"""The autoencoder's data: image pairs `(input, clean image)`, noisy or not."""

import dataclasses
import math

import numpy as np
import tensorflow as tf

from keras_recipes.data.image_arrays import ImageArrays, load_image_arrays
from keras_recipes.data.noise import add_gaussian_noise
from keras_recipes.epoch_seeding import (
    epoch_shuffled_indices,
    every_epoch,
    read_epoch,
)
from keras_recipes.recipes.autoencoder.config import noise_factor_of
from keras_recipes.training import Datasets

AUTOTUNE = tf.data.AUTOTUNE
# The noisy test images are the same for every run and seed.
TEST_NOISE_SEED = (0, -1)
# The validation images get a noise draw of their own, also fixed.
VALIDATION_NOISE_SEED = -2


@dataclasses.dataclass
class AutoencoderData(Datasets):
    """The autoencoder's `Datasets`, with the arrays evaluation and figures use.

    Attributes:
        arrays: The train, validation and test images in `[0, 1]` and their
            labels, as `load_image_arrays` gives them.
        noise_factor: Std of the noise on the inputs; `0.0` for a plain
            autoencoder.
        noisy_test: The test images with one fixed draw of that noise
            (`TEST_NOISE_SEED`), or `None` without noise.
    """

    arrays: ImageArrays | None = None
    noise_factor: float = 0.0
    noisy_test: np.ndarray | None = None


def shuffled_pairs(images, seed, epoch, noise_factor=0.0):
    """Returns an unbatched dataset of `(input, clean image)` in epoch order.

    The order and the noise are functions of `(seed, epoch)` only, so a
    resumed run sees what an uninterrupted one would.

    Args:
        images: Array or tensor `[N, height, width, channels]` in `[0, 1]`.
            No default.
        seed: The run's integer seed. No default.
        epoch: The epoch variable of the recipe (`Recipe.epoch`), or an
            epoch number inside `every_epoch`. No default.
        noise_factor: Std of the Gaussian noise added to the inputs.
            Defaults to `0.0` (inputs are the clean images).

    Returns:
        A `tf.data.Dataset` of `(input, target)` pairs.

    Example:

    ```python
    train = shuffled_pairs(x_train, 42, recipe.epoch, 0.5).batch(32)
    ```
    """
    pixels = tf.convert_to_tensor(images)
    size = int(pixels.shape[0])
    order = epoch_shuffled_indices(size, seed, epoch)

    def pair(index):
        clean = tf.gather(pixels, index)
        if not noise_factor:
            return clean, clean
        draw = read_epoch(epoch) * size + tf.cast(index, tf.int64)
        stream = tf.stack([tf.constant(seed, tf.int64), draw])
        return add_gaussian_noise(clean, noise_factor, stream), clean

    return order.map(pair)


def autoencoder_data(config, epoch):
    """Loads the images of a config and makes the autoencoder's datasets.

    Training pairs get fresh noise every epoch; the validation and test
    images get one fixed draw each, so every run scores the same inputs.

    Args:
        config: An `AutoencoderConfig`. No default.
        epoch: The recipe's epoch variable (`Recipe.epoch`). No default.

    Returns:
        An `AutoencoderData`.

    Example:

    ```python
    data = autoencoder_data(recipe.config, recipe.epoch)
    inputs, targets = next(iter(data.train))
    ```
    """
    arrays = load_image_arrays(config.data, config.train.validation_split, config.seed)
    batch_size = config.train.batch_size
    noise = noise_factor_of(config)
    pixels = tf.constant(arrays.train)

    def one_epoch(number):
        pairs = shuffled_pairs(pixels, config.seed, number, noise)
        return pairs.batch(batch_size)

    validation = None
    if arrays.validation is not None:
        inputs = arrays.validation
        if noise:
            inputs = add_gaussian_noise(
                inputs, noise, (config.seed, VALIDATION_NOISE_SEED)
            )
        validation = tf.data.Dataset.from_tensor_slices(
            (inputs, arrays.validation)
        ).batch(batch_size)
    test = tf.data.Dataset.from_tensor_slices((arrays.test, arrays.test))
    noisy_test = None
    if noise:
        noisy_test = add_gaussian_noise(arrays.test, noise, TEST_NOISE_SEED).numpy()
    return AutoencoderData(
        train=every_epoch(epoch, one_epoch).prefetch(AUTOTUNE),
        validation=validation,
        test=test.batch(batch_size),
        steps_per_epoch=config.train.steps_per_epoch
        or math.ceil(len(arrays.train) / batch_size),
        input_shape=arrays.train.shape[1:],
        class_names=arrays.class_names,
        arrays=arrays,
        noise_factor=noise,
        noisy_test=noisy_test,
    )
