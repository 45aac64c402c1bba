"""Transfer learning offline: pretrain on rendered letters, transfer to a few digits.

What a user without a GPU or the internet can run to see transfer learning
work. A small CNN learns the 52 letters rendered from the fonts matplotlib
ships (`keras_recipes.data.glyphs`, pooled to the digits' 8x8 format); its
convolutional part is saved as a base. Then, with only a handful of
labelled real handwritten digits per class, three stage runs share the same
few labels, the same validation images for early stopping and the same
held-out test images (the fixed test split of `load_digits`):

- `scratch`: the same network (base + top), randomly initialised, with the
  same augmentation and epoch budget: the fair baseline;
- `bottleneck`: a top trained on the frozen pretrained base's features
  (`vgg16_bottleneck` with `base.name` the saved base);
- `fine_tune`: that trained top and the base's last block trained together
  with a slow SGD and augmentation (`vgg16_fine_tune`).

With so few labels, which digits are drawn moves every accuracy by several
points, so the draw is repeated (`data.draws`, a seed each) and the
accuracies are averaged. Each stage of each draw is a full run directory
inside this run's (`draw_<k>/<stage>/`), and `metrics.json` puts the three
mean test accuracies side by side.

Run it with `python -m keras_recipes run transfer_digits`.
"""

import dataclasses
import sys

import numpy as np
import tensorflow as tf

from keras_recipes.config import (
    OptimizerConfig,
    RecipeConfig,
    param,
    resolve,
    section,
    to_dict,
)
from keras_recipes.data.augmentation import AugmentationConfig
from keras_recipes.data.digits import split_validation
from keras_recipes.data.glyphs import render_glyphs
from keras_recipes.data.labelled_images import LabelledImages
from keras_recipes.data.source_checks import check_image_size
from keras_recipes.epoch_seeding import epoch_shuffled_indices, every_epoch
from keras_recipes.errors import ConfigError
from keras_recipes.figures import plot_image_grid
from keras_recipes.models.classifier import small_cnn
from keras_recipes.models.transfer import cut_base
from keras_recipes.recipes.vgg16_bottleneck import (
    Approach,
    VGG16Bottleneck,
    VGG16BottleneckConfig,
)
from keras_recipes.recipes.vgg16_fine_tune import VGG16FineTune, VGG16FineTuneConfig
from keras_recipes.registry import register
from keras_recipes.saving import save_model_atomic
from keras_recipes.training import Datasets, Recipe

AUTOTUNE = tf.data.AUTOTUNE
STAGES = ("scratch", "bottleneck", "fine_tune")


@dataclasses.dataclass
class GlyphSourceConfig:
    """The large, diverse source: letters rendered from matplotlib's fonts."""

    samples_per_class: int = param(
        100, minimum=1, doc="Rendered images per letter (52 letters)."
    )
    seed: int = param(0, minimum=0, doc="Seed of the rendering.")
    validation_split: float = param(
        0.1, minimum=0, below=1, doc="Held out to early-stop pretraining."
    )


@dataclasses.dataclass
class FewDigitsConfig:
    """The target: a few labelled real digits per class."""

    labels_per_class: int = param(3, minimum=1, doc="Labelled training digits.")
    draws: int = param(
        3, minimum=1, doc="Draws of the labelled digits; accuracies are averaged."
    )
    validation_per_class: int = param(
        5, minimum=1, doc="Digits per class for early stopping (every stage)."
    )
    image_size: list[int] = param([8, 8], doc="Height and width (8: native).")
    augmentation: AugmentationConfig = section(AugmentationConfig)

    def validate(self, key):
        check_image_size(key, self.image_size, smallest=8)


@dataclasses.dataclass
class BaseCNNConfig:
    """The network: small-CNN blocks (the base), then the top."""

    filters: list[int] = param([32, 64], doc="Filters per conv block.")
    kernel_size: int = param(3, minimum=1)
    units: int = param(256, minimum=1, doc="Units of the top's hidden layer.")
    dropout: float = param(0.5, minimum=0, below=1)
    cut_layer: str = param("block2_pool", doc="Last layer of the saved base.")


def _optimizer(name, rate, momentum=0.0):
    return lambda: OptimizerConfig(name=name, learning_rate=rate, momentum=momentum)


@dataclasses.dataclass
class StagesConfig:
    """The three runs on the few digits: one budget, their own optimizers."""

    epochs: int = param(150, minimum=1, doc="Epoch budget of every stage.")
    patience: int = param(20, minimum=0, doc="Early stopping on val_loss.")
    batch_size: int = param(16, minimum=1)
    approach: Approach = param(
        "small_similar", doc="The transfer case: which blocks are fine-tuned."
    )
    scratch_optimizer: OptimizerConfig = dataclasses.field(
        default_factory=_optimizer("adam", 1e-3)
    )
    bottleneck_optimizer: OptimizerConfig = dataclasses.field(
        default_factory=_optimizer("adam", 1e-3)
    )
    fine_tune_optimizer: OptimizerConfig = dataclasses.field(
        default_factory=_optimizer("sgd", 1e-3, 0.9)
    )
    verbose: int = param(0, minimum=0, maximum=2, doc="Keras verbosity of stages.")


@dataclasses.dataclass
class TransferDigitsConfig(RecipeConfig):
    """Config of the `transfer_digits` recipe.

    `optimizer`, `train` and `callbacks` drive the pretraining on glyphs;
    `stages` drives the three runs on the digits.
    """

    recipe: str = param("transfer_digits")
    data: FewDigitsConfig = section(FewDigitsConfig)
    model: BaseCNNConfig = section(BaseCNNConfig)
    glyphs: GlyphSourceConfig = section(GlyphSourceConfig)
    stages: StagesConfig = section(StagesConfig)

    def validate(self, key):
        super().validate(key)
        if self.distribute.strategy in ("multi_worker", "tpu"):
            raise ConfigError(
                f"transfer_digits runs its stage recipes one after another in "
                f"one process, so distribute.strategy can be 'none' or "
                f"'mirrored'. Received: {self.distribute.strategy!r}"
            )


@register
class TransferDigits(Recipe):
    """Pretrains on rendered letters, then compares three ways to learn few digits.

    `build_data` renders the glyphs, `build_model` is the small CNN that
    learns them, and `fit` pretrains it, saves its cut base as
    `pretrained_base.keras` and, for each draw of the few labelled digits,
    runs the `bottleneck`, `fine_tune` and `scratch` stages as runs in
    `draw_<k>/` subfolders; `evaluate` reports the mean `scratch_accuracy`,
    `bottleneck_accuracy` and `fine_tune_accuracy` on the held-out digits.

    Example:

    ```python
    import keras_recipes

    result = keras_recipes.run("transfer_digits")
    print(result.metrics["fine_tune_accuracy"], result.metrics["scratch_accuracy"])
    ```
    """

    name = "transfer_digits"
    description = "Letters rendered from fonts -> a few real digits: transfer, offline."
    config_class = TransferDigitsConfig
    quick = {
        "glyphs.samples_per_class": 10,
        "data.draws": 1,
        "train.epochs": 2,
        "model.filters": [8, 16],
        "model.units": 32,
        "stages.epochs": 3,
        "stages.patience": 2,
    }

    def build_data(self):
        glyphs = self.config.glyphs
        images, labels, class_names = render_glyphs(
            samples_per_class=glyphs.samples_per_class, seed=glyphs.seed
        )
        held_out = round(glyphs.validation_split * len(labels))
        if 0 < held_out < len(class_names):
            raise ConfigError(
                f"glyphs.validation_split={glyphs.validation_split} holds out "
                f"{held_out} glyphs, fewer than the {len(class_names)} letters; "
                f"raise glyphs.samples_per_class or glyphs.validation_split"
            )
        (x_fit, y_fit), (x_val, y_val) = split_validation(
            images, labels, glyphs.validation_split, self.config.seed
        )
        size = tuple(self.config.data.image_size)
        batch_size = self.config.train.batch_size
        fit = LabelledImages(y_fit, arrays=x_fit)

        def one_epoch(number):
            order = epoch_shuffled_indices(len(fit), self.config.seed, number)
            return fit.dataset(size, 1, order).batch(batch_size)

        validation = None
        if x_val is not None:
            validation = (
                LabelledImages(y_val, arrays=x_val)
                .dataset(size, 1)
                .batch(batch_size)
                .prefetch(AUTOTUNE)
            )
        return Datasets(
            train=every_epoch(self.epoch, one_epoch).prefetch(AUTOTUNE),
            validation=validation,
            steps_per_epoch=self.config.train.steps_per_epoch
            or -(-len(fit) // batch_size),
            input_shape=(*size, 1),
            class_names=class_names,
            info={"glyph_images": x_fit[:16], "glyph_labels": y_fit[:16]},
        )

    def build_model(self, data):
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

    def build_loss(self):
        return "sparse_categorical_crossentropy"

    def build_metrics(self):
        return ["accuracy"]

    def fit(self, model, data, callbacks):
        """Pretrains on glyphs, saves the base, then runs the stages per draw."""
        history = super().fit(model, data, callbacks)
        base = cut_base(model, self.config.model.cut_layer, name="glyph_base")
        base_file = save_model_atomic(base, self.run_dir / "pretrained_base.keras")
        self.glyph_scores = (
            model.evaluate(data.validation, return_dict=True, verbose=0)
            if data.validation is not None
            else {}
        )
        self.draws = []
        for draw in range(self.config.data.draws):
            recipes, results = {}, {}
            for stage in ("bottleneck", "fine_tune", "scratch"):
                recipe = self.stage_recipe(stage, base_file, draw)
                print(f"draw {draw + 1}, stage {stage}: {recipe.run_dir}", flush=True)
                recipes[stage], results[stage] = recipe, recipe.run()
                accuracy = results[stage].metrics["test_accuracy"]
                print(f"draw {draw + 1}, stage {stage}: test accuracy {accuracy:.4f}")
            self.draws.append((recipes, results))
        return history

    def stage_recipe(self, stage, base_file, draw=0):
        """Returns one stage's recipe for one draw, in `<run>/draw_<k>/<stage>/`.

        Every stage of a draw has the same seed, so the same few labelled
        digits, validation digits and test digits.
        """
        data, stages, model = self.config.data, self.config.stages, self.config.model
        folder = self.run_dir / f"draw_{draw + 1}"
        overrides = {
            "seed": self.config.seed + draw,
            "approach": stages.approach,
            "data.source": "digits",
            "data.image_size": list(data.image_size),
            "data.color_mode": "grayscale",
            "data.labels_per_class": data.labels_per_class,
            "data.validation_per_class": data.validation_per_class,
            "base.name": str(base_file),
            "base.weights": "saved",
            "base.preprocessing": "none",
            "cache.directory": str(self.runs_root / "feature_cache"),
            "model.units": model.units,
            "model.dropout": model.dropout,
            "train.epochs": stages.epochs,
            "train.batch_size": stages.batch_size,
            "train.verbose": stages.verbose,
            "train.mixed_precision": self.config.train.mixed_precision,
            "train.jit_compile": self.config.train.jit_compile,
            "train.steps_per_execution": self.config.train.steps_per_execution,
            "distribute": to_dict(self.config.distribute),
            "callbacks.early_stopping.patience": stages.patience,
            "callbacks.model_checkpoint.enabled": False,
            "callbacks.tensorboard.enabled": False,
            "callbacks.backup_and_restore.enabled": False,
        }
        if stage == "bottleneck":
            overrides["optimizer"] = to_dict(stages.bottleneck_optimizer)
            config = resolve(VGG16BottleneckConfig, overrides=overrides)
            return VGG16Bottleneck(config, run_dir=folder / stage)
        overrides["data.augmentation"] = to_dict(data.augmentation)
        if stage == "fine_tune":
            overrides["optimizer"] = to_dict(stages.fine_tune_optimizer)
            overrides["fine_tune.top_run"] = str(folder / "bottleneck")
        else:
            overrides["optimizer"] = to_dict(stages.scratch_optimizer)
            overrides["base.weights"] = None  # the same network, random weights
            overrides["fine_tune.train_top_first"] = False
            overrides["fine_tune.trainable_from"] = 0
        config = resolve(VGG16FineTuneConfig, overrides=overrides)
        return VGG16FineTune(config, run_dir=folder / stage)

    def stage_accuracies(self):
        """Returns `{stage: [test accuracy of each draw]}`."""
        return {
            stage: [
                float(results[stage].metrics["test_accuracy"])
                for _, results in self.draws
            ]
            for stage in STAGES
        }

    def evaluate(self, model, data):
        """Returns each stage's mean test accuracy over the draws, and more."""
        metrics = {}
        for stage, accuracies in self.stage_accuracies().items():
            metrics[f"{stage}_accuracy"] = float(np.mean(accuracies))
            metrics[f"{stage}_accuracy_per_draw"] = accuracies
        if "accuracy" in self.glyph_scores:
            metrics["glyph_val_accuracy"] = float(self.glyph_scores["accuracy"])
        recipes, results = self.draws[0]
        splits = recipes["scratch"].splits
        metrics["draws"] = len(self.draws)
        metrics["labels_per_class"] = self.config.data.labels_per_class
        metrics["train_images"] = len(splits["train"])
        metrics["validation_images"] = len(splits["validation"])
        metrics["test_images"] = len(splits["test"])
        metrics["scratch_epochs_per_draw"] = [
            len(results["scratch"].history["loss"]) for _, results in self.draws
        ]
        return metrics

    def figures(self, model, data, history):
        super().figures(model, data, history)
        test_images = len(self.draws[0][0]["scratch"].splits["test"])
        plot_accuracies(
            self.stage_accuracies(),
            self.figure_path("transfer_accuracy.png"),
            title=f"{self.config.data.labels_per_class} labelled digits per class, "
            f"{test_images} test digits, {len(self.draws)} draw(s)",
        )
        few = self.draws[0][0]["scratch"].splits["train"]
        order = np.argsort(few.labels, kind="stable")[:24]
        plot_image_grid(
            np.concatenate([data.info["glyph_images"], few.arrays[order]]),
            self.figure_path("glyphs_and_digits.png"),
            titles=[f"glyph {data.class_names[i]}" for i in data.info["glyph_labels"]]
            + [f"digit {few.labels[i]}" for i in order],
            columns=8,
        )


def plot_accuracies(accuracies, path, title="test accuracy"):
    """Draws one bar per stage at its mean accuracy, with a dot per draw.

    Args:
        accuracies: `dict` of stage name to a list of accuracies in [0, 1],
            one per draw of the labelled images.
        path: PNG file to write.
        title: Figure title. Defaults to `"test accuracy"`.

    Returns:
        `path`.

    Example:

    ```python
    plot_accuracies({"scratch": [0.74, 0.78], "bottleneck": [0.83, 0.8]}, "a.png")
    ```
    """
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5.5, 3.8))
    names = list(accuracies)
    means = [float(np.mean(accuracies[name])) for name in names]
    colors = ["#999999", "#4c72b0", "#dd8452"][: len(names)]
    axis.bar(names, means, color=colors, alpha=0.85)
    for index, name in enumerate(names):
        values = accuracies[name]
        axis.plot([index] * len(values), values, "k.", markersize=6)
        top = max(max(values), means[index])
        axis.text(index, top + 0.02, f"{means[index]:.3f}", ha="center")
    axis.set_ylim(0, 1.05)
    axis.set_ylabel("test accuracy (bar: mean, dots: draws)")
    axis.set_title(title, fontsize=10)
    axis.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


if __name__ == "__main__":
    from keras_recipes.cli import main

    sys.exit(main(["run", TransferDigits.name, *sys.argv[1:]]))
