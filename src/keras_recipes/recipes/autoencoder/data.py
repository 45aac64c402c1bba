"""The autoencoder's data: image pairs `(input, clean image)`, noisy or not."""

import dataclasses
import math

import numpy as np
import tensorflow as tf

from keras_recipes.data.image_arrays import ImageSplits, load_image_splits
from keras_recipes.data.image_stream import ImageSet
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
    """The autoencoder's `Datasets`, with the image sets evaluation reads.

    `train`, `validation` and `test` give batches of `(input, clean image)`
    pairs, the test pairs without noise.

    Attributes:
        images: The train, validation and test `ImageSet`s and the class
            names; a folder's images are read from disk as pipelines need
            them.
        noise_factor: Std of the noise on the inputs; `0.0` for a plain
            autoencoder.
        noisy_test: Batches of `(noisy test image, clean test image)`, with
            one fixed draw of that noise (`TEST_NOISE_SEED`), or `None`
            without noise.
    """

    images: ImageSplits | None = None
    noise_factor: float = 0.0
    noisy_test: tf.data.Dataset | None = None

    @property
    def arrays(self):
        """`images`, whose sets index like arrays: `data.arrays.test[:8]`."""
        return self.images


def shuffled_pairs(images, seed, epoch, noise_factor=0.0):
    """Returns an unbatched dataset of `(input, clean image)` in epoch order.

    The order and the noise are functions of `(seed, epoch)` only, so a
    resumed run sees what an uninterrupted one would: image `i` of epoch
    `e` gets the noise drawn from `(seed, e * len(images) + i)`.

    Args:
        images: An `ImageSet`, or an array or tensor
            `[N, height, width, channels]` in `[0, 1]`. No default.
        seed: The run's integer seed. No default.
        epoch: The epoch variable of the recipe (`Recipe.epoch`), or an
            epoch number inside `every_epoch`. No default.
        noise_factor: Std of the Gaussian noise added to the inputs.
            Defaults to `0.0` (inputs are the clean images).

    Returns:
        A `tf.data.Dataset` of `(input, target)` pairs.

    Example:

    ```python
    train = shuffled_pairs(data.images.train, 42, recipe.epoch, 0.5).batch(32)
    ```
    """
    if not isinstance(images, ImageSet):
        images = _in_memory(images)
    size = len(images)
    order = epoch_shuffled_indices(size, seed, epoch)
    read = images.reader()

    @tf.autograph.experimental.do_not_convert
    def pair(index):
        clean = read(index)
        if not noise_factor:
            return clean, clean
        draw = read_epoch(epoch) * size + tf.cast(index, tf.int64)
        stream = tf.stack([tf.constant(seed, tf.int64), draw])
        return add_gaussian_noise(clean, noise_factor, stream), clean

    return order.map(pair, num_parallel_calls=AUTOTUNE)


def fixed_noise_pairs(images, noise_factor, seed):
    """Returns an unbatched dataset of `(input, clean image)` with fixed noise.

    Every run draws the same noise for the same `seed`. Images held in
    memory get one draw for the whole array, as `add_gaussian_noise` makes
    it; images read from files get one draw each, from `seed` folded with
    the image's position, so the set never has to be one array.

    Args:
        images: An `ImageSet`. No default.
        noise_factor: Std of the noise; `0` gives `(image, image)` pairs.
            No default.
        seed: Pair of integers `(a, b)` that fixes the draw. No default.

    Returns:
        A `tf.data.Dataset` of `(input, target)` pairs in stored order.

    Example:

    ```python
    noisy_test = fixed_noise_pairs(data.images.test, 0.5, TEST_NOISE_SEED)
    ```
    """
    if images.pixels is not None:
        clean = images.pixels
        noisy = add_gaussian_noise(clean, noise_factor, seed) if noise_factor else clean
        return tf.data.Dataset.from_tensor_slices((noisy, clean))
    read = images.reader()
    base = tf.constant(seed, tf.int64)

    @tf.autograph.experimental.do_not_convert
    def pair(index):
        clean = read(index)
        if not noise_factor:
            return clean, clean
        stream = tf.random.experimental.stateless_fold_in(base, index)
        return add_gaussian_noise(clean, noise_factor, stream), clean

    order = tf.data.Dataset.range(len(images))
    return order.map(pair, num_parallel_calls=AUTOTUNE)


def autoencoder_data(config, epoch):
    """Finds the images of a config and makes the autoencoder's datasets.

    Training pairs get fresh noise every epoch; the validation and test
    images get one fixed draw each, so every run scores the same inputs.
    A folder's images are decoded as the pipelines read them, so no split
    is ever held whole in memory.

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
    images = load_image_splits(config.data, config.train.validation_split, config.seed)
    batch_size = config.train.batch_size
    noise = noise_factor_of(config)

    # Plain TensorFlow ops: AutoGraph would only spend seconds converting them.
    @tf.autograph.experimental.do_not_convert
    def one_epoch(number):
        pairs = shuffled_pairs(images.train, config.seed, number, noise)
        return pairs.batch(batch_size)

    validation = None
    if images.validation is not None:
        seed = (config.seed, VALIDATION_NOISE_SEED)
        validation = fixed_noise_pairs(images.validation, noise, seed)
        validation = validation.batch(batch_size).prefetch(AUTOTUNE)
    test = fixed_noise_pairs(images.test, 0.0, TEST_NOISE_SEED)
    noisy_test = None
    if noise:
        noisy_test = fixed_noise_pairs(images.test, noise, TEST_NOISE_SEED)
        noisy_test = noisy_test.batch(batch_size).prefetch(AUTOTUNE)
    return AutoencoderData(
        train=every_epoch(epoch, one_epoch).prefetch(AUTOTUNE),
        validation=validation,
        test=test.batch(batch_size).prefetch(AUTOTUNE),
        steps_per_epoch=config.train.steps_per_epoch
        or math.ceil(len(images.train) / batch_size),
        input_shape=images.train.shape[1:],
        class_names=images.class_names,
        skipped_files=images.skipped,
        images=images,
        noise_factor=noise,
        noisy_test=noisy_test,
    )


def _in_memory(pixels):
    pixels = np.asarray(pixels, dtype="float32")
    labels = np.full(len(pixels), -1, dtype="int32")
    return ImageSet(labels, pixels.shape[1:3], pixels.shape[3], pixels=pixels)
