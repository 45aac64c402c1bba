"""The `glyph_pretraining` recipe: a small CNN learns 52 rendered letters."""

import dataclasses

import numpy as np
import tensorflow as tf

from keras_recipes.data.digits import split_validation
from keras_recipes.data.glyphs import render_glyphs
from keras_recipes.data.labelled_images import LabelledImages
from keras_recipes.epoch_seeding import epoch_shuffled_indices, every_epoch
from keras_recipes.errors import ConfigError
from keras_recipes.figures import plot_image_grid
from keras_recipes.models.classifier import small_cnn
from keras_recipes.models.transfer import cut_base
from keras_recipes.recipes.transfer_digits.config import GlyphPretrainingConfig
from keras_recipes.saving import save_model_atomic
from keras_recipes.training import Datasets, Recipe

AUTOTUNE = tf.data.AUTOTUNE
# The network cut after `model.cut_layer`: what the stage runs transfer.
PRETRAINED_BASE_FILE = "pretrained_base.keras"
EXAMPLES = 16


@dataclasses.dataclass
class GlyphData(Datasets):
    """The glyph batches, and a few training glyphs to show.

    Attributes:
        examples: The first training glyphs, `[16, H, W, 1]`, for
            `glyphs.png`.
        example_labels: Their classes.

    Example:

    ```python
    data = GlyphPretraining().build_data()
    [data.class_names[i] for i in data.example_labels]
    ```
    """

    examples: np.ndarray | None = None
    example_labels: np.ndarray | None = None


class GlyphPretraining(Recipe):
    """Trains a small CNN on letters rendered from fonts and saves its base.

    The letters come from `keras_recipes.data.glyphs` in the digits' 8x8
    format; `train.validation_split` of them is held out for early
    stopping. Besides the classifier (`model.keras`), the run saves its
    convolutional part up to `model.cut_layer` as `pretrained_base.keras`,
    the base `transfer_digits` transfers to the digits.

    Example:

    ```python
    from keras_recipes.config import resolve

    config = resolve(GlyphPretrainingConfig, overrides={"train.epochs": 2})
    result = GlyphPretraining(config).run()
    base_file = result.run_dir / "pretrained_base.keras"
    ```
    """

    name = "glyph_pretraining"
    config_class = GlyphPretrainingConfig
    quick = {
        "data.samples_per_class": 10,
        "train.epochs": 2,
        "model.filters": [8, 16],
        "model.units": 32,
    }

    def build_data(self):
        """Renders the glyphs and holds out `train.validation_split` of them.

        Returns:
            The `GlyphData`: training batches epoch after epoch, validation
            batches, and a few training glyphs to show.
        """
        glyphs = self.config.data
        images, labels, class_names = render_glyphs(
            samples_per_class=glyphs.samples_per_class, seed=glyphs.seed
        )
        (x_fit, y_fit), (x_val, y_val) = split_validation(
            images, labels, self.config.train.validation_split, self.config.seed
        )
        size = tuple(glyphs.image_size)
        batch_size = self.config.train.batch_size
        fit = LabelledImages(y_fit, arrays=x_fit)
        seed = self.config.seed

        def one_epoch(number):
            order = epoch_shuffled_indices(len(fit), seed, number)
            return fit.dataset(size, 1, order).batch(batch_size)

        validation = None
        if x_val is not None:
            validation = (
                LabelledImages(y_val, arrays=x_val)
                .dataset(size, 1)
                .batch(batch_size)
                .prefetch(AUTOTUNE)
            )
        return GlyphData(
            train=every_epoch(self.epoch, one_epoch).prefetch(AUTOTUNE),
            validation=validation,
            steps_per_epoch=self.config.train.steps_per_epoch
            or -(-len(fit) // batch_size),
            input_shape=(*size, 1),
            class_names=class_names,
            examples=x_fit[:EXAMPLES],
            example_labels=y_fit[:EXAMPLES],
        )

    def build_model(self, data):
        """Returns the small CNN, checking that `model.cut_layer` is in it.

        Args:
            data: What `build_data` returned.

        Returns:
            The uncompiled `keras.Model`, `glyph_cnn`.
        """
        model_config = self.config.model
        try:
            model = small_cnn(
                input_shape=data.input_shape,
                num_classes=len(data.class_names),
                filters=tuple(model_config.filters),
                kernel_size=model_config.kernel_size,
                dense_units=model_config.units,
                dropout=model_config.dropout,
                name="glyph_cnn",
            )
            cut_base(model, model_config.cut_layer)
        except ValueError as error:
            raise ConfigError(f"model: {error}") from None
        return model

    def build_loss(self, data):
        """Returns the sparse categorical cross-entropy."""
        return "sparse_categorical_crossentropy"

    def build_metrics(self, data):
        """Returns the accuracy."""
        return ["accuracy"]

    def export(self, model, data, evaluation):
        """Saves the classifier, and its base as `pretrained_base.keras`.

        The base is saved whatever the `export` section says: it is what the
        pretraining is for.

        Args:
            model: The trained model.
            data: What `build_data` returned.
            evaluation: What `evaluate` returned.
        """
        super().export(model, data, evaluation)
        base = cut_base(model, self.config.model.cut_layer, name="glyph_base")
        save_model_atomic(base, self.run_dir / PRETRAINED_BASE_FILE)

    def figures(self, model, data, history, evaluation):
        """Draws the training curves and a few training glyphs (`glyphs.png`).

        Args:
            model: The trained model.
            data: What `build_data` returned.
            history: Metric name to per-epoch values, over the whole run.
            evaluation: What `evaluate` returned.
        """
        super().figures(model, data, history, evaluation)
        plot_image_grid(
            data.examples,
            self.figure_path("glyphs.png"),
            titles=[f"glyph {data.class_names[i]}" for i in data.example_labels],
            columns=8,
        )
