"""The augmented image datasets of the `vgg16_fine_tune` recipe."""

import dataclasses

import tensorflow as tf

from keras_recipes.data.augmentation import augment_batches, build_augmentation
from keras_recipes.epoch_seeding import epoch_shuffled_indices, every_epoch
from keras_recipes.recipes.vgg16_bottleneck.config import channels_of
from keras_recipes.training import Datasets

AUTOTUNE = tf.data.AUTOTUNE


@dataclasses.dataclass
class FineTuneData(Datasets):
    """Image batches for fine-tuning, and what the top's first training needs.

    Attributes:
        frozen: The `FrozenBase` built from the config: the weights the
            fine-tuned copy starts from, and its preprocessing.
        images: Split name to its `LabelledImages` (`None` when absent).
        augmenter: The augmentation layer applied to each training batch,
            or `None` when augmentation is off.
        top_data: The `Datasets` of bottleneck features to train the top on
            before fine-tuning, or `None` (a `fine_tune.top_run` top, or
            `fine_tune.train_top_first: false`).

    Example:

    ```python
    data = VGG16FineTune(config).build_data()
    data.top_data is None  # with fine_tune.top_run set
    ```
    """

    frozen: object = None
    images: dict = dataclasses.field(default_factory=dict)
    augmenter: object = None
    top_data: Datasets | None = None


def fine_tune_data(config, epoch, splits, class_names, frozen, top_data=None):
    """Returns batched image `FineTuneData`, the training batches augmented.

    Args:
        config: A `VGG16FineTuneConfig`.
        epoch: The run's epoch counter; each epoch's order and augmentation
            depend only on it and the seed.
        splits: Split name to `LabelledImages` (or `None`).
        class_names: The class names.
        frozen: The `FrozenBase`.
        top_data: The feature `Datasets` for the top's first training, or
            `None`. Defaults to `None`.

    Returns:
        The `FineTuneData`.

    Example:

    ```python
    data = fine_tune_data(config, recipe.epoch, splits, class_names, frozen)
    ```
    """
    data_config = config.data
    size, channels = tuple(data_config.image_size), channels_of(data_config)
    seed, batch_size = config.seed, config.train.batch_size
    augmenter = build_augmentation(data_config.augmentation, size, channels, seed=seed)
    train_split = splits["train"]

    def one_epoch(number):
        order = epoch_shuffled_indices(len(train_split), seed, number)
        batches = train_split.dataset(size, channels, order).batch(batch_size)
        if augmenter is None:
            return batches
        return augment_batches(batches, augmenter, seed, number)

    batched = {
        name: splits[name].dataset(size, channels).batch(batch_size)
        if splits.get(name) is not None
        else None
        for name in ("validation", "test")
    }
    return FineTuneData(
        train=every_epoch(epoch, one_epoch).prefetch(AUTOTUNE),
        validation=batched["validation"],
        test=batched["test"],
        steps_per_epoch=config.train.steps_per_epoch
        or -(-len(train_split) // batch_size),
        input_shape=(*size, channels),
        class_names=list(class_names),
        random_layers=[augmenter] if augmenter is not None else [],
        frozen=frozen,
        images=splits,
        augmenter=augmenter,
        top_data=top_data,
    )
