"""The `yolo` data: anchors from the training boxes, targets for the grid."""

import dataclasses

import numpy as np
import tensorflow as tf

from keras_recipes.data.image_stream import cache_decoded
from keras_recipes.detection.anchors import kmeans_anchors
from keras_recipes.detection.augmentation import augment_detection
from keras_recipes.detection.mosaic import mosaic
from keras_recipes.detection.targets import encode_yolo_batch, encode_yolo_targets
from keras_recipes.detection.yolo_model import yolo_grid
from keras_recipes.epoch_seeding import epoch_shuffled_indices, every_epoch
from keras_recipes.errors import DataError
from keras_recipes.recipes.yolo.splits import load_splits
from keras_recipes.training import Datasets

AUTOTUNE = tf.data.AUTOTUNE


@dataclasses.dataclass
class YoloData(Datasets):
    """The `yolo` datasets, with the anchors and grid their targets use.

    Attributes:
        anchors: Array `[B, 2]` of anchor widths and heights in pixels,
            found once from the training boxes (or set in the config).
        grid: `(rows, columns)` of the model's output grid, which the
            targets are encoded for.
        box_sizes: Array `[N, 2]` of the training boxes' widths and heights.
        test_images: The held-out images, an `ImageSet` giving out RGB in
            `[0, 255]`.
        test_annotations: Their true boxes, one dict of `"boxes"` (`"xyxy"`
            pixels) and `"classes"` per image.
    """

    anchors: np.ndarray = None
    grid: tuple = ()
    box_sizes: np.ndarray = None
    test_images: np.ndarray = None
    test_annotations: list = dataclasses.field(default_factory=list)


def build_yolo_data(config, epoch, image_cache=None):
    """Loads the splits, finds the anchors and makes the encoded datasets.

    Args:
        config: The resolved `YoloConfig`.
        epoch: The run's epoch variable, which numbers the training epochs.
        image_cache: Folder where a folder's images are decoded once (see
            `cache_decoded`), or `None` to decode them every epoch.
            Defaults to `None`.

    Returns:
        A `YoloData`.

    Example:

    ```python
    data = build_yolo_data(load_config("yolo"), make_epoch_variable())
    ```
    """
    data_config, train_config = config.data, config.train
    size = tuple(data_config.image_size)
    splits, class_names = load_splits(
        data_config, train_config.validation_split, config.seed
    )
    if image_cache is not None:
        fingerprint = data_config.cache.fingerprint
        splits = [
            split and (cache_decoded(split[0], image_cache, fingerprint), split[1])
            for split in splits
        ]
    (x_train, y_train), validation, (x_test, y_test) = splits
    sizes = box_sizes(y_train)
    if len(sizes) == 0:
        raise DataError("the training split has no boxes; nothing to learn from")
    model_config = config.model
    anchors = choose_anchors(sizes, model_config, config.seed)
    grid = yolo_grid(size, model_config.backbone, model_config.filters)
    if min(grid) < 1:
        raise DataError(
            f"data.image_size {list(size)} is too small for the "
            f"{model_config.backbone} backbone: its output grid is empty"
        )
    encoding = {
        "grid": grid,
        "anchors": anchors,
        "num_classes": len(class_names),
        "image_size": size,
        "assignment": model_config.assignment,
    }
    batch_size = train_config.batch_size
    augmentation = dataclasses.asdict(data_config.augmentation)
    close_mosaic = augmentation.pop("close_mosaic")
    train = train_dataset(
        x_train,
        y_train,
        batch_size=batch_size,
        seed=config.seed,
        augmentation=augmentation,
        epoch=epoch,
        mosaic_epochs=max(0, train_config.epochs - close_mosaic),
        **encoding,
    ).prefetch(AUTOTUNE)
    validation_data = None
    if validation is not None:
        validation_data = encoded_dataset(*validation, batch_size, **encoding)
        validation_data = validation_data.prefetch(AUTOTUNE)
    steps = int(np.ceil(len(x_train) / batch_size))
    return YoloData(
        train=train,
        validation=validation_data,
        test=encoded_dataset(x_test, y_test, batch_size, **encoding),
        steps_per_epoch=train_config.steps_per_epoch or steps,
        input_shape=(*size, 3),
        class_names=list(class_names),
        anchors=anchors,
        grid=grid,
        box_sizes=sizes,
        test_images=x_test,
        test_annotations=y_test,
    )


def box_sizes(annotations):
    """Returns the widths and heights of every box, shape `[N, 2]`.

    Args:
        annotations: One dict per image whose `"boxes"` are `"xyxy"`.

    Returns:
        A float array `[N, 2]`.

    Example:

    ```python
    box_sizes([{"boxes": np.array([[0, 0, 4, 2]])}])  # [[4, 2]]
    ```
    """
    sizes = [a["boxes"][:, 2:] - a["boxes"][:, :2] for a in annotations]
    return np.concatenate(sizes) if sizes else np.zeros((0, 2), "float32")


def choose_anchors(sizes, model_config, seed):
    """Returns the config's anchors, or k-means anchors of the training boxes.

    Args:
        sizes: Array `[N, 2]` of the training boxes' widths and heights.
        model_config: The `model` section: `anchors` (`"auto"` or pairs) and
            `num_anchors`.
        seed: Seed of k-means.

    Returns:
        A float32 array `[B, 2]` of anchor widths and heights in pixels.

    Example:

    ```python
    anchors = choose_anchors(box_sizes(y_train), config.model, seed=42)
    ```
    """
    if model_config.anchors != "auto":
        return np.array(model_config.anchors, "float32")
    shapes = len(np.unique(sizes, axis=0))
    if shapes < model_config.num_anchors:
        raise DataError(
            f"the training boxes have only {shapes} distinct shapes, fewer than "
            f"model.num_anchors={model_config.num_anchors}; lower it"
        )
    positive = sizes[np.all(sizes > 0, axis=1)]
    anchors = kmeans_anchors(positive, model_config.num_anchors, seed=seed)
    return anchors.astype("float32")


def encoded_dataset(images, annotations, batch_size, **encoding):
    """Returns batches of images and their targets encoded for the grid.

    Args:
        images: An `ImageSet` giving out `[0, 255]`.
        annotations: One dict of `"boxes"` and `"classes"` per image.
        batch_size: Images a batch.
        **encoding: `grid`, `anchors`, `num_classes`, `image_size` and
            `assignment`, as `encode_yolo_batch` takes them.

    Returns:
        A batched `tf.data.Dataset` of `(images, targets)`.

    Example:

    ```python
    test = encoded_dataset(x_test, y_test, 32, grid=(12, 12), anchors=anchors,
                           num_classes=3, image_size=(96, 96))
    ```
    """
    targets = encode_yolo_batch(
        annotations,
        encoding["grid"],
        encoding["anchors"],
        encoding["num_classes"],
        encoding["image_size"],
        encoding["assignment"],
    )
    targets = tf.data.Dataset.from_tensor_slices(targets).batch(batch_size)
    return tf.data.Dataset.zip(images.batches(batch_size), targets)


def train_dataset(
    images,
    annotations,
    *,
    batch_size,
    seed,
    augmentation,
    epoch,
    grid,
    anchors,
    num_classes,
    image_size,
    assignment="single",
    mosaic_epochs=None,
):
    """Returns every epoch's shuffled, augmented and encoded training batches.

    The shuffling and the augmentation of an epoch depend only on `seed` and
    the epoch's number, so a resumed run sees the batches an uninterrupted
    one would. With `augmentation["mosaic"]` above 0, that share of the
    images is each a `mosaic` of itself and three images drawn at random,
    during the first `mosaic_epochs` epochs; flips, zooms, shifts and colour
    changes follow as for any image.

    Args:
        images: An `ImageSet` giving out `[0, 255]`.
        annotations: One dict of `"boxes"` and `"classes"` per image.
        batch_size: Images a batch.
        seed: The run's seed.
        augmentation: Keyword arguments of `augment_detection` (`flip`,
            `scale`, ...), and `mosaic`, the chance of a mosaic.
        epoch: The run's epoch variable.
        grid: `(rows, columns)` of the output grid.
        anchors: Array `[B, 2]` of anchors in pixels.
        num_classes: The number of classes.
        image_size: `(height, width)` of the images.
        assignment: `"single"` or `"multi"` (see `encode_yolo_targets`).
            Defaults to `"single"`.
        mosaic_epochs: The epochs, from the first, that use mosaics;
            `None` for all. Defaults to `None`.

    Returns:
        An endless `tf.data.Dataset` of `(images, targets)` batches, epoch
        after epoch (see `every_epoch`).

    Example:

    ```python
    train = train_dataset(x, y, batch_size=32, seed=42, augmentation={},
                          epoch=epoch, grid=(12, 12), anchors=anchors,
                          num_classes=3, image_size=(96, 96))
    ```
    """
    most = max(1, max(len(a["classes"]) for a in annotations))
    boxes = np.zeros((len(images), most, 4), "float32")
    classes = np.full((len(images), most), -1, "int32")
    for index, annotation in enumerate(annotations):
        boxes[index, : len(annotation["classes"])] = annotation["boxes"]
        classes[index, : len(annotation["classes"])] = annotation["classes"]
    boxes, classes = tf.constant(boxes), tf.constant(classes)
    read = images.reader()
    count = len(annotations)
    target_shape = (*grid, len(anchors), 5 + num_classes)

    def encode(box_array, class_array):
        kept = class_array >= 0
        return encode_yolo_targets(
            box_array[kept],
            class_array[kept],
            grid,
            anchors,
            num_classes,
            image_size,
            assignment,
        )

    augmentation = dict(augmentation)
    mosaic_probability = augmentation.pop("mosaic", 0.0)

    def one_image(index):
        return read(index), tf.gather(boxes, index), tf.gather(classes, index)

    def tiled(index, draws):
        others = tf.random.stateless_uniform([3], draws[0], 0, count, tf.int64)
        corner = tf.random.stateless_uniform([], draws[1], 0, 4, tf.int32)
        # The image itself goes to a random corner, the others fill the rest.
        indices = tf.roll(tf.concat([index[None], others], axis=0), corner, axis=0)
        return mosaic(
            read(indices),
            tf.gather(boxes, indices),
            tf.gather(classes, indices),
            draws[2],
        )

    def padded(index):
        image, image_boxes, image_classes = one_image(index)
        extra = [[0, 3 * most]]
        return (
            image,
            tf.pad(image_boxes, extra + [[0, 0]]),
            tf.pad(image_classes, extra, constant_values=-1),
        )

    def mosaic_or_not(index, stream, number):
        """The image and boxes at `index`, or a mosaic holding them."""
        if not mosaic_probability:
            return one_image(index)
        draws = tf.random.experimental.stateless_split(
            tf.random.experimental.stateless_fold_in(stream, 1), 4
        )
        chosen = tf.random.stateless_uniform([], draws[3]) < mosaic_probability
        if mosaic_epochs is not None:
            chosen &= number < mosaic_epochs
        return tf.cond(chosen, lambda: tiled(index, draws), lambda: padded(index))

    def one_epoch(number):
        def example(index):
            index = tf.cast(index, tf.int64)
            stream = tf.stack([tf.constant(seed, tf.int64), number * count + index])
            image, image_boxes, image_classes = augment_detection(
                *mosaic_or_not(index, stream, number), stream, **augmentation
            )
            target = tf.numpy_function(
                encode, [image_boxes, image_classes], tf.float32, stateful=False
            )
            target.set_shape(target_shape)
            return image, target

        order = epoch_shuffled_indices(count, seed, number)
        examples = order.map(example, num_parallel_calls=AUTOTUNE)
        return examples.batch(batch_size)

    return every_epoch(epoch, one_epoch)
