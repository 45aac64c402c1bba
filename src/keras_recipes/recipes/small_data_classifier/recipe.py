"""The `SmallDataClassifier` recipe: a small CNN trained on augmented images.

Run it with `python -m keras_recipes run small_data_classifier` or
`python -m keras_recipes.recipes.small_data_classifier --set train.epochs=5`.
"""

import numpy as np

from keras_recipes.errors import ConfigError
from keras_recipes.figures import plot_image_grid
from keras_recipes.models.classifier import small_cnn
from keras_recipes.recipes.classification import ClassifierRecipe
from keras_recipes.recipes.small_data_classifier.config import (
    SmallDataClassifierConfig,
)
from keras_recipes.recipes.small_data_classifier.data import build_augmented_images

PREVIEW_COPIES = 7


class SmallDataClassifier(ClassifierRecipe):
    """Trains a small CNN with augmentation on a few thousand images or fewer.

    The data is the embedded handwritten digits or a folder of class
    subfolders; augmentation runs in the `tf.data` pipeline, one
    `RandomImageAugmentation` call per batch. Reports `test_accuracy` on the
    held-out split and draws training curves, an augmentation preview and a
    confusion matrix.

    Example:

    ```python
    from keras_recipes import load_config
    from keras_recipes.recipes import SmallDataClassifier

    config = load_config("small_data_classifier", {"train.epochs": 5})
    result = SmallDataClassifier(config).run()
    ```
    """

    name = "small_data_classifier"
    config_class = SmallDataClassifierConfig
    quick = {
        "train.epochs": 2,
        "data.image_size": [8, 8],
        "model.filters": [16],
        "model.dense_units": 32,
    }

    def build_data(self):
        """Returns the `AugmentedImages` of the digits or of a folder."""
        return build_augmented_images(self.config, self.epoch)

    def build_model(self, data):
        """Returns the small CNN for `data`'s images and classes."""
        model_config = self.config.model
        try:
            return small_cnn(
                input_shape=data.input_shape,
                num_classes=len(data.class_names),
                filters=tuple(model_config.filters),
                kernel_size=model_config.kernel_size,
                dense_units=model_config.dense_units,
                dropout=model_config.dropout,
                padding=model_config.padding,
            )
        except ValueError as error:
            raise ConfigError(f"model: {error}") from None

    def figures(self, model, data, history, evaluation):
        """Draws the training curves, confusion matrix and augmentation preview."""
        super().figures(model, data, history, evaluation)
        if data.augmenter is not None:
            plot_augmentation_preview(
                data.augmenter,
                data.preview_images,
                self.figure_path("augmentation_preview.png"),
                labels=data.preview_labels,
            )


def plot_augmentation_preview(
    augmenter, images, path, copies=PREVIEW_COPIES, labels=None
):
    """Draws each image next to augmented copies of it, one image a row.

    The first column, framed, holds the original images; each row is
    labelled with its image's class.

    Args:
        augmenter: The augmentation layer.
        images: Un-augmented images, `[N, height, width, channels]`.
        path: PNG file to write.
        copies: Augmented copies per image. Defaults to `7`.
        labels: The class name of each image, or `None`. Defaults to
            `None`.

    Returns:
        `path`.

    Example:

    ```python
    plot_augmentation_preview(data.augmenter, data.preview_images, "preview.png")
    ```
    """
    rows = [images]
    rows += [augmenter(images, training=True).numpy() for _ in range(copies)]
    grid = np.stack(rows, axis=1).reshape(-1, *images.shape[1:])
    if labels is None:
        row_labels = [f"image {i + 1}" for i in range(len(images))]
    else:
        row_labels = [f"class {label}" for label in labels]
    plot_image_grid(
        grid,
        path,
        columns=copies + 1,
        row_labels=row_labels,
        column_labels=["original", *(f"augmented {i + 1}" for i in range(copies))],
        title=f"Augmentation preview: {len(images)} random training images "
        f"(across classes), each with {copies} augmented copies",
        framed_column=0,
    )
    return path
