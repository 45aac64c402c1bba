"""Fine-tuning the last conv block of VGG16 on top of a trained top model.

The second step of the Keras blog post "Building powerful image
classification models using very little data": start from a top model
already trained on the base's bottleneck features (a `vgg16_bottleneck` run,
or trained here first from the same feature cache), freeze the base up to
its last conv block, and train that block and the top together with a slow
learning rate (SGD 1e-4, momentum 0.9) and augmentation. Starting from a
trained top matters: a random top sends large gradients into the base and
wrecks the features it learned. The base is called with `training=False`,
so a base with BatchNormalization keeps its statistics (the Keras
transfer-learning guide).

Run it with `python -m keras_recipes run vgg16_fine_tune` or
`python -m keras_recipes.recipes.vgg16_fine_tune --set fine_tune.top_run=RUN`.
"""

import dataclasses
import sys
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_recipes.config import OptimizerConfig, param, read_yaml, section
from keras_recipes.data.augmentation import (
    AugmentationConfig,
    augment_batches,
    build_augmentation,
)
from keras_recipes.data.multi_crop import crop_load_size, predict_ten_crop
from keras_recipes.epoch_seeding import (
    EpochSeeding,
    epoch_shuffled_indices,
    every_epoch,
)
from keras_recipes.errors import ConfigError
from keras_recipes.figures import plot_history, plot_image_grid
from keras_recipes.models.transfer import freeze_base, top_model, transfer_model
from keras_recipes.models.transfer_approaches import approach_trainable_from
from keras_recipes.optimizers import build_optimizer
from keras_recipes.recipes.classification import confusion_counts, write_class_names
from keras_recipes.recipes.vgg16_bottleneck import (
    TransferDataConfig,
    VGG16Bottleneck,
    VGG16BottleneckConfig,
    _channels,
)
from keras_recipes.registry import register
from keras_recipes.training import Datasets, Recipe, read_history

AUTOTUNE = tf.data.AUTOTUNE


@dataclasses.dataclass
class FineTuneDataConfig(TransferDataConfig):
    """The images, and the augmentation used while fine-tuning."""

    augmentation: AugmentationConfig = section(AugmentationConfig)


@dataclasses.dataclass
class FineTuneConfig:
    """Where the top comes from and how much of the base trains."""

    top_run: str | None = param(
        None,
        doc="A vgg16_bottleneck run directory whose trained top (top.keras) to "
        "start from; null: train the top here first, on cached features.",
    )
    train_top_first: bool = param(
        True,
        doc="With no top_run: train the top on bottleneck features first "
        "(false starts from a random top, as a from-scratch baseline does).",
    )
    top_epochs: int = param(50, minimum=1, doc="Epochs of that first top training.")
    top_optimizer: OptimizerConfig = section(OptimizerConfig)
    trainable_from: int | str | None = param(
        None,
        doc="First trainable layer of the base: a layer name, a block (block5), "
        "or a count of frozen leading layers (0 trains all); null: the "
        "approach's choice (the last block).",
    )


def _sgd_slow():
    return OptimizerConfig(name="sgd", learning_rate=1e-4, momentum=0.9)


@dataclasses.dataclass
class VGG16FineTuneConfig(VGG16BottleneckConfig):
    """Config of the `vgg16_fine_tune` recipe."""

    recipe: str = param("vgg16_fine_tune")
    data: FineTuneDataConfig = section(FineTuneDataConfig)
    optimizer: OptimizerConfig = dataclasses.field(default_factory=_sgd_slow)
    fine_tune: FineTuneConfig = section(FineTuneConfig)


@register
class VGG16FineTune(VGG16Bottleneck):
    """Fine-tunes the last block of a pretrained base together with a trained top.

    `build_data` builds the base, gets the top (from `fine_tune.top_run`, or
    trains it first on cached bottleneck features) and returns augmented
    image datasets; `build_model` freezes the base up to
    `fine_tune.trainable_from` (the approach's choice: block5 for VGG16) and
    joins preprocessing, base and top; `compile` uses the slow optimizer of
    the config.

    Example:

    ```python
    from keras_recipes import load_config
    from keras_recipes.recipes import VGG16FineTune

    config = load_config("vgg16_fine_tune", {"fine_tune.top_run": "runs/x/1"})
    result = VGG16FineTune(config).run()
    ```
    """

    name = "vgg16_fine_tune"
    description = "Fine-tune the last conv block of VGG16 (or any base) and the top."
    config_class = VGG16FineTuneConfig
    quick = {
        **VGG16Bottleneck.quick,
        "fine_tune.top_epochs": 1,
        "train.epochs": 1,
    }

    def build_data(self):
        self.prepare_base()
        self.splits, class_names = self.load_splits()
        fine_tune = self.config.fine_tune
        try:
            self.trainable_from = approach_trainable_from(
                self.config.approach, self.base, fine_tune.trainable_from
            )
        except ValueError as error:
            raise ConfigError(f"fine_tune.trainable_from: {error}") from None
        self.top = self.load_top_run(class_names) if fine_tune.top_run else None
        self.top_data = None
        if self.top is None and fine_tune.train_top_first:
            names = ("train", "validation")
            self.top_data = self.feature_datasets(
                self.extract_splits(self.splits, names), class_names
            )
        return self.image_datasets(class_names)

    def load_top_run(self, class_names):
        """Returns the trained top of a `vgg16_bottleneck` run, checked to fit."""
        run = Path(self.config.fine_tune.top_run).expanduser()
        top_file, config_file = run / "top.keras", run / "config.yaml"
        if not top_file.is_file() or not config_file.is_file():
            raise ConfigError(
                f"fine_tune.top_run={run} has no top.keras and config.yaml; give "
                f"a finished vgg16_bottleneck run directory, or null to train the "
                f"top here"
            )
        trained = read_yaml(config_file)
        for key in ("name", "weights", "preprocessing"):
            theirs = trained.get("base", {}).get(key)
            if theirs != getattr(self.config.base, key):
                raise ConfigError(
                    f"fine_tune.top_run={run} trained its top on base.{key}="
                    f"{theirs} but this run has base.{key}="
                    f"{getattr(self.config.base, key)}; use the same base"
                )
        top = keras.saving.load_model(top_file, compile=False)
        wanted = tuple(self.base.output.shape[1:])
        if tuple(top.input_shape[1:]) != wanted:
            raise ConfigError(
                f"the top of fine_tune.top_run={run} takes features "
                f"{tuple(top.input_shape[1:])} but this base gives {wanted}; "
                f"use the same base.cut_layer and data.image_size"
            )
        if top.output_shape[-1] != len(class_names):
            raise ConfigError(
                f"the top of fine_tune.top_run={run} has {top.output_shape[-1]} "
                f"classes but the data has {len(class_names)}"
            )
        return top

    def image_datasets(self, class_names):
        """Returns batched image `Datasets`, the training ones augmented."""
        data_config = self.config.data
        size, channels = tuple(data_config.image_size), _channels(data_config)
        batch_size = self.config.train.batch_size
        self.augmenter = build_augmentation(
            data_config.augmentation, size, channels, seed=self.config.seed
        )
        train_split, seed = self.splits["train"], self.config.seed

        def one_epoch(number):
            order = epoch_shuffled_indices(len(train_split), seed, number)
            batches = train_split.dataset(size, channels, order).batch(batch_size)
            if self.augmenter is None:
                return batches
            return augment_batches(batches, self.augmenter, seed, number)

        batched = {
            name: self.splits[name].dataset(size, channels).batch(batch_size)
            if self.splits.get(name) is not None
            else None
            for name in ("validation", "test")
        }
        return Datasets(
            train=every_epoch(self.epoch, one_epoch).prefetch(AUTOTUNE),
            validation=batched["validation"],
            test=batched["test"],
            steps_per_epoch=self.config.train.steps_per_epoch
            or -(-len(train_split) // batch_size),
            input_shape=(*size, channels),
            class_names=class_names,
            random_layers=[self.augmenter] if self.augmenter is not None else [],
        )

    def build_model(self, data):
        top = self.top
        if top is None:
            model_config = self.config.model
            top = top_model(
                tuple(self.base.output.shape[1:]),
                len(data.class_names),
                pooling=model_config.pooling,
                units=model_config.units,
                dropout=model_config.dropout,
            )
        self.top = top
        try:
            self.trainable_layers = freeze_base(self.base, self.trainable_from)
        except ValueError as error:
            raise ConfigError(f"fine_tune.trainable_from: {error}") from None
        print(
            f"fine-tuning {len(self.trainable_layers)} of the base's "
            f"{len(self.base.layers)} layers (from "
            f"{self.trainable_layers[0] if self.trainable_layers else 'none'}) "
            f"and the top",
            flush=True,
        )
        return transfer_model(self.base, top, self.preprocessing, name=self.name)

    def fit(self, model, data, callbacks):
        """Trains the top on bottleneck features first if needed, then fine-tunes."""
        # A resumed run gets its top back from the backup, if it got that far.
        resumed = self.resume and (self.run_dir / "backup").is_dir()
        if self.top_data is not None and not resumed:
            self.train_top(self.top, self.top_data)
        return super().fit(model, data, callbacks)

    def train_top(self, top, data):
        """Trains the top model on cached features, with early stopping."""
        fine_tune = self.config.fine_tune
        top.compile(
            optimizer=build_optimizer(
                fine_tune.top_optimizer, data.steps_per_epoch, fine_tune.top_epochs
            ),
            loss=self.build_loss(),
            metrics=self.build_metrics(),
            **self.compile_options(),
        )
        callbacks = [
            EpochSeeding(self.config.seed, self.epoch),
            keras.callbacks.CSVLogger(str(self.run_dir / "top_history.csv")),
        ]
        stop = self.config.callbacks.early_stopping
        if stop.enabled and data.validation is not None:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor=stop.monitor,
                    mode=stop.mode,
                    patience=stop.patience,
                    restore_best_weights=stop.restore_best_weights,
                )
            )
        print(f"training the top on bottleneck features first ({top.name})")
        return self.fit_model(
            top,
            data.train,
            validation=data.validation,
            epochs=fine_tune.top_epochs,
            steps_per_epoch=data.steps_per_epoch,
            callbacks=callbacks,
        )

    def evaluate(self, model, data):
        """Returns test metrics of the fine-tuned model (and ten-crop ones)."""
        metrics = Recipe.evaluate(self, model, data)
        split = "test" if data.test is not None else "validation"
        dataset = data.test if data.test is not None else data.validation
        if dataset is None:
            return metrics
        labels = self.splits[split].labels
        self.confusion = confusion_counts(
            labels, model.predict(dataset, verbose=0), len(data.class_names)
        )
        evaluation = self.config.evaluation
        if evaluation.ten_crop:
            size = tuple(self.config.data.image_size)
            load_size = crop_load_size(size, evaluation.crop_fraction)
            crops = (
                self.splits[split]
                .dataset(load_size, _channels(self.config.data))
                .batch(self.config.train.batch_size)
            )
            averaged, _ = predict_ten_crop(
                model.predict_on_batch, crops, size, evaluation.flip
            )
            metrics[f"{split}_accuracy_ten_crop"] = float(
                np.mean(averaged.argmax(-1) == labels)
            )
        metrics["trainable_weights"] = int(
            sum(np.prod(w.shape) for w in model.trainable_weights)
        )
        return metrics

    def export(self, model, data):
        """Saves the fine-tuned classifier as `model.keras`, and `classes.json`."""
        Recipe.export(self, model, data)
        write_class_names(self.run_dir, data.class_names)

    def figures(self, model, data, history):
        super().figures(model, data, history)
        top_history = read_history(self.run_dir / "top_history.csv")
        if top_history:
            plot_history(top_history, self.figure_path("top_training_curves.png"))
        if self.augmenter is not None:
            size = tuple(self.config.data.image_size)
            train = self.splits["train"].dataset(size, _channels(self.config.data))
            images = np.stack([x.numpy() for x, _ in train.take(8)])
            rows = [images] + [
                self.augmenter(images, training=True).numpy() for _ in range(5)
            ]
            grid = np.stack(rows, axis=1).reshape(-1, *images.shape[1:])
            plot_image_grid(
                grid, self.figure_path("augmentation_preview.png"), columns=6
            )


if __name__ == "__main__":
    from keras_recipes.cli import main

    sys.exit(main(["run", VGG16FineTune.name, *sys.argv[1:]]))
