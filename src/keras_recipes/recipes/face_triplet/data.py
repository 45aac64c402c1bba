"""The identities of `face_triplet`: seen and unseen splits, P x K batches."""

import dataclasses

import numpy as np
import tensorflow as tf

from keras_recipes import faces
from keras_recipes.data.augmentation import augment_batches, build_augmentation
from keras_recipes.data.digits import load_digits
from keras_recipes.data.glyphs import render_glyphs
from keras_recipes.data.identity_folder import (
    scan_identity_folder,
    split_identities,
    split_images,
)
from keras_recipes.data.image_files import SkippedFiles
from keras_recipes.data.image_stream import ImageSet, cache_decoded
from keras_recipes.data.lfw import load_lfw
from keras_recipes.data.pk_sampler import pk_dataset
from keras_recipes.errors import ConfigError
from keras_recipes.training import Datasets

# The splits whose pairs are scored, with the key that sizes each.
_SCORED = (
    ("validation", "train.validation_split"),
    ("seen_test", "data.seen_test_fraction"),
    ("unseen", "data.unseen_fraction"),
)


@dataclasses.dataclass
class FaceDatasets(Datasets):
    """The P x K batches of `face_triplet`, and the images it scores.

    Attributes:
        splits: Split name (`"train"`, `"validation"`, `"seen_test"`,
            `"unseen"`) to `(images, labels)`: an `ImageSet` giving out
            `[0, 255]` (a folder's images decoded once to disk, or read from
            their files; the embedded sets in memory as uint8) and integer
            identities `[N]`.
        unseen_names: Name of each unseen identity, by label (the
            training identities' names are `class_names`).
        pairs: Split name (`"validation"`, `"seen_test"`, `"unseen"`) to the
            `(first, second, same)` pairs of `faces.sample_pairs` it is
            scored on, drawn once so every score uses the same pairs.

    Example:

    ```python
    data = FaceTriplet().build_data()
    images, labels = data.splits["unseen"]
    first, second, same = data.pairs["unseen"]
    ```
    """

    splits: dict = dataclasses.field(default_factory=dict)
    unseen_names: list = dataclasses.field(default_factory=list)
    pairs: dict = dataclasses.field(default_factory=dict)


def image_channels(data_config):
    """Returns the channels the model takes: 1 for grayscale, 3 for RGB.

    Args:
        data_config: A `FaceDataConfig`.

    Returns:
        `1` or `3`.

    Example:

    ```python
    image_channels(config.data)  # 1
    ```
    """
    return 1 if data_config.color_mode == "grayscale" else 3


def fit_images(images, size, channels):
    """Resizes images and converts their channels to what the model takes.

    Args:
        images: Array `[N, H, W, C]` in [0, 255].
        size: `(height, width)` to resize to.
        channels: `1` or `3`.

    Returns:
        uint8 array `[N, height, width, channels]`: a quarter of float32's
        memory; the input pipelines give the model float32.

    Example:

    ```python
    images = fit_images(digits, (8, 8), 3)
    ```
    """
    images = np.asarray(images)
    if tuple(images.shape[1:3]) != tuple(size):
        images = tf.image.resize(images.astype("float32"), size).numpy()
    if images.shape[-1] == 1 and channels == 3:
        images = np.repeat(images, 3, axis=-1)
    elif images.shape[-1] == 3 and channels == 1:
        images = tf.image.rgb_to_grayscale(images.astype("float32")).numpy()
    if images.dtype != np.uint8:
        images = np.clip(np.round(images), 0, 255).astype("uint8")
    return images


def load_identities(data_config, seed, skipped=None, image_cache=None):
    """Returns the images of the training source, with identities and names.

    Args:
        data_config: A `FaceDataConfig`.
        seed: The run's seed (glyphs are rendered from it).
        skipped: A `SkippedFiles` recording the files a folder's scan left
            out. Defaults to `None`.
        image_cache: Folder where a folder's images are decoded once (see
            `cache_decoded`), or `None` to decode them as they are read.
            Defaults to `None`.

    Returns:
        `(images, labels, names)`: an `ImageSet` at the configured size and
        channels giving out `[0, 255]`, integer identities, and the name of
        each identity.

    Example:

    ```python
    images, labels, names = load_identities(config.data, config.seed)
    ```
    """
    size, channels = tuple(data_config.image_size), image_channels(data_config)
    if data_config.source == "folder":
        paths, labels, names = scan_identity_folder(
            data_config.directory, data_config.min_images_per_identity, skipped
        )
        images = ImageSet(labels, size, channels, files=paths, value_range=(0, 255))
        if image_cache is not None:
            images = cache_decoded(images, image_cache, data_config.cache.fingerprint)
        return images, labels, names
    if data_config.source == "glyphs":
        fit = data_config.glyph_fit_height
        pixels, labels, names = render_glyphs(
            data_config.glyphs_per_class,
            seed=seed,
            font_size=tuple(data_config.glyph_font_size),
            fit_height=None if fit is None else tuple(fit),
        )
    elif data_config.source == "digits":
        (x_train, y_train), (x_test, y_test), names = load_digits()
        pixels = np.concatenate([x_train, x_test])
        labels = np.concatenate([y_train, y_test])
    else:
        pixels, labels, names = load_lfw(
            data_config.lfw_min_faces_per_person,
            data_config.lfw_resize,
            color=channels == 3,
            data_home=data_config.directory,
        )
    return _in_memory(pixels, labels, size, channels), np.asarray(labels), names


def _in_memory(pixels, labels, size, channels):
    pixels = fit_images(pixels, size, channels)
    return ImageSet(labels, size, channels, pixels=pixels, value_range=(0, 255))


def split_identity_images(config, skipped=None, image_cache=None):
    """Splits the identities into seen (train, validation, test) and unseen.

    Args:
        config: A `FaceTripletConfig`.
        skipped: A `SkippedFiles` recording the files a folder's scan left
            out. Defaults to `None`.
        image_cache: Folder of the decoded-image cache, or `None`. Defaults
            to `None`.

    Returns:
        `(splits, names, unseen_names)`: see `FaceDatasets.splits`, and the
        names of the seen and the unseen identities, by label.

    Example:

    ```python
    splits, names, unseen_names = split_identity_images(config)
    ```
    """
    data_config, seed = config.data, config.seed
    images, labels, names = load_identities(data_config, seed, skipped, image_cache)
    if data_config.unseen == "digits":
        (x_train, y_train), (x_test, y_test), digit_names = load_digits()
        unseen_labels = np.concatenate([y_train, y_test])
        unseen_images = _in_memory(
            np.concatenate([x_train, x_test]),
            unseen_labels,
            tuple(data_config.image_size),
            image_channels(data_config),
        )
        unseen_names = [f"digit {n}" for n in digit_names]
    else:
        _, held = split_identities(
            labels,
            data_config.unseen_fraction,
            data_config.unseen_identities,
            names,
            seed,
        )
        is_unseen = np.isin(labels, held)
        unseen = np.flatnonzero(is_unseen)
        unseen_images, unseen_labels = images.subset(unseen), labels[unseen]
        unseen_names = names
        seen = np.flatnonzero(~is_unseen)
        images, labels = images.subset(seen), labels[seen]
    fit, validation, test = split_images(
        labels, (config.train.validation_split, data_config.seen_test_fraction), seed
    )
    splits = {
        "train": (images.subset(fit), labels[fit]),
        "validation": (images.subset(validation), labels[validation]),
        "seen_test": (images.subset(test), labels[test]),
        "unseen": (unseen_images, unseen_labels),
    }
    return splits, list(names), list(unseen_names)


def check_pairs(labels, name, key):
    """Refuses a split without same-identity or different-identity pairs.

    Args:
        labels: The split's identities.
        name: The split's name, for the message.
        key: The config key that sizes the split, for the message.

    Returns:
        `None`; raises `ConfigError` when the split cannot be scored.

    Example:

    ```python
    check_pairs(y_val, "validation", "train.validation_split")
    ```
    """
    counts = np.bincount(np.asarray(labels, dtype="int64")) if len(labels) else []
    if np.count_nonzero(counts) < 2 or max(counts, default=0) < 2:
        raise ConfigError(
            f"the {name} images give no same-identity or no different-identity "
            f"pairs ({len(labels)} images, {np.count_nonzero(counts)} "
            f"identities); raise {key} or use identities with more images"
        )


def build_face_datasets(config, image_cache=None):
    """Returns the `FaceDatasets` of a `face_triplet` config.

    The training batches are P x K batches drawn up front for the whole run
    (so their augmentation seeds follow the batch index); the validation
    batches are P x K batches too, so the triplet loss is measured alike.

    Args:
        config: A `FaceTripletConfig`.
        image_cache: Folder where a folder's images are decoded once, or
            `None` to decode them as they are read. Defaults to `None`.

    Returns:
        A `FaceDatasets`; its `random_layers` hold the augmentation layer,
        if any.

    Example:

    ```python
    data = build_face_datasets(config)
    images, labels = data.splits["unseen"]
    ```
    """
    skipped = SkippedFiles(skip_bad=config.data.skip_bad_files)
    splits, names, unseen_names = split_identity_images(config, skipped, image_cache)
    for name, key in _SCORED:
        check_pairs(splits[name][1], name, key)
    sampler, train_config, seed = config.sampler, config.train, config.seed
    x_fit, y_fit = splits["train"]
    identities = len(np.unique(y_fit))
    if sampler.identities_per_batch > identities:
        raise ConfigError(
            f"sampler.identities_per_batch={sampler.identities_per_batch} "
            f"but the training split has {identities} identities; lower it"
        )
    batch_size = sampler.identities_per_batch * sampler.images_per_identity
    steps = train_config.steps_per_epoch or max(1, len(x_fit) // batch_size)
    train = pk_dataset(
        x_fit,
        y_fit,
        sampler.identities_per_batch,
        sampler.images_per_identity,
        num_batches=steps * train_config.epochs,
        seed=seed,
    )
    size, channels = tuple(config.data.image_size), image_channels(config.data)
    augmenter = build_augmentation(config.data.augmentation, size, channels, seed=seed)
    if augmenter is not None:
        # The P x K batches span all epochs: seeds follow the batch index.
        train = augment_batches(train, augmenter, seed)
    x_val, y_val = splits["validation"]
    val_identities = min(sampler.identities_per_batch, len(np.unique(y_val)))
    val_steps = train_config.validation_steps or max(
        1, len(x_val) // (val_identities * sampler.images_per_identity)
    )
    validation = pk_dataset(
        x_val,
        y_val,
        val_identities,
        sampler.images_per_identity,
        num_batches=val_steps,
        seed=seed + 1,
    ).take(val_steps)
    max_pairs = config.verification.max_pairs
    return FaceDatasets(
        train=train,
        validation=validation,
        steps_per_epoch=steps,
        input_shape=(*size, channels),
        class_names=names,
        random_layers=[augmenter] if augmenter is not None else [],
        skipped_files=skipped,
        splits=splits,
        unseen_names=unseen_names,
        pairs={
            name: faces.sample_pairs(splits[name][1], max_pairs, seed)
            for name, _ in _SCORED
        },
    )
