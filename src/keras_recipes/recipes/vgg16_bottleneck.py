"""VGG16 bottleneck features: run a frozen base once, train a small top on its output.

The first step of the Keras blog post "Building powerful image
classification models using very little data": VGG16 without its
classifier turns each image into a feature map once; the maps are cached on
disk (keyed by everything that changes them), and a small top model
(FLATTEN -> DENSE 256 -> DROPOUT 0.5 -> DENSE) trains on them in seconds.
Any `keras.applications` base, or a local `.keras`/`.h5` model cut at a named
layer, works the same way.

Run it with `python -m keras_recipes run vgg16_bottleneck` or
`python -m keras_recipes.recipes.vgg16_bottleneck --set data.directory=DATA`.
"""

import dataclasses
import sys
import time
from pathlib import Path
from typing import Literal

import keras
import numpy as np
import tensorflow as tf

from keras_recipes.config import RecipeConfig, param, section
from keras_recipes.data.digits import load_digits, split_validation
from keras_recipes.data.feature_cache import (
    FeatureCache,
    array_fingerprint,
    extract_features,
    weights_fingerprint,
)
from keras_recipes.data.image_folder import find_splits, scan_class_folder
from keras_recipes.data.labelled_images import LabelledImages, select_per_class
from keras_recipes.data.multi_crop import crop_load_size, ten_crop
from keras_recipes.data.source_checks import check_folder_source, check_image_size
from keras_recipes.epoch_seeding import epoch_shuffled_indices, every_epoch
from keras_recipes.errors import ConfigError, DataError
from keras_recipes.models.transfer import (
    ApplicationPreprocessing,
    cut_base,
    top_model,
    transfer_model,
)
from keras_recipes.models.transfer_approaches import APPROACHES, approach_cut_layer
from keras_recipes.recipes.classification import (
    confusion_counts,
    plot_split_confusion,
    predict_classes,
    write_class_names,
)
from keras_recipes.registry import register
from keras_recipes.saving import save_model_atomic
from keras_recipes.training import Datasets, Recipe
from keras_recipes.weights import application_names, build_application

AUTOTUNE = tf.data.AUTOTUNE
MODEL_FILE_SUFFIXES = (".keras", ".h5")
Approach = Literal[
    "small_similar", "small_different", "large_similar", "large_different"
]


def is_model_file(name):
    """Returns whether a base name is a model file rather than an application.

    Args:
        name: The `base.name` setting.

    Returns:
        `True` for a name ending in `.keras` or `.h5`.

    Example:

    ```python
    is_model_file("runs/x/base.keras")  # True
    ```
    """
    return str(name).lower().endswith(MODEL_FILE_SUFFIXES)


@dataclasses.dataclass
class TransferDataConfig:
    """Where the images come from, their size, and how many labels to keep."""

    source: Literal["folder", "digits"] = param(
        "folder", doc="folder (data.directory) | digits (embedded, offline tries)"
    )
    directory: str | None = param(
        None, doc="Class subfolders, or train/ validation/ [test/] of them."
    )
    image_size: list[int] = param([150, 150], doc="Height and width fed to the base.")
    color_mode: Literal["rgb", "grayscale"] = param(
        "rgb", doc="keras.applications bases take rgb."
    )
    labels_per_class: int | None = param(
        None, minimum=1, doc="Keep only this many training images per class."
    )
    validation_per_class: int | None = param(
        None,
        minimum=1,
        doc="Without a validation/ folder: validation images per class taken "
        "from the training images (default: train.validation_split of them).",
    )

    def validate(self, key):
        check_image_size(key, self.image_size)
        check_folder_source(
            key,
            self.source,
            self.directory,
            "class subfolders, or train/ and validation/ of them",
        )


@dataclasses.dataclass
class BaseConfig:
    """The pretrained base: which network, which weights, where to cut it."""

    name: str = param(
        "VGG16",
        doc="A keras.applications model (VGG16, ResNet50, ...) or a "
        ".keras/.h5 model file.",
    )
    weights: str | None = param(
        "imagenet",
        doc="imagenet (Keras downloads them) | saved (a model file's own) | "
        "null (random, for tests and baselines) | a local weights file.",
    )
    cut_layer: str | None = param(
        None, doc="Last layer kept (e.g. block4_pool); null: the approach's choice."
    )
    preprocessing: str = param(
        "auto",
        doc="auto (the application's preprocess_input; none for a model file) "
        "| none | an application name.",
    )

    def validate(self, key):
        model_file = is_model_file(self.name)
        if model_file and self.weights == "imagenet":
            raise ConfigError(
                f"{key}.weights is 'imagenet' but {key}.name is a model file "
                f"({self.name}); set {key}.weights=saved for its own weights, "
                f"null for random ones, or a weights file"
            )
        if not model_file and self.weights == "saved":
            raise ConfigError(
                f"{key}.weights=saved needs {key}.name to be a .keras/.h5 model "
                f"file. Received: name={self.name}"
            )
        known = {name.lower() for name in application_names()} | {"auto", "none"}
        if self.preprocessing.lower() not in known:
            raise ConfigError(
                f"{key}.preprocessing must be auto, none or one of "
                f"{', '.join(application_names())}. Received: {self.preprocessing}"
            )


@dataclasses.dataclass
class FeatureCacheConfig:
    """Where bottleneck features are cached and how data files are recognised."""

    enabled: bool = param(True)
    directory: str | None = param(None, doc="Default: <runs root>/feature_cache.")
    fingerprint: Literal["stat", "content"] = param(
        "stat",
        doc="stat (paths, sizes, modification times) | content (file hashes).",
    )


@dataclasses.dataclass
class TopConfig:
    """The top model trained on the base's features."""

    pooling: Literal["flatten", "avg", "max"] = param(
        "flatten", doc="flatten (the blog's) | avg | max (global pooling)."
    )
    units: int = param(256, minimum=1, doc="Units of the hidden dense layer.")
    dropout: float = param(0.5, minimum=0, below=1)


@dataclasses.dataclass
class EvaluationConfig:
    """Test-time options."""

    ten_crop: bool = param(
        False, doc="Also report test accuracy averaged over ten crops per image."
    )
    crop_fraction: float = param(
        0.875, minimum=0.5, maximum=1, doc="Crop side over loaded side (224/256)."
    )
    flip: bool = param(
        True, doc="Mirrored crops too (ten); false gives five (digits, text)."
    )


@dataclasses.dataclass
class VGG16BottleneckConfig(RecipeConfig):
    """Config of the `vgg16_bottleneck` recipe."""

    recipe: str = param("vgg16_bottleneck")
    approach: Approach = param(
        "small_similar",
        doc="small_similar | small_different | large_similar | large_different: "
        "data size x likeness to the base's data; sets the cut (and fine-tuned "
        "blocks). See keras_recipes.models.transfer_approaches.",
    )
    data: TransferDataConfig = section(TransferDataConfig)
    model: TopConfig = section(TopConfig)
    base: BaseConfig = section(BaseConfig)
    cache: FeatureCacheConfig = section(FeatureCacheConfig)
    evaluation: EvaluationConfig = section(EvaluationConfig)


def _channels(data_config):
    return 1 if data_config.color_mode == "grayscale" else 3


@register
class VGG16Bottleneck(Recipe):
    """Trains a small top model on cached features of a frozen pretrained base.

    `build_data` builds the base first (so a missing ImageNet download stops
    the run before any work), reads the images, and extracts each split's
    features once through the `FeatureCache`; `build_model` is the top
    model, trained on the features. The exported `model.keras` is the whole
    classifier (preprocessing, base and top) taking raw images; `top.keras`
    is the top alone, for `vgg16_fine_tune`.

    Example:

    ```python
    from keras_recipes import load_config
    from keras_recipes.recipes import VGG16Bottleneck

    config = load_config("vgg16_bottleneck", {"data.directory": "data/cats"})
    result = VGG16Bottleneck(config).run()
    ```
    """

    name = "vgg16_bottleneck"
    description = "Frozen VGG16 (or any base) features, cached; a small top on them."
    config_class = VGG16BottleneckConfig
    # Offline: random VGG16 weights on the embedded digits, 32x32.
    quick = {
        "data.source": "digits",
        "data.image_size": [32, 32],
        "data.labels_per_class": 3,
        "data.validation_per_class": 2,
        "base.weights": None,
        "model.units": 16,
        "train.epochs": 2,
    }

    def build_data(self):
        self.prepare_base()
        self.splits, class_names = self.load_splits()
        features = self.extract_splits(self.splits)
        return self.feature_datasets(features, class_names)

    # The base.

    def prepare_base(self):
        """Builds the cut base, its preprocessing, extractor and cache key."""
        base_config = self.config.base
        data_config = self.config.data
        size, channels = tuple(data_config.image_size), _channels(data_config)
        if is_model_file(base_config.name):
            whole = self._load_model_file(size, channels)
        else:
            whole = self._build_application(size, channels)
        try:
            self.cut_layer = approach_cut_layer(
                self.config.approach, whole, base_config.cut_layer
            )
            self.base = cut_base(whole, self.cut_layer)
        except ValueError as error:
            raise ConfigError(f"base.cut_layer: {error}") from None
        self.preprocessing_name = self._preprocessing_name()
        self.preprocessing = (
            ApplicationPreprocessing(self.preprocessing_name, name="preprocessing")
            if self.preprocessing_name != "none"
            else None
        )
        inputs = keras.Input((*size, channels), name="image")
        x = self.preprocessing(inputs) if self.preprocessing is not None else inputs
        self.extractor = keras.Model(
            inputs, self.base(x, training=False), name="extractor"
        )
        self.base_key = {
            "base": self._base_identity(),
            "weights": self._weights_identity(),
            "cut_layer": self.cut_layer,
            "input_shape": [*size, channels],
            "preprocessing": self.preprocessing_name,
            # bfloat16 features differ from float32 ones in the third digit.
            "dtype_policy": self.dtype_policy,
        }
        advice = APPROACHES[self.config.approach].advice
        print(
            f"approach {self.config.approach}: {advice}; base cut after "
            f"{self.cut_layer or 'its last layer'}",
            flush=True,
        )
        return self.base

    def _build_application(self, size, channels):
        if channels != 3:
            raise ConfigError(
                f"keras.applications bases take RGB images; set "
                f"data.color_mode=rgb (base.name={self.config.base.name})"
            )
        try:
            return build_application(
                self.config.base.name,
                weights=self.config.base.weights,
                input_shape=(*size, 3),
                include_top=False,
                weights_key="base.weights",
            )
        except ValueError as error:
            raise ConfigError(
                f"base.name={self.config.base.name} with data.image_size="
                f"{list(size)}: {str(error).splitlines()[0]}"
            ) from None

    def _load_model_file(self, size, channels):
        base_config = self.config.base
        path = Path(base_config.name).expanduser()
        if not path.is_file():
            raise DataError(
                f"base model file not found: {path} (check base.name, or give a "
                f"keras.applications name such as VGG16)"
            )
        try:
            whole = keras.saving.load_model(path, compile=False)
        except Exception as error:  # Keras raises many types for a bad file
            raise DataError(
                f"cannot load the base model {path}: {str(error)[:200]}"
            ) from None
        if base_config.weights is None:
            whole = keras.models.clone_model(whole)  # same layers, new weights
        elif base_config.weights != "saved":
            weights = Path(base_config.weights).expanduser()
            if not weights.is_file():
                raise DataError(f"weights file not found: {weights} (base.weights)")
            try:
                whole.load_weights(weights)
            except (ValueError, OSError) as error:
                raise DataError(
                    f"cannot load base.weights={weights} into {path}: "
                    f"{str(error).splitlines()[0][:200]}"
                ) from None
        expected = tuple(whole.input_shape[1:])
        if expected != (*size, channels):
            raise ConfigError(
                f"the base {path} takes images of {expected} but the data gives "
                f"{(*size, channels)}; set data.image_size={list(expected[:2])} "
                f"and data.color_mode="
                f"{'grayscale' if expected[-1] == 1 else 'rgb'}"
            )
        return whole

    def _preprocessing_name(self):
        setting = self.config.base.preprocessing
        if setting.lower() == "none":
            return "none"
        if setting.lower() == "auto":
            if is_model_file(self.config.base.name):
                return "none"
            setting = self.config.base.name
        names = {name.lower(): name for name in application_names()}
        return names[setting.lower()]

    def _base_identity(self):
        name = self.config.base.name
        if is_model_file(name):
            return f"file:{weights_fingerprint(Path(name).expanduser())}"
        return name.lower()

    def _weights_identity(self):
        weights = self.config.base.weights
        if weights in ("imagenet", "saved"):
            return weights
        if weights is None:
            # Random weights depend on the seed and on build order; hash them.
            values = [np.asarray(w) for w in self.base.get_weights()]
            return f"random:{array_fingerprint(*values)}"
        return weights_fingerprint(weights)

    # The data.

    def load_splits(self):
        """Returns the train/validation/test `LabelledImages` and class names."""
        data_config = self.config.data
        if data_config.source == "digits":
            (x_train, y_train), (x_test, y_test), class_names = load_digits()
            splits = {
                "train": LabelledImages(y_train, arrays=x_train),
                "validation": None,
                "test": LabelledImages(y_test, arrays=x_test),
            }
        else:
            folders = find_splits(data_config.directory)
            class_names, files = scan_class_folder(folders["train"])
            splits = {"train": _files_split(files), "validation": None, "test": None}
            for name in ("validation", "test"):
                if name in folders:
                    _, files = scan_class_folder(folders[name], class_names)
                    splits[name] = _files_split(files)
        if splits["validation"] is None:
            splits["train"], splits["validation"] = self._hold_out(splits["train"])
        if data_config.labels_per_class:
            splits["train"] = splits["train"].subset(
                self._select(splits["train"], data_config.labels_per_class, "labels")
            )
        return splits, list(class_names)

    def _select(self, split, count, what):
        try:
            return select_per_class(split.labels, count, self.config.seed)
        except ValueError as error:
            raise DataError(
                f"data.{what}_per_class={count}: {error}; lower it"
            ) from None

    def _hold_out(self, train):
        per_class = self.config.data.validation_per_class
        if per_class:
            chosen = self._select(train, per_class, "validation")
            rest = np.setdiff1d(np.arange(len(train)), chosen)
            return train.subset(rest), train.subset(chosen)
        fraction = self.config.train.validation_split
        if fraction == 0:
            return train, None
        (kept, _), (held, _) = split_validation(
            np.arange(len(train)), train.labels, fraction, self.config.seed
        )
        return train.subset(np.sort(kept)), train.subset(np.sort(held))

    # The features.

    def feature_cache(self):
        """Returns the `FeatureCache`, or `None` when caching is off."""
        cache_config = self.config.cache
        if not cache_config.enabled:
            return None
        directory = cache_config.directory or self.runs_root / "feature_cache"
        return FeatureCache(directory)

    def extract_splits(self, splits, names=("train", "validation", "test")):
        """Returns `{split: features}` from the cache, extracting only misses.

        Sets `self.extraction_seconds` (the time of this whole step) and
        `self.cache_hits` / `self.cache_misses`.
        """
        cache = self.feature_cache()
        self.cache_hits = self.cache_misses = 0
        start = time.perf_counter()
        features = {}
        for name in names:
            if splits.get(name) is not None:
                features[name] = self.split_features(cache, name, splits[name])
        self.extraction_seconds = time.perf_counter() - start
        return features

    def split_features(self, cache, name, split, crops=False):
        """Returns the base's features of one split, cached.

        Args:
            cache: The `FeatureCache`, or `None`.
            name: The split name, part of the cache file's name.
            split: The `LabelledImages`.
            crops: Features of the ten test-time crops of each image
                (`[N, crops, ...]`) instead of the image itself.

        Returns:
            The features array.
        """
        evaluation = self.config.evaluation
        key = {
            **self.base_key,
            "split": name,
            "images": len(split),
            "data": split.fingerprint(self.config.cache.fingerprint),
            "crops": [evaluation.crop_fraction, evaluation.flip] if crops else None,
        }

        def extract():
            return {"features": self._extract(split, crops)}

        slug = f"{Path(self.config.base.name).stem.lower()}-{name}"
        if crops:
            slug += "-crops"
        if cache is None:
            arrays, hit = extract(), False
        else:
            arrays, hit = cache.get_or_extract(key, extract, slug)
        self.cache_hits += int(hit)
        self.cache_misses += int(not hit)
        return arrays["features"]

    def _extract(self, split, crops):
        size = tuple(self.config.data.image_size)
        channels = _channels(self.config.data)
        batch_size = self.config.train.batch_size
        verbose = 0 if self.config.train.verbose == 0 else 1
        if not crops:
            dataset = split.dataset(size, channels).batch(batch_size)
            features, _ = extract_features(self.extractor, dataset, verbose)
            return features
        evaluation = self.config.evaluation
        load_size = crop_load_size(size, evaluation.crop_fraction)
        flip = evaluation.flip
        per_image = 10 if flip else 5
        dataset = split.dataset(load_size, channels).batch(batch_size)
        dataset = dataset.map(
            lambda x, y: (
                tf.reshape(ten_crop(x, size, flip), (-1, *size, channels)),
                tf.repeat(y, per_image),
            )
        )
        features, _ = extract_features(self.extractor, dataset, verbose)
        return features.reshape(len(split), per_image, *features.shape[1:])

    def feature_datasets(self, features, class_names):
        """Returns the `Datasets` of `(features, label)` batches."""
        batch_size = self.config.train.batch_size
        labels = {name: self.splits[name].labels for name in features}
        count = len(labels["train"])
        train_features = tf.constant(features["train"])
        train_labels = tf.constant(labels["train"])

        def one_epoch(number):
            order = epoch_shuffled_indices(count, self.config.seed, number)
            return order.batch(batch_size).map(
                lambda i: (tf.gather(train_features, i), tf.gather(train_labels, i))
            )

        batched = {
            name: tf.data.Dataset.from_tensor_slices((features[name], labels[name]))
            .batch(batch_size)
            .prefetch(AUTOTUNE)
            if name in features
            else None
            for name in ("validation", "test")
        }
        return Datasets(
            train=every_epoch(self.epoch, one_epoch).prefetch(AUTOTUNE),
            validation=batched["validation"],
            test=batched["test"],
            steps_per_epoch=self.config.train.steps_per_epoch
            or -(-count // batch_size),
            input_shape=tuple(features["train"].shape[1:]),
            class_names=class_names,
            info={"features": features, "labels": labels},
        )

    # The model and the rest of the run.

    def build_model(self, data):
        model_config = self.config.model
        try:
            return top_model(
                data.input_shape,
                len(data.class_names),
                pooling=model_config.pooling,
                units=model_config.units,
                dropout=model_config.dropout,
            )
        except ValueError as error:
            raise ConfigError(f"model: {error}") from None

    def build_loss(self):
        return "sparse_categorical_crossentropy"

    def build_metrics(self):
        return ["accuracy"]

    def evaluate(self, model, data):
        """Returns test metrics of the top, and the cache figures of this run."""
        top = model.get_layer("top") if model.name != "top" else model
        metrics = super().evaluate(top, data)
        split = "test" if data.test is not None else "validation"
        if split in data.info["features"]:
            predicted = top.predict(data.info["features"][split], verbose=0)
            self.confusion = confusion_counts(
                data.info["labels"][split], predicted, len(data.class_names)
            )
            if self.config.evaluation.ten_crop:
                crops = self.split_features(
                    self.feature_cache(), split, self.splits[split], crops=True
                )
                count, per_image = crops.shape[:2]
                flat = crops.reshape(count * per_image, *crops.shape[2:])
                averaged = (
                    top.predict(flat, verbose=0).reshape(count, per_image, -1).mean(1)
                )
                accuracy = np.mean(averaged.argmax(-1) == data.info["labels"][split])
                metrics[f"{split}_accuracy_ten_crop"] = float(accuracy)
        self.timings["feature_extraction_seconds"] = round(self.extraction_seconds, 4)
        metrics["feature_cache_hits"] = self.cache_hits
        metrics["feature_cache_misses"] = self.cache_misses
        return metrics

    def export(self, model, data):
        """Saves the whole classifier as `model.keras` and the top as `top.keras`."""
        whole = transfer_model(
            self.base, model, self.preprocessing, name=f"{self.name}_classifier"
        )
        super().export(whole, data)
        save_model_atomic(model, self.run_dir / "top.keras")
        write_class_names(self.run_dir, data.class_names)

    def figures(self, model, data, history):
        super().figures(model, data, history)
        plot_split_confusion(self, data)

    def predict(self, model, paths):
        """Returns `(path, class_name, probability)` for each image file."""
        return predict_classes(self.run_dir, model, paths)


def _files_split(files):
    return LabelledImages([label for _, label in files], files=[p for p, _ in files])


if __name__ == "__main__":
    from keras_recipes.cli import main

    sys.exit(main(["run", VGG16Bottleneck.name, *sys.argv[1:]]))
