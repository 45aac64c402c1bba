"""Image augmentation from config, and its parallel, seeded `tf.data` map."""

import dataclasses

import tensorflow as tf

from keras_recipes.data.image_augmentation import RandomImageAugmentation
from keras_recipes.epoch_seeding import read_epoch
from keras_recipes.errors import ConfigError

# Keeps augmentation seeds apart from the other streams of the same run seed.
_AUGMENTATION_STREAM = 0x5EED


def build_augmentation(config, image_size, channels, seed=0):
    """Returns a `RandomImageAugmentation` layer, or `None` if none is on.

    The layer expects pixel values in [0, 255] and is meant for the training
    `tf.data` pipeline: see `augment_batches`.

    Args:
        config: An `AugmentationConfig`.
        image_size: `(height, width)` of the images.
        channels: 1 for grayscale, 3 for RGB.
        seed: Seed of the layer's own generator. Defaults to `0`.

    Returns:
        A `RandomImageAugmentation` named `"augmentation"`, or `None`.

    Example:

    ```python
    augment = build_augmentation(config.data.augmentation, (8, 8), 1, seed=42)
    ```
    """
    del image_size  # The layer reads the size from its inputs.
    if not config.enabled:
        return None
    if channels != 3 and (config.hue or config.saturation):
        raise ConfigError(
            "data.augmentation.hue and .saturation need RGB images; set them to 0 "
            f"for {channels}-channel images"
        )
    settings = {
        field.name: getattr(config, field.name)
        for field in dataclasses.fields(config)
        if field.name != "enabled"
    }
    layer = RandomImageAugmentation(**settings, seed=seed, name="augmentation")
    return layer if layer.is_geometric or layer.changes_colours else None


def augment_batches(batches, augmenter, seed, epoch=None):
    """Augments the images of each batch, in parallel, from per-batch seeds.

    Batch `k` of an epoch is augmented from a seed drawn from `(seed, epoch,
    k)`, so the same epoch always gives the same images, whatever the number
    of parallel calls.

    Args:
        batches: A `tf.data.Dataset` of `(images, ...)` tuples.
        augmenter: A `RandomImageAugmentation`.
        seed: The run's integer seed.
        epoch: The epoch number inside `every_epoch`, the variable from
            `make_epoch_variable`, or `None` for a dataset whose batch
            indices run on across epochs. Defaults to `None`.

    Returns:
        The dataset with each batch's images augmented.

    Example:

    ```python
    train = augment_batches(train.batch(32), augmenter, seed=42, epoch=number)
    ```
    """
    base = tf.constant([seed, _AUGMENTATION_STREAM], tf.int64)

    def augment(index, element):
        batch_seed = base
        if epoch is not None:
            batch_seed = tf.random.experimental.stateless_fold_in(
                batch_seed, read_epoch(epoch)
            )
        batch_seed = tf.random.experimental.stateless_fold_in(batch_seed, index)
        images = augmenter(element[0], training=True, seed=batch_seed)
        return (images, *element[1:])

    return batches.enumerate().map(
        augment,
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
