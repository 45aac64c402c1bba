"""Small-data image classifier: a small CNN, strong augmentation, early stopping.

Run it with `python -m keras_recipes run small_data_classifier` or
`python -m keras_recipes.recipes.small_data_classifier --set train.epochs=5`.
"""

import dataclasses
import sys
from typing import Literal

import numpy as np
import tensorflow as tf

from keras_recipes.config import RecipeConfig, param, section
from keras_recipes.data.augmentation import (
    AugmentationConfig,
    augment_batches,
    build_augmentation,
)
from keras_recipes.data.digits import load_digits, split_validation
from keras_recipes.data.image_folder import (
    files_dataset,
    find_splits,
    scan_class_folder,
)
from keras_recipes.data.source_checks import check_folder_source, check_image_size
from keras_recipes.epoch_seeding import epoch_shuffled_indices, every_epoch
from keras_recipes.errors import ConfigError
from keras_recipes.figures import plot_image_grid
from keras_recipes.models.classifier import small_cnn
from keras_recipes.recipes.classification import (
    confusion_counts,
    plot_split_confusion,
    predict_classes,
    write_class_names,
)
from keras_recipes.registry import register
from keras_recipes.training import Datasets, Recipe

AUTOTUNE = tf.data.AUTOTUNE


@dataclasses.dataclass
class ClassifierDataConfig:
    """Where the images come from and how they are prepared."""

    source: Literal["digits", "folder"] = param(
        "digits", doc="digits (embedded) | folder (data.directory)"
    )
    directory: str | None = param(
        None, doc="Class subfolders, or train/ validation/ [test/] of them."
    )
    image_size: list[int] = param([8, 8], doc="Height and width fed to the model.")
    color_mode: Literal["grayscale", "rgb"] = param("grayscale")
    augmentation: AugmentationConfig = section(AugmentationConfig)

    def validate(self, key):
        check_image_size(key, self.image_size)
        check_folder_source(key, self.source, self.directory)
        if self.source == "digits" and self.color_mode != "grayscale":
            raise ConfigError(
                f"the digits are grayscale; set {key}.color_mode=grayscale "
                f"or use {key}.source=folder"
            )


@dataclasses.dataclass
class SmallCNNConfig:
    """Sizes of the small CNN."""

    filters: list[int] = param([32, 32, 64], doc="Filters per conv block.")
    kernel_size: int = param(3, minimum=1)
    dense_units: int = param(64, minimum=1)
    dropout: float = param(0.5, minimum=0, below=1)
    padding: Literal["same", "valid"] = param("same")


@dataclasses.dataclass
class SmallDataClassifierConfig(RecipeConfig):
    """Config of the `small_data_classifier` recipe."""

    recipe: str = param("small_data_classifier")
    data: ClassifierDataConfig = section(ClassifierDataConfig)
    model: SmallCNNConfig = section(SmallCNNConfig)


def _channels(data_config):
    return 1 if data_config.color_mode == "grayscale" else 3


@register
class SmallDataClassifier(Recipe):
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
    description = "Small CNN with augmentation for small image sets (digits, folders)."
    config_class = SmallDataClassifierConfig
    quick = {
        "train.epochs": 2,
        "data.image_size": [8, 8],
        "model.filters": [16],
        "model.dense_units": 32,
    }

    def build_data(self):
        data_config = self.config.data
        if data_config.source == "digits":
            splits, class_names = self._digits_splits()
        else:
            splits, class_names = self._folder_splits()
        size = tuple(data_config.image_size)
        channels = _channels(data_config)
        seed = self.config.seed
        self.augmenter = build_augmentation(
            data_config.augmentation, size, channels, seed=seed
        )
        batch_size = self.config.train.batch_size

        def one_epoch(number):
            order = epoch_shuffled_indices(splits["train_size"], seed, number)
            batches = splits["train"](batch_size, order)
            if self.augmenter is None:
                return batches
            return augment_batches(batches, self.augmenter, seed, number)

        evaluation = {
            name: splits[name](batch_size).prefetch(AUTOTUNE)
            if splits.get(name) is not None
            else None
            for name in ("validation", "test")
        }
        preview = next(iter(splits["train"](8)))[0].numpy()
        return Datasets(
            train=every_epoch(self.epoch, one_epoch).prefetch(AUTOTUNE),
            validation=evaluation["validation"],
            test=evaluation["test"],
            steps_per_epoch=self.config.train.steps_per_epoch
            or -(-splits["train_size"] // batch_size),
            input_shape=(*size, channels),
            class_names=class_names,
            random_layers=[self.augmenter] if self.augmenter is not None else [],
            info={"preview_images": preview},
        )

    def _digits_splits(self):
        """Returns functions from (batch size, index order) to batches, per split."""
        (x_train, y_train), (x_test, y_test), class_names = load_digits()
        size = tuple(self.config.data.image_size)
        if size != (8, 8):
            x_train = tf.image.resize(x_train, size).numpy()
            x_test = tf.image.resize(x_test, size).numpy()
        (x_fit, y_fit), (x_val, y_val) = split_validation(
            x_train, y_train, self.config.train.validation_split, self.config.seed
        )

        def arrays(x, y):
            if x is None:
                return None
            x, y = tf.constant(x), tf.constant(y)

            def dataset(batch_size, order=None):
                order = order or tf.data.Dataset.range(len(x))
                # One gather per batch: a tenth of the cost of one per image.
                return order.batch(batch_size).map(
                    lambda i: (tf.gather(x, i), tf.gather(y, i)),
                    num_parallel_calls=AUTOTUNE,
                    deterministic=True,
                )

            return dataset

        splits = {
            "train": arrays(x_fit, y_fit),
            "train_size": len(x_fit),
            "validation": arrays(x_val, y_val),
            "test": arrays(x_test, y_test),
        }
        return splits, class_names

    def _folder_splits(self):
        """Returns functions from (batch size, index order) to batches, per split."""
        data_config = self.config.data
        folders = find_splits(data_config.directory)
        class_names, train_files = scan_class_folder(folders["train"])
        files = {"train": train_files}
        for name in ("validation", "test"):
            if name in folders:
                files[name] = scan_class_folder(folders[name], class_names)[1]
        fraction = self.config.train.validation_split
        if "validation" not in folders and fraction > 0:
            labels = [label for _, label in train_files]
            (fit, _), (held, _) = split_validation(
                np.array(train_files, dtype=object), labels, fraction, self.config.seed
            )
            files["train"], files["validation"] = (
                list(map(tuple, fit)),
                list(map(tuple, held)),
            )
        size, channels = tuple(data_config.image_size), _channels(data_config)

        def reader(split_files):
            def dataset(batch_size, order=None):
                batches = files_dataset(split_files, size, channels, order)
                return batches.batch(batch_size)

            return dataset

        splits = {name: reader(split_files) for name, split_files in files.items()}
        splits["train_size"] = len(files["train"])
        return splits, class_names

    def build_model(self, data):
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

    def build_loss(self):
        return "sparse_categorical_crossentropy"

    def build_metrics(self):
        return ["accuracy"]

    def evaluate(self, model, data):
        metrics = super().evaluate(model, data)
        dataset = data.test if data.test is not None else data.validation
        if dataset is not None:
            labels = np.concatenate([y.numpy() for _, y in dataset])
            self.confusion = confusion_counts(
                labels, model.predict(dataset, verbose=0), len(data.class_names)
            )
        return metrics

    def export(self, model, data):
        super().export(model, data)
        write_class_names(self.run_dir, data.class_names)

    def figures(self, model, data, history):
        super().figures(model, data, history)
        if self.augmenter is not None:
            images = data.info["preview_images"]
            rows = [images]
            rows += [self.augmenter(images, training=True).numpy() for _ in range(7)]
            grid = np.stack(rows, axis=1).reshape(-1, *images.shape[1:])
            plot_image_grid(
                grid,
                self.figure_path("augmentation_preview.png"),
                columns=8,
                row_labels=[f"image {i + 1}" for i in range(len(images))],
            )
        plot_split_confusion(self, data)

    def predict(self, model, paths):
        """Returns `(path, class_name, probability)` for each image file."""
        return predict_classes(self.run_dir, model, paths)


if __name__ == "__main__":
    from keras_recipes.cli import main

    sys.exit(main(["run", SmallDataClassifier.name, *sys.argv[1:]]))
