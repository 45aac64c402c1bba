"""Mosaic: four training images tiled 2x2, one image-sized window cut out."""

import tensorflow as tf

from keras_recipes.detection.augmentation import keep_visible


def mosaic(images, boxes, classes, seed):
    """Tiles four images 2x2 and cuts out a window that holds the seam.

    The window has the size of one image and its top-left corner is drawn
    uniformly from the top-left image, so every window holds the point where
    the four images meet and shows a part of each (all of one at the
    extremes). The window's offset is a whole number of pixels: the pixels
    are copied, not resampled. The boxes move with their images, are clipped
    to the window and are dropped (class set to -1) when less than
    `MIN_VISIBLE_FRACTION` of their area stays inside, as in
    `augment_detection`.

    Args:
        images: Float tensor `[4, height, width, 3]`; placed top-left,
            top-right, bottom-left, bottom-right.
        boxes: Float tensor `[4, M, 4]` of each image's `"xyxy"` boxes in
            pixels.
        classes: Int tensor `[4, M]`; entries of -1 are padding.
        seed: Int tensor of shape `[2]` for the stateless random draws.

    Returns:
        `(image, boxes, classes)`: the window `[height, width, 3]`, boxes
        `[4 * M, 4]` and classes `[4 * M]`, image by image in the order given.

    Example:

    ```python
    image, boxes, classes = mosaic(images, boxes, classes, [42, 7])
    ```
    """
    images = tf.convert_to_tensor(images, tf.float32)
    boxes = tf.convert_to_tensor(boxes, tf.float32)
    classes = tf.convert_to_tensor(classes, tf.int32)
    height, width = tf.shape(images)[1], tf.shape(images)[2]
    canvas = tf.concat(
        [
            tf.concat([images[0], images[1]], axis=1),
            tf.concat([images[2], images[3]], axis=1),
        ],
        axis=0,
    )
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2)
    top = tf.random.stateless_uniform([], seeds[0], 0, height + 1, tf.int32)
    left = tf.random.stateless_uniform([], seeds[1], 0, width + 1, tf.int32)
    window = tf.slice(canvas, tf.stack([top, left, 0]), tf.stack([height, width, -1]))
    tile_x = tf.cast(tf.stack([0, width, 0, width]) - left, tf.float32)
    tile_y = tf.cast(tf.stack([0, 0, height, height]) - top, tf.float32)
    shift = tf.stack([tile_x, tile_y, tile_x, tile_y], axis=-1)
    moved = tf.reshape(boxes + shift[:, None, :], [-1, 4])
    kept_boxes, kept_classes = keep_visible(
        moved,
        tf.reshape(classes, [-1]),
        tf.cast(height, tf.float32),
        tf.cast(width, tf.float32),
    )
    return window, kept_boxes, kept_classes
