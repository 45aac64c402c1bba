"""The base's features of each split, read from the cache or extracted once."""

import dataclasses
from pathlib import Path

import tensorflow as tf

from keras_recipes.data.feature_cache import FeatureCache, extract_features
from keras_recipes.data.multi_crop import crop_load_size, ten_crop
from keras_recipes.recipes.vgg16_bottleneck.config import channels_of
from keras_recipes.recipes.vgg16_bottleneck.data import SPLITS


@dataclasses.dataclass
class Extraction:
    """The features of some splits, and where they came from.

    Attributes:
        features: Split name to features array.
        hits: Splits read from the cache.
        misses: Splits extracted (and then cached).

    Example:

    ```python
    extraction = extract_splits(config, frozen, cache, splits)
    print(extraction.hits, "read,", extraction.misses, "extracted")
    ```
    """

    features: dict
    hits: int = 0
    misses: int = 0


def feature_cache(config, runs_root):
    """Returns the `FeatureCache` of a config, or `None` when caching is off.

    Args:
        config: A config with a `cache` section.
        runs_root: The parent of the run folders; the cache defaults to its
            `feature_cache/`.

    Returns:
        A `FeatureCache`, or `None`.

    Example:

    ```python
    cache = feature_cache(config, "runs")
    ```
    """
    cache_config = config.cache
    if not cache_config.enabled:
        return None
    return FeatureCache(cache_config.directory or Path(runs_root) / "feature_cache")


def extract_splits(config, frozen, cache, splits, names=SPLITS):
    """Returns the base's features of several splits, extracting only misses.

    Args:
        config: The recipe's config.
        frozen: The `FrozenBase`.
        cache: The `FeatureCache`, or `None`.
        splits: Split name to `LabelledImages` (or `None`, skipped).
        names: The splits wanted. Defaults to train, validation and test.

    Returns:
        An `Extraction`.

    Example:

    ```python
    extraction = extract_splits(config, frozen, cache, splits)
    extraction.features["train"].shape  # (N, 4, 4, 512)
    ```
    """
    extraction = Extraction({})
    for name in names:
        if splits.get(name) is not None:
            features, hit = split_features(config, frozen, cache, name, splits[name])
            extraction.features[name] = features
            extraction.hits += int(hit)
            extraction.misses += int(not hit)
    return extraction


def split_features(config, frozen, cache, name, split, crops=False):
    """Returns the base's features of one split, cached.

    Args:
        config: The recipe's config.
        frozen: The `FrozenBase`.
        cache: The `FeatureCache`, or `None`.
        name: The split name, part of the cache file's name.
        split: The `LabelledImages`.
        crops: Features of the ten test-time crops of each image
            (`[N, crops, ...]`) instead of the image itself. Defaults to
            `False`.

    Returns:
        A `(features, hit)` tuple: the features array, and whether the cache
        held it.

    Example:

    ```python
    features, hit = split_features(config, frozen, cache, "test", split)
    ```
    """
    evaluation = config.evaluation
    key = {
        **frozen.key,
        "split": name,
        "images": len(split),
        "data": split.fingerprint(config.cache.fingerprint),
        "crops": [evaluation.crop_fraction, evaluation.flip] if crops else None,
    }

    def extract():
        return {"features": _extract(config, frozen.extractor, split, crops)}

    slug = f"{Path(config.base.name).stem.lower()}-{name}"
    if crops:
        slug += "-crops"
    if cache is None:
        return extract()["features"], False
    arrays, hit = cache.get_or_extract(key, extract, slug)
    return arrays["features"], hit


def _extract(config, extractor, split, crops):
    size = tuple(config.data.image_size)
    channels = channels_of(config.data)
    batch_size = config.train.batch_size
    verbose = 0 if config.train.verbose == 0 else 1
    if not crops:
        dataset = split.dataset(size, channels).batch(batch_size)
        features, _ = extract_features(extractor, dataset, verbose)
        return features
    evaluation = config.evaluation
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
    features, _ = extract_features(extractor, dataset, verbose)
    return features.reshape(len(split), per_image, *features.shape[1:])
