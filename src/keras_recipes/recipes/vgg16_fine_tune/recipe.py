"""The `VGG16FineTune` recipe: the last conv block of a base, with a trained top.

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

import contextlib
import time

import keras
import numpy as np

from keras_recipes.data.image_files import SkippedFiles
from keras_recipes.data.multi_crop import crop_load_size, predict_ten_crop
from keras_recipes.distribution import batch_function
from keras_recipes.epoch_seeding import EpochSeeding
from keras_recipes.errors import ConfigError
from keras_recipes.figures import plot_history, plot_image_grid
from keras_recipes.models.transfer import freeze_base, top_model, transfer_model
from keras_recipes.models.transfer_approaches import approach_trainable_from
from keras_recipes.optimizers import build_optimizer
from keras_recipes.recipes.classification import ClassifierRecipe
from keras_recipes.recipes.vgg16_bottleneck.base import (
    build_frozen_base,
    make_preprocessing,
)
from keras_recipes.recipes.vgg16_bottleneck.config import channels_of
from keras_recipes.recipes.vgg16_bottleneck.data import (
    feature_datasets,
    load_splits,
)
from keras_recipes.recipes.vgg16_bottleneck.features import (
    extract_splits,
    feature_cache,
)
from keras_recipes.recipes.vgg16_bottleneck.recipe import VGG16Bottleneck
from keras_recipes.recipes.vgg16_fine_tune.config import VGG16FineTuneConfig
from keras_recipes.recipes.vgg16_fine_tune.data import fine_tune_data
from keras_recipes.recipes.vgg16_fine_tune.model import load_top_run, trainable_copy
from keras_recipes.run_files import read_history

TOP_HISTORY_FILE = "top_history.csv"
PREVIEW_IMAGES = 8
PREVIEW_COPIES = 5


class VGG16FineTune(ClassifierRecipe):
    """Fine-tunes the last block of a pretrained base together with a trained top.

    `build_data` builds the frozen base (so a missing ImageNet download stops
    the run before any work), reads the images into augmented datasets, and,
    when the top is to be trained here first, gets the training and
    validation features from the `vgg16_bottleneck` feature cache.
    `build_model` makes a trainable copy of the base, frozen up to
    `fine_tune.trainable_from` (the approach's choice: block5 for VGG16),
    and joins preprocessing, base and top (from `fine_tune.top_run`, or a
    new one); `fit` trains that top on the features first if asked, then
    fine-tunes with the config's slow optimizer.

    Example:

    ```python
    from keras_recipes import load_config
    from keras_recipes.recipes import VGG16FineTune

    config = load_config("vgg16_fine_tune", {"fine_tune.top_run": "runs/x/1"})
    result = VGG16FineTune(config).run()
    ```
    """

    name = "vgg16_fine_tune"
    config_class = VGG16FineTuneConfig
    quick = {
        **VGG16Bottleneck.quick,
        "fine_tune.top_epochs": 1,
        "train.epochs": 1,
    }

    def build_data(self):
        """Returns the `FineTuneData`: images, the frozen base, top features."""
        config = self.config
        frozen = build_frozen_base(config, self.dtype_policy)
        skipped = SkippedFiles(skip_bad=config.data.skip_bad_files)
        splits, class_names = load_splits(config, skipped)
        top_data = None
        if not config.fine_tune.top_run and config.fine_tune.train_top_first:
            start = time.perf_counter()
            cache = feature_cache(config, self.runs_root)
            names = ("train", "validation")
            extraction = extract_splits(config, frozen, cache, splits, names)
            seconds = time.perf_counter() - start
            self.timings["feature_extraction_seconds"] = round(seconds, 4)
            features = extraction.features
            labels = {name: splits[name].labels for name in features}
            top_data = feature_datasets(
                config, self.epoch, features, labels, class_names
            )
        data = fine_tune_data(config, self.epoch, splits, class_names, frozen, top_data)
        data.skipped_files = skipped
        return data

    def build_model(self, data):
        """Returns preprocessing, the partly trainable base and the top, joined."""
        config = self.config
        base = trainable_copy(data.frozen.base)
        try:
            trainable_from = approach_trainable_from(
                config.approach, base, config.fine_tune.trainable_from
            )
            trainable = freeze_base(base, trainable_from)
        except ValueError as error:
            raise ConfigError(f"fine_tune.trainable_from: {error}") from None
        feature_shape = tuple(base.output.shape[1:])
        if config.fine_tune.top_run:
            top = load_top_run(config, feature_shape, data.class_names)
        else:
            top = top_model(
                feature_shape,
                len(data.class_names),
                pooling=config.model.pooling,
                units=config.model.units,
                dropout=config.model.dropout,
            )
        print(
            f"fine-tuning {len(trainable)} of the base's {len(base.layers)} "
            f"layers (from {trainable[0] if trainable else 'none'}) and the top",
            flush=True,
        )
        preprocessing = make_preprocessing(data.frozen.preprocessing_name)
        return transfer_model(base, top, preprocessing, name=self.name)

    def fit(self, model, data, callbacks, initial_epoch=0):
        """Trains the top on bottleneck features first if asked, then fine-tunes."""
        # A resumed run gets its top back from the backup, if it got that far.
        resumed = self.resume and (self.run_dir / "backup").is_dir()
        if data.top_data is not None and not resumed:
            self.train_top(model.get_layer("top"), data.top_data)
        return super().fit(model, data, callbacks, initial_epoch=initial_epoch)

    def train_top(self, top, data):
        """Trains the top model on cached features, with early stopping.

        Args:
            top: The top model inside the model to fine-tune.
            data: The `Datasets` of features.

        Returns:
            The `keras.callbacks.History`; the epochs are also written to
            `top_history.csv`.
        """
        fine_tune = self.config.fine_tune
        scope = self.strategy.scope() if self.strategy else contextlib.nullcontext()
        with scope:
            top.compile(
                optimizer=build_optimizer(
                    fine_tune.top_optimizer, data.steps_per_epoch, fine_tune.top_epochs
                ),
                loss=self.build_loss(data),
                metrics=self.build_metrics(data),
                **self.compile_options(),
            )
        callbacks = [
            EpochSeeding(self.config.seed, self.epoch),
            keras.callbacks.CSVLogger(str(self.run_dir / TOP_HISTORY_FILE)),
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
            validation_steps=self.config.train.validation_steps,
            callbacks=callbacks,
        )

    def evaluate(self, model, data):
        """Returns the fine-tuned model's test metrics and confusion.

        Args:
            model: The fine-tuned classifier.
            data: The `FineTuneData`.

        Returns:
            A `ClassifierEvaluation` whose metrics add the ten-crop accuracy
            (with `evaluation.ten_crop`) and the count of trainable weights.
        """
        evaluation = super().evaluate(model, data)
        split = evaluation.split
        if split is None:
            return evaluation
        metrics = evaluation.metrics
        if self.config.evaluation.ten_crop:
            metrics[f"{split}_accuracy_ten_crop"] = self.ten_crop_accuracy(
                model, data.images[split]
            )
        metrics["trainable_weights"] = int(
            sum(np.prod(w.shape) for w in model.trainable_weights)
        )
        return evaluation

    def ten_crop_accuracy(self, model, images):
        """Returns the accuracy of `model` averaged over the crops of each image.

        Args:
            model: The classifier, from raw images to probabilities.
            images: The split's `LabelledImages`.

        Returns:
            The accuracy, a float.
        """
        settings = self.config.evaluation
        size = tuple(self.config.data.image_size)
        load_size = crop_load_size(size, settings.crop_fraction)
        crops = images.dataset(load_size, channels_of(self.config.data)).batch(
            self.config.train.batch_size
        )
        averaged, labels = predict_ten_crop(
            batch_function(model), crops, size, settings.flip
        )
        return float(np.mean(averaged.argmax(-1) == labels))

    def figures(self, model, data, history, evaluation):
        """Adds the top's first training curves and the augmentation preview."""
        super().figures(model, data, history, evaluation)
        top_history = read_history(self.run_dir / TOP_HISTORY_FILE)
        if top_history:
            plot_history(top_history, self.figure_path("top_training_curves.png"))
        if data.augmenter is not None:
            size = tuple(self.config.data.image_size)
            train = data.images["train"].dataset(size, channels_of(self.config.data))
            images = np.stack([x.numpy() for x, _ in train.take(PREVIEW_IMAGES)])
            rows = [images] + [
                data.augmenter(images, training=True).numpy()
                for _ in range(PREVIEW_COPIES)
            ]
            grid = np.stack(rows, axis=1).reshape(-1, *images.shape[1:])
            plot_image_grid(
                grid,
                self.figure_path("augmentation_preview.png"),
                columns=PREVIEW_COPIES + 1,
            )
