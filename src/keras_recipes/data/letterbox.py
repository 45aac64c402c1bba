"""Letterboxing: an image scaled to fit a size without stretching, then padded.

Stretching every photo to a square input changes the shapes of its objects
by up to its aspect ratio; a letterboxed image keeps them and fills the rest
with grey. The placement is computed in float64 with round-half-to-even, the
same in NumPy (for boxes) and in TensorFlow (for pixels), so the boxes land
exactly on the resized pixels.
"""

import numpy as np
import tensorflow as tf

# The grey of the padding (Ultralytics' value).
LETTERBOX_FILL = 114


def letterbox_placement(height, width, image_size):
    """Returns where an image goes when letterboxed into `image_size`.

    The image is scaled by `min(H / height, W / width)`, its sides rounded
    to whole pixels, and centred (the odd pixel of padding goes below and to
    the right).

    Args:
        height: The image's height in pixels.
        width: The image's width in pixels.
        image_size: `(H, W)` of the letterboxed image.

    Returns:
        A tuple of ints `(new_height, new_width, top, left)`.

    Example:

    >>> letterbox_placement(100, 200, (96, 96))
    (48, 96, 24, 0)
    """
    target_height, target_width = (int(side) for side in image_size)
    scale = min(target_height / float(height), target_width / float(width))
    new_height = min(max(int(round(height * scale)), 1), target_height)
    new_width = min(max(int(round(width * scale)), 1), target_width)
    return (
        new_height,
        new_width,
        (target_height - new_height) // 2,
        (target_width - new_width) // 2,
    )


def letterbox_boxes(boxes, height, width, image_size):
    """Moves `"xyxy"` boxes from an image's pixels to its letterboxed pixels.

    Args:
        boxes: Array `[..., 4]` of boxes in the original image's pixels.
        height: The original image's height.
        width: The original image's width.
        image_size: `(H, W)` of the letterboxed image.

    Returns:
        A float32 array of the same shape.

    Example:

    >>> letterbox_boxes(np.array([[0.0, 0.0, 200.0, 100.0]]), 100, 200, (96, 96))
    array([[ 0., 24., 96., 72.]], dtype=float32)
    """
    scale, offset = _box_transform(height, width, image_size)
    return (np.asarray(boxes, "float64") * scale + offset).astype("float32")


def unletterbox_boxes(boxes, height, width, image_size):
    """Moves `"xyxy"` boxes from letterboxed pixels back to the original's.

    The inverse of `letterbox_boxes`; boxes are not clipped.

    Args:
        boxes: Array `[..., 4]` of boxes in the letterboxed image's pixels.
        height: The original image's height.
        width: The original image's width.
        image_size: `(H, W)` of the letterboxed image.

    Returns:
        A float32 array of the same shape.

    Example:

    >>> unletterbox_boxes(np.array([[0.0, 24.0, 96.0, 72.0]]), 100, 200, (96, 96))
    array([[  0.,   0., 200., 100.]], dtype=float32)
    """
    scale, offset = _box_transform(height, width, image_size)
    return ((np.asarray(boxes, "float64") - offset) / scale).astype("float32")


def _box_transform(height, width, image_size):
    """The scale and offset of `"xyxy"` coordinates under letterboxing."""
    new_height, new_width, top, left = letterbox_placement(height, width, image_size)
    scale = np.array([new_width / width, new_height / height] * 2)
    return scale, np.array([left, top] * 2)


def letterbox_pixels(image, image_size):
    """Letterboxes one image tensor into `image_size`, inside `tf.data`.

    Antialiased bilinear resizing to the sides `letterbox_placement` gives,
    then padding with `LETTERBOX_FILL`.

    Args:
        image: Float32 tensor `[height, width, channels]`, values in
            `[0, 255]`.
        image_size: `(H, W)` of the result.

    Returns:
        A float32 tensor `[H, W, channels]`.

    Example:

    ```python
    boxed = letterbox_pixels(tf.zeros((100, 200, 3)), (96, 96))  # [96, 96, 3]
    ```
    """
    target_height, target_width = (int(side) for side in image_size)
    shape = tf.cast(tf.shape(image)[:2], tf.float64)
    scale = tf.minimum(target_height / shape[0], target_width / shape[1])
    new_height = tf.cast(
        tf.clip_by_value(tf.round(shape[0] * scale), 1, target_height), tf.int32
    )
    new_width = tf.cast(
        tf.clip_by_value(tf.round(shape[1] * scale), 1, target_width), tf.int32
    )
    resized = tf.image.resize(image, tf.stack([new_height, new_width]), antialias=True)
    top = (target_height - new_height) // 2
    left = (target_width - new_width) // 2
    padded = tf.image.pad_to_bounding_box(
        resized - LETTERBOX_FILL, top, left, target_height, target_width
    )
    return padded + LETTERBOX_FILL
