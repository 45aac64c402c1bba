"""The `VGG16Bottleneck` recipe: a small top trained on a frozen base's features.

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

import time

import numpy as np

from keras_recipes.data.image_files import SkippedFiles
from keras_recipes.errors import ConfigError
from keras_recipes.models.transfer import top_model, transfer_model
from keras_recipes.recipes.classification import ClassifierRecipe
from keras_recipes.recipes.vgg16_bottleneck.base import (
    build_frozen_base,
    make_preprocessing,
)
from keras_recipes.recipes.vgg16_bottleneck.config import VGG16BottleneckConfig
from keras_recipes.recipes.vgg16_bottleneck.data import (
    FeatureData,
    feature_datasets,
    load_splits,
)
from keras_recipes.recipes.vgg16_bottleneck.features import (
    extract_splits,
    feature_cache,
    split_features,
)
from keras_recipes.saving import save_model_atomic

TOP_FILE = "top.keras"


class VGG16Bottleneck(ClassifierRecipe):
    """Trains a small top model on cached features of a frozen pretrained base.

    `build_data` builds the base first (so a missing ImageNet download stops
    the run before any work), reads the images, and extracts each split's
    features once through the `FeatureCache`, into a `FeatureData`;
    `build_model` is the top model, trained on the features. The exported
    `model.keras` is the whole classifier (preprocessing, base and top)
    taking raw images; `top.keras` is the top alone, for `vgg16_fine_tune`.

    Example:

    ```python
    from keras_recipes import load_config
    from keras_recipes.recipes import VGG16Bottleneck

    config = load_config("vgg16_bottleneck", {"data.directory": "data/cats"})
    result = VGG16Bottleneck(config).run()
    ```
    """

    name = "vgg16_bottleneck"
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
        """Returns the `FeatureData`: the base, the images and their features.

        Adds the seconds of the extraction step (cache reads included) to
        `timings` as `feature_extraction_seconds`.
        """
        frozen = build_frozen_base(self.config, self.dtype_policy)
        skipped = SkippedFiles(skip_bad=self.config.data.skip_bad_files)
        splits, class_names = load_splits(self.config, skipped)
        start = time.perf_counter()
        cache = feature_cache(self.config, self.runs_root)
        extraction = extract_splits(self.config, frozen, cache, splits)
        seconds = time.perf_counter() - start
        self.timings["feature_extraction_seconds"] = round(seconds, 4)
        features = extraction.features
        labels = {name: splits[name].labels for name in features}
        datasets = feature_datasets(
            self.config, self.epoch, features, labels, class_names
        )
        datasets.skipped_files = skipped
        return FeatureData(
            **vars(datasets),
            frozen=frozen,
            images=splits,
            features=features,
            cache_hits=extraction.hits,
            cache_misses=extraction.misses,
        )

    def build_model(self, data):
        """Returns the top model for `data`'s features and classes."""
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

    def evaluate(self, model, data):
        """Returns the top's test metrics, its confusion, and the cache counts.

        Args:
            model: The top, or the whole classifier of a finished run.
            data: The `FeatureData`.

        Returns:
            A `ClassifierEvaluation` whose metrics add the ten-crop accuracy
            (with `evaluation.ten_crop`) and `feature_cache_hits` /
            `feature_cache_misses` of this run.
        """
        top = top_of(model)
        evaluation = super().evaluate(top, data)
        metrics, split = evaluation.metrics, evaluation.split
        hits, misses = data.cache_hits, data.cache_misses
        if split is not None and self.config.evaluation.ten_crop:
            accuracy, hit = self.ten_crop_accuracy(top, data, split)
            metrics[f"{split}_accuracy_ten_crop"] = accuracy
            hits, misses = hits + int(hit), misses + int(not hit)
        metrics["feature_cache_hits"] = hits
        metrics["feature_cache_misses"] = misses
        return evaluation

    def ten_crop_accuracy(self, top, data, split):
        """Returns the accuracy of `top` averaged over the crops of each image.

        Args:
            top: The top model.
            data: The `FeatureData`.
            split: The split to measure.

        Returns:
            A `(accuracy, hit)` tuple: the accuracy, and whether the crops'
            features came from the cache.
        """
        images = data.images[split]
        cache = feature_cache(self.config, self.runs_root)
        crops, hit = split_features(
            self.config, data.frozen, cache, split, images, crops=True
        )
        count, per_image = crops.shape[:2]
        flat = crops.reshape(count * per_image, *crops.shape[2:])
        averaged = top.predict(flat, verbose=0).reshape(count, per_image, -1).mean(1)
        return float(np.mean(averaged.argmax(-1) == images.labels)), hit

    def export(self, model, data, evaluation):
        """Saves the whole classifier as `model.keras` and the top as `top.keras`."""
        frozen = data.frozen
        whole = transfer_model(
            frozen.base,
            model,
            make_preprocessing(frozen.preprocessing_name),
            name=f"{self.name}_classifier",
        )
        super().export(whole, data, evaluation)
        save_model_atomic(model, self.run_dir / TOP_FILE)

    def serving_model(self, model, data):
        """Returns the whole classifier: raw images in, class probabilities out.

        Args:
            model: The top model (as `build_model` makes it), or the whole
                classifier (as `export` passes it, and a finished run's
                `model.keras` holds it), which is returned as it is.
            data: The `FeatureData`, whose frozen base goes under a top;
                `None` for a whole classifier.

        Returns:
            The preprocessing, base and top, joined.
        """
        if model.name != "top":
            return model
        frozen = data.frozen
        return transfer_model(
            frozen.base,
            model,
            make_preprocessing(frozen.preprocessing_name),
            name=f"{self.name}_classifier",
        )


def top_of(model):
    """Returns the top model of a transfer classifier, or the model itself.

    Args:
        model: A top model (named `top`), or a classifier holding one.

    Returns:
        The top model.

    Example:

    ```python
    recipe, model = load_run(run_dir)
    top_of(model).input_shape  # (None, 4, 4, 512)
    ```
    """
    return model if model.name == "top" else model.get_layer("top")
