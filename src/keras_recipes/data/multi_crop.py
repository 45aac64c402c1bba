"""Test-time multi-crop: average a model's predictions over ten crops.

The evaluation of the ImageNet papers (AlexNet, VGG): load each test image a
little larger than the model's input, take the four corner crops and the
centre crop at the input size, and their mirror images, and average the ten
predicted class distributions. It reduces the error of a model trained with
random crops and flips by a point or two, at ten times the inference cost.
"""

import numpy as np
import tensorflow as tf


def crop_load_size(image_size, crop_fraction=0.875):
    """Returns the size to load images at so a crop of `crop_fraction` fits.

    Args:
        image_size: `(height, width)` of the model's input (the crops).
        crop_fraction: Side of a crop over the side of the loaded image;
            `0.875` is ImageNet's 224 out of 256. Defaults to `0.875`.

    Returns:
        `(height, width)` to load the images at.

    Example:

    ```python
    crop_load_size((224, 224))  # (256, 256)
    ```
    """
    if not 0 < crop_fraction <= 1:
        raise ValueError(
            f"crop_fraction must be in (0, 1]. Received: crop_fraction={crop_fraction}"
        )
    return tuple(int(round(side / crop_fraction)) for side in image_size)


def ten_crop(images, crop_size, flip=True):
    """Returns the four corner crops and the centre crop, and their mirrors.

    Args:
        images: Batch `[B, H, W, C]`, at least `crop_size`.
        crop_size: `(height, width)` of the crops.
        flip: Add the left-right mirror of each crop (ten crops); without it,
            five. Defaults to `True`.

    Returns:
        A tensor `[B, crops, height, width, C]`, the crops in the order
        top-left, top-right, bottom-left, bottom-right, centre, then the same
        mirrored.

    Example:

    ```python
    crops = ten_crop(images, (224, 224))  # images of 256x256
    ```
    """
    images = tf.convert_to_tensor(images)
    height, width = int(images.shape[1]), int(images.shape[2])
    crop_height, crop_width = (int(s) for s in crop_size)
    if crop_height > height or crop_width > width:
        raise ValueError(
            f"crop_size must fit in the images of {height}x{width}. "
            f"Received: crop_size={tuple(crop_size)}"
        )
    bottom, right = height - crop_height, width - crop_width
    corners = [
        (0, 0),
        (0, right),
        (bottom, 0),
        (bottom, right),
        (bottom // 2, right // 2),
    ]
    crops = [
        images[:, top : top + crop_height, left : left + crop_width, :]
        for top, left in corners
    ]
    if flip:
        crops += [tf.reverse(crop, axis=[2]) for crop in crops]
    return tf.stack(crops, axis=1)


def predict_ten_crop(predict, dataset, crop_size, flip=True):
    """Averages a classifier's probabilities over the crops of each image.

    Args:
        predict: A function from a batch of images `[B, h, w, C]` to class
            probabilities `[B, K]`, e.g. `model.predict_on_batch`.
        dataset: A batched dataset of `(images, labels)`, the images at
            `crop_load_size(crop_size, fraction)`.
        crop_size: `(height, width)` of the crops, the model's input size.
        flip: Use the mirrored crops too. Defaults to `True`.

    Returns:
        `(probabilities, labels)`: the averaged probabilities `[N, K]` and
        the labels `[N]`.

    Example:

    ```python
    probabilities, labels = predict_ten_crop(model.predict_on_batch, test, (32, 32))
    accuracy = np.mean(probabilities.argmax(-1) == labels)
    ```
    """
    averaged, labels = [], []
    for images, batch_labels in dataset:
        crops = ten_crop(images, crop_size, flip)
        count, per_image = int(crops.shape[0]), int(crops.shape[1])
        flat = tf.reshape(crops, (count * per_image, *crops.shape[2:]))
        probabilities = np.asarray(predict(flat))
        averaged.append(probabilities.reshape(count, per_image, -1).mean(axis=1))
        labels.append(np.asarray(batch_labels))
    return np.concatenate(averaged), np.concatenate(labels)
