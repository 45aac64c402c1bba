"""What a trained run's convnet has learned, drawn into its figures/."""

import keras
import numpy as np

from keras_recipes.api import load_run
from keras_recipes.errors import UserError
from keras_recipes.seeding import set_seed
from keras_recipes.visualize.patches import top_patches
from keras_recipes.visualize.plots import plot_filters, plot_unit_patches


def conv_layer_names(model):
    """Returns the names of a model's `Conv2D` layers, input side first.

    Args:
        model: A `keras.Model`.

    Returns:
        A list of layer names.

    Example:

    ```python
    conv_layer_names(small_cnn(filters=(8, 8)))  # ["block1_conv", "block2_conv"]
    ```
    """
    return [
        layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)
    ]


def dataset_images(data, max_images=2000):
    """Returns up to `max_images` model inputs from a recipe's `Datasets`.

    The test split is used, else the validation split, else the training one.

    Args:
        data: A `Datasets`.
        max_images: Images returned at most. Defaults to `2000`.

    Returns:
        Array `[N, H, W, C]`.

    Example:

    ```python
    images = dataset_images(recipe.build_data(), max_images=500)
    ```
    """
    dataset = next(
        split for split in (data.test, data.validation, data.train) if split is not None
    )
    if dataset is data.train:
        dataset = dataset.take(data.steps_per_epoch)  # it may never end
    batches, count = [], 0
    for batch in dataset:
        inputs = batch[0] if isinstance(batch, tuple) else batch
        batches.append(np.asarray(inputs, dtype="float32"))
        count += len(batches[-1])
        if count >= max_images:
            break
    return np.concatenate(batches)[:max_images]


def visualize_run(run_dir, layer_names=None, top_k=9, max_images=2000):
    """Draws a run's first-layer filters and each layer's top-activating patches.

    Loads the run's model and data the way the run built them, then writes
    `figures/filters_<layer>.png` for the first convolution layer and
    `figures/top_patches_<layer>.png` for each of `layer_names`.

    Args:
        run_dir: A finished run directory with a `model.keras`, e.g. of
            `small_data_classifier`.
        layer_names: Layers to draw, or `None` for every `Conv2D` layer.
            Defaults to `None`.
        top_k: Patches per unit. Defaults to `9`.
        max_images: Images searched at most. Defaults to `2000`.

    Returns:
        A `dict` from layer name to its `UnitPatches`; the figures are in
        the run's `figures/`.

    Example:

    ```python
    found = visualize_run("runs/small_data_classifier/20260101-000000")
    found["block1_conv"].patches.shape  # (32, 9, 3, 3, 1)
    ```
    """
    recipe, model = load_run(run_dir)
    convolutions = conv_layer_names(model)
    if not convolutions:
        raise UserError(f"the model of {run_dir} has no Conv2D layer to visualise")
    known = [layer.name for layer in model.layers]
    layer_names = list(layer_names or convolutions)
    for name in layer_names:
        if name not in known:
            raise UserError(
                f"the model of {run_dir} has no layer '{name}' (its layers: "
                f"{', '.join(known)})"
            )
    set_seed(recipe.config.seed)
    images = dataset_images(recipe.build_data(), max_images)
    low, high = float(images.min()), float(images.max())
    first = model.get_layer(convolutions[0])
    plot_filters(
        first.kernel.numpy(),
        recipe.figure_path(f"filters_{first.name}.png"),
        title=f"{first.name} filters",
    )
    found = {}
    for name in layer_names:
        try:
            found[name] = top_patches(model, name, images, top_k=top_k)
        except ValueError as error:
            raise UserError(f"cannot visualise layer '{name}': {error}") from None
        plot_unit_patches(
            found[name],
            recipe.figure_path(f"top_patches_{name}.png"),
            value_range=(low, high),
        )
    return found
