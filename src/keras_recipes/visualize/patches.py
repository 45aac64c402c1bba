"""The image patches that most activate each unit of a layer."""

import dataclasses

import keras
import numpy as np

from keras_recipes.visualize.receptive_field import receptive_field


@dataclasses.dataclass
class UnitPatches:
    """The top patches of every unit of one layer.

    Attributes:
        layer_name: The layer.
        field: Its `ReceptiveField`.
        patches: Array `[units, k, size, size, channels]`: per unit, the
            receptive-field patches of its `k` strongest activations,
            strongest first, cut from the input images (zero outside them).
        activations: Array `[units, k]`, the activation of each patch.
        image_indices: Array `[units, k]`, the image each patch comes from.
        positions: Array `[units, k, 2]`, the unit's `(row, column)` there.
    """

    layer_name: str
    field: object
    patches: np.ndarray
    activations: np.ndarray
    image_indices: np.ndarray
    positions: np.ndarray


def layer_activations(model, layer_name, images, batch_size=256):
    """Returns a layer's output for images, computed batch by batch.

    Args:
        model: A `keras.Model` with `layer_name` in its layers.
        layer_name: The layer.
        images: Array `[N, H, W, C]` of model inputs.
        batch_size: Images per batch. Defaults to `256`.

    Returns:
        Array `[N, h, w, units]`.

    Example:

    ```python
    layer_activations(model, "block1_conv", x_test).shape  # (N, 16, 16, 32)
    ```
    """
    probe = keras.Model(model.inputs, model.get_layer(layer_name).output)
    activations = probe.predict(images, batch_size=batch_size, verbose=0)
    return np.asarray(activations, dtype="float32")


def _cut(images, top, left, size):
    """Cuts `size` x `size` windows, zero outside the images."""
    count, height, width, channels = images.shape
    pad = size  # a window reaches at most `size - 1` pixels outside
    padded = np.zeros((count, height + 2 * pad, width + 2 * pad, channels), "float32")
    padded[:, pad : pad + height, pad : pad + width] = images
    return np.stack(
        [
            padded[i, row + pad : row + pad + size, col + pad : col + pad + size]
            for i, row, col in zip(range(count), top, left, strict=True)
        ]
    )


def top_patches(model, layer_name, images, top_k=9, batch_size=256):
    """Finds the `top_k` image patches that most activate each unit of a layer.

    For each unit (channel) the strongest response over each image's
    positions is taken, then the `top_k` images with the strongest ones, so
    the patches come from different images; each patch is the unit's
    receptive field at that position, as in Zeiler and Fergus's figures.

    Args:
        model: A chain-shaped `keras.Model`, e.g. a run's `small_cnn`.
        layer_name: A convolution (or other image-to-image) layer.
        images: Array `[N, H, W, C]` of model inputs, `N >= top_k`.
        top_k: Patches per unit. Defaults to `9`.
        batch_size: Images per forward batch. Defaults to `256`.

    Returns:
        A `UnitPatches`.

    Example:

    ```python
    found = top_patches(model, "block1_conv", x_test)
    found.patches.shape  # (32, 9, 3, 3, 1)
    ```

    Reference:

    - [Zeiler and Fergus, 2013](https://arxiv.org/abs/1311.2901)
    """
    images = np.asarray(images, dtype="float32")
    if top_k < 1 or len(images) < top_k:
        raise ValueError(
            f"top_k must be between 1 and the number of images ({len(images)}). "
            f"Received: top_k={top_k}"
        )
    field = receptive_field(model, layer_name)
    outputs = layer_activations(model, layer_name, images, batch_size)
    count, height, width, units = outputs.shape
    flat = outputs.reshape(count, height * width, units)
    best_position = flat.argmax(axis=1)  # [N, units]
    best_value = flat.max(axis=1)
    # Stable sort: ties keep the lower image index, so results are repeatable.
    order = np.argsort(-best_value, axis=0, kind="stable")[:top_k].T  # [units, k]
    unit_index = np.arange(units)[:, None]
    activations = best_value[order, unit_index]
    position = best_position[order, unit_index]
    rows, columns = np.divmod(position, width)
    top, left = field.window(rows, columns)
    patches = _cut(images[order.ravel()], top.ravel(), left.ravel(), field.size)
    return UnitPatches(
        layer_name=layer_name,
        field=field,
        patches=patches.reshape(units, top_k, *patches.shape[1:]),
        activations=activations,
        image_indices=order,
        positions=np.stack([rows, columns], axis=-1),
    )
