"""Random flips, zooms, shifts and colour changes that move boxes with pixels."""

import tensorflow as tf
from keras import ops

# Boxes keeping less than this fraction of their area inside the image after a
# zoom or shift are dropped: too little of the object is left to find.
MIN_VISIBLE_FRACTION = 0.4
_FILL_VALUE = 127.0


def augment_detection(
    image,
    boxes,
    classes,
    seed,
    flip=True,
    scale=0.25,
    translate=0.1,
    hue=0.03,
    saturation=0.3,
    brightness=0.15,
    contrast=0.3,
):
    """Randomly transforms one image and its boxes, the same for both.

    The image is mirrored left to right with probability 1/2, zoomed by a
    factor drawn from `[1 - scale, 1 + scale]` about its centre and shifted by
    up to `translate` of its size (uncovered pixels are grey); the boxes
    follow, are clipped to the image and are dropped (class set to -1) when
    less than 40% of their area stays inside. Hue, saturation, brightness
    and contrast then change by random amounts. Every draw comes from the
    stateless `seed`, so the result is a pure function of the inputs.

    Args:
        image: Float tensor `[height, width, 3]` with values in [0, 255].
        boxes: Float tensor `[M, 4]` of `"xyxy"` boxes in pixels.
        classes: Int tensor `[M]`; entries of -1 are padding.
        seed: Int tensor of shape `[2]` for the stateless random ops.
        flip: Mirror half of the images. Defaults to `True`.
        scale: Largest relative zoom in or out. Defaults to `0.25`.
        translate: Largest shift, as a fraction of the image size.
            Defaults to `0.1`.
        hue: Largest hue change (fraction of the colour circle).
            Defaults to `0.03`.
        saturation: Largest relative saturation change. Defaults to `0.3`.
        brightness: Largest brightness change, as a fraction of 255.
            Defaults to `0.15`.
        contrast: Largest relative contrast change. Defaults to `0.3`.

    Returns:
        `(image, boxes, classes)` transformed, same shapes and types.

    Example:

    ```python
    image, boxes, classes = augment_detection(image, boxes, classes, [42, 7])
    ```
    """
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 8)
    image = tf.convert_to_tensor(image, tf.float32)
    boxes = tf.convert_to_tensor(boxes, tf.float32)
    classes = tf.convert_to_tensor(classes, tf.int32)
    height = tf.cast(tf.shape(image)[0], tf.float32)
    width = tf.cast(tf.shape(image)[1], tf.float32)
    if flip:
        mirror = tf.random.stateless_uniform([], seed=seeds[0]) < 0.5
        image = tf.where(mirror, tf.reverse(image, axis=[1]), image)
        flipped = tf.stack(
            [width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], -1
        )
        boxes = tf.where(mirror, flipped, boxes)
    if scale or translate:
        zoom = tf.random.stateless_uniform([], seeds[1], 1 - scale, 1 + scale)
        shift = tf.random.stateless_uniform([2], seeds[2], -translate, translate)
        offset_x = (1 - zoom) * width / 2 + shift[0] * width
        offset_y = (1 - zoom) * height / 2 + shift[1] * height
        # The transform maps each output pixel back to the input pixel it shows.
        transform = tf.stack(
            [1 / zoom, 0.0, -offset_x / zoom, 0.0, 1 / zoom, -offset_y / zoom, 0.0, 0.0]
        )
        image = ops.image.affine_transform(
            image, transform, fill_mode="constant", fill_value=_FILL_VALUE
        )
        moved = boxes * zoom + tf.stack([offset_x, offset_y, offset_x, offset_y])
        boxes, classes = keep_visible(moved, classes, height, width)
    image = image / 255.0
    if hue:
        image = tf.image.stateless_random_hue(image, hue, seeds[3])
    if saturation:
        image = tf.image.stateless_random_saturation(
            image, 1 - saturation, 1 + saturation, seeds[4]
        )
    if brightness:
        image = tf.image.stateless_random_brightness(image, brightness, seeds[5])
    if contrast:
        image = tf.image.stateless_random_contrast(
            image, 1 - contrast, 1 + contrast, seeds[6]
        )
    image = tf.clip_by_value(image, 0.0, 1.0) * 255.0
    return image, boxes, classes


def keep_visible(boxes, classes, height, width):
    """Clips moved boxes to the image and drops those mostly outside it.

    A box keeps its class when at least `MIN_VISIBLE_FRACTION` of its area
    stays inside the image; otherwise (or when it has no area) its class
    becomes -1, the padding value.

    Args:
        boxes: Float tensor `[M, 4]` of `"xyxy"` boxes in pixels, after a
            transform that may have moved them partly or wholly outside.
        classes: Int tensor `[M]`; entries of -1 are padding.
        height: The image height in pixels, a float scalar.
        width: The image width in pixels, a float scalar.

    Returns:
        `(boxes, classes)`: the boxes clipped to the image and the classes
        with the dropped boxes set to -1.

    Example:

    ```python
    boxes, classes = keep_visible(moved, classes, 96.0, 96.0)
    ```
    """
    clipped = tf.clip_by_value(boxes, 0.0, tf.stack([width, height] * 2))
    area = _area(boxes)
    visible = _area(clipped) >= MIN_VISIBLE_FRACTION * tf.maximum(area, 1e-6)
    return clipped, tf.where(visible & (area > 0), classes, -1)


def _area(boxes):
    sizes = tf.maximum(boxes[:, 2:] - boxes[:, :2], 0.0)
    return sizes[:, 0] * sizes[:, 1]
