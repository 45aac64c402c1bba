"""FaceNet-style embeddings: triplet loss, verification and one-shot recognition.

Run it with `python -m keras_recipes run face_triplet` or
`python -m keras_recipes.recipes.face_triplet --set train.epochs=5`.
"""

import dataclasses
import sys
from typing import Literal

import keras
import numpy as np
import tensorflow as tf

from keras_recipes import faces
from keras_recipes.config import RecipeConfig, param, section
from keras_recipes.data.augmentation import (
    AugmentationConfig,
    augment_batches,
    build_augmentation,
)
from keras_recipes.data.digits import load_digits
from keras_recipes.data.glyphs import render_glyphs
from keras_recipes.data.identity_folder import (
    load_identity_folder,
    split_identities,
    split_images,
)
from keras_recipes.data.lfw import load_lfw
from keras_recipes.data.pk_sampler import pk_dataset
from keras_recipes.data.source_checks import check_folder_source, check_image_size
from keras_recipes.errors import ConfigError
from keras_recipes.faces import commands
from keras_recipes.faces import figures as face_figures
from keras_recipes.figures import plot_image_grid
from keras_recipes.losses import TripletLoss
from keras_recipes.models.embedding import conv_backbone, embedding_model
from keras_recipes.registry import register
from keras_recipes.training import Datasets, Recipe, write_json_atomic
from keras_recipes.weights import build_application


@dataclasses.dataclass
class FaceDataConfig:
    """Identities to train on, and the unseen identities to test on."""

    source: Literal["glyphs", "digits", "folder", "lfw"] = param(
        "glyphs",
        doc="glyphs (letters from matplotlib's fonts) | digits | folder "
        "(data.directory of identity subfolders) | lfw (downloads LFW)",
    )
    directory: str | None = param(
        None, doc="folder: identity subfolders; lfw: scikit-learn's data_home."
    )
    unseen: Literal["digits", "held_out"] = param(
        "digits",
        doc="digits: the real handwritten digits are the unseen identities; "
        "held_out: identities of the source kept out of training",
    )
    unseen_identities: list[str] = param(
        [], doc="held_out: names of the identities to hold out."
    )
    unseen_fraction: float = param(
        0.3, minimum=0, below=1, doc="held_out: random fraction, if no names."
    )
    seen_test_fraction: float = param(
        0.2, minimum=0, below=1, doc="Images of seen identities kept for testing."
    )
    glyphs_per_class: int = param(100, minimum=2, doc="glyphs: images per letter.")
    glyph_font_size: list[int] = param(
        [30, 42], doc="glyphs: font sizes in pixels of the 32x32 canvas."
    )
    glyph_fit_height: list[int] | None = param(
        [30, 32],
        doc="glyphs: letter heights after size normalisation, as the digits "
        "were normalised; null keeps the fonts' proportions.",
    )
    min_images_per_identity: int = param(
        2, minimum=1, doc="folder, lfw: identities with fewer are left out."
    )
    lfw_min_faces_per_person: int = param(20, minimum=1, doc="lfw: see sklearn.")
    lfw_resize: float = param(0.5, minimum=0, doc="lfw: scale of the 125x94 crop.")
    image_size: list[int] = param([8, 8], doc="Height and width fed to the model.")
    color_mode: Literal["grayscale", "rgb"] = param("grayscale")
    augmentation: AugmentationConfig = section(AugmentationConfig)

    def validate(self, key):
        check_image_size(key, self.image_size)
        check_folder_source(
            key, self.source, self.directory, "a folder of identity subfolders"
        )
        if self.source == "digits" and self.unseen == "digits":
            raise ConfigError(
                f"{key}.unseen=digits needs another training source than the "
                f"digits; set {key}.unseen=held_out or {key}.source=glyphs"
            )
        if self.unseen_identities and self.unseen != "held_out":
            raise ConfigError(
                f"{key}.unseen_identities applies to {key}.unseen=held_out. "
                f"Received: unseen={self.unseen}"
            )
        for name in ("glyph_font_size", "glyph_fit_height"):
            value = getattr(self, name)
            if value is not None and (len(value) != 2 or not 1 <= value[0] <= value[1]):
                raise ConfigError(
                    f"{key}.{name} must be [low, high] with 1 <= low <= high. "
                    f"Received: {value}"
                )
        if self.glyph_fit_height is not None and self.glyph_fit_height[1] > 32:
            raise ConfigError(
                f"{key}.glyph_fit_height must stay within the 32-pixel canvas. "
                f"Received: {self.glyph_fit_height}"
            )
        if self.source == "lfw" and self.lfw_resize <= 0:
            raise ConfigError(f"{key}.lfw_resize must be positive")


@dataclasses.dataclass
class PKSamplerConfig:
    """P x K batches: P identities, K images of each."""

    identities_per_batch: int = param(16, minimum=2, doc="P.")
    images_per_identity: int = param(4, minimum=2, doc="K.")


@dataclasses.dataclass
class TripletLossConfig:
    """The triplet loss and how its triplets are mined."""

    margin: float = param(0.2, minimum=0, doc="alpha in FaceNet.")
    mining: Literal["batch_all", "batch_hard", "semi_hard"] = param(
        "batch_all", doc="batch_all | batch_hard | semi_hard"
    )
    distance: Literal["squared_euclidean", "euclidean"] = param("squared_euclidean")


@dataclasses.dataclass
class EmbeddingConfig:
    """The embedding network: backbone -> Dense -> L2 normalisation."""

    backbone: str = param(
        "small", doc="small (conv_backbone) or a keras.applications name."
    )
    weights: str | None = param(
        None, doc="keras.applications backbones: imagenet, a file, or null."
    )
    filters: list[int] = param([32, 64], doc="small: filters per block.")
    convs_per_block: int = param(2, minimum=1, doc="small: convolutions per block.")
    batch_norm: bool = param(True, doc="small: batch normalisation.")
    pooling: Literal["avg", "flatten"] = param(
        "avg", doc="small: how the last feature map becomes a vector."
    )
    embedding_dim: int = param(64, minimum=1, doc="Size of the embedding.")
    dropout: float = param(0.0, minimum=0, below=1, doc="Before the projection.")


@dataclasses.dataclass
class VerificationConfig:
    """How the embedding is scored."""

    max_pairs: int = param(20000, minimum=2, doc="Pairs per split, half same.")
    far_target: float = param(1e-3, minimum=0, maximum=1, doc="FAR of VAL@FAR.")
    one_shot_trials: int = param(10, minimum=1, doc="Random one-shot enrolments.")
    projector_points: int = param(2000, minimum=0, doc="Embeddings for TensorBoard.")
    projection_points: int = param(
        600, minimum=10, doc="Unseen images in the t-SNE figure (it is slow)."
    )


@dataclasses.dataclass
class FaceTripletConfig(RecipeConfig):
    """Config of the `face_triplet` recipe."""

    recipe: str = param("face_triplet")
    data: FaceDataConfig = section(FaceDataConfig)
    sampler: PKSamplerConfig = section(PKSamplerConfig)
    model: EmbeddingConfig = section(EmbeddingConfig)
    loss: TripletLossConfig = section(TripletLossConfig)
    verification: VerificationConfig = section(VerificationConfig)


def _fit_images(images, size, channels):
    images = np.asarray(images, dtype="float32")
    if tuple(images.shape[1:3]) != tuple(size):
        images = tf.image.resize(images, size).numpy()
    if images.shape[-1] == 1 and channels == 3:
        images = np.repeat(images, 3, axis=-1)
    elif images.shape[-1] == 3 and channels == 1:
        images = tf.image.rgb_to_grayscale(images).numpy()
    return images.astype("float32")


def _check_pairs(labels, name, key):
    counts = np.bincount(np.asarray(labels, dtype="int64")) if len(labels) else []
    if np.count_nonzero(counts) < 2 or max(counts, default=0) < 2:
        raise ConfigError(
            f"the {name} images give no same-identity or no different-identity "
            f"pairs ({len(labels)} images, {np.count_nonzero(counts)} "
            f"identities); raise {key} or use identities with more images"
        )


class VerificationCallback(keras.callbacks.Callback):
    """Adds `val_auc` and `val_eer` of validation pairs to each epoch's logs.

    Put it before `EarlyStopping` and `ModelCheckpoint` so they can monitor
    it.

    Args:
        images: Validation images `[N, H, W, C]`.
        first: First image of each pair.
        second: Second image of each pair.
        same: True for same-identity pairs.
        distance: Distance the embedding is trained with.

    Example:

    ```python
    callback = VerificationCallback(x_val, first, second, same, "euclidean")
    ```
    """

    def __init__(self, images, first, second, same, distance):
        super().__init__()
        self.images, self.first, self.second = images, first, second
        self.same, self.distance = same, distance

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        distances = faces.pair_distances(
            faces.embed_images(self.model, self.images),
            self.first,
            self.second,
            self.distance,
        )
        logs["val_auc"] = faces.roc_auc(distances, self.same)
        logs["val_eer"] = faces.equal_error_rate(distances, self.same)


@register
class FaceTriplet(Recipe):
    """Learns an embedding where the same identity is near, others far.

    FaceNet's recipe on any identity data: P x K batches, an L2-normalised
    embedding trained with the triplet loss (batch-all, batch-hard or
    semi-hard mining), a distance threshold chosen on validation pairs,
    then verification on held-out images of the training identities
    (`seen_*`) and on identities never trained on (`unseen_*`), compared
    with raw pixels, and one-shot recognition of the unseen identities.

    The default trains on letters rendered from matplotlib's fonts (52
    identities) and tests on the real handwritten digits, a stand-in for
    faces that runs offline in minutes.

    Example:

    ```python
    from keras_recipes import load_config
    from keras_recipes.recipes import FaceTriplet

    result = FaceTriplet(load_config("face_triplet")).run()
    print(result.metrics["unseen_auc"], result.metrics["unseen_pixel_auc"])
    ```
    """

    name = "face_triplet"
    description = "FaceNet triplet embeddings: verification, one-shot recognition."
    config_class = FaceTripletConfig
    quick = {
        "data.glyphs_per_class": 30,
        "train.epochs": 12,
        "model.filters": [16, 32],
        "model.embedding_dim": 32,
        "optimizer.schedule.name": "constant",
        "optimizer.learning_rate": 0.003,
        "verification.max_pairs": 4000,
        "verification.one_shot_trials": 2,
        "verification.projector_points": 200,
        "verification.projection_points": 100,
    }

    # Data.

    def load_identities(self):
        """Returns `(images, labels, names)` of the training source."""
        data_config = self.config.data
        size, channels = tuple(data_config.image_size), self.channels
        if data_config.source == "glyphs":
            fit = data_config.glyph_fit_height
            images, labels, names = render_glyphs(
                data_config.glyphs_per_class,
                seed=self.config.seed,
                font_size=tuple(data_config.glyph_font_size),
                fit_height=None if fit is None else tuple(fit),
            )
        elif data_config.source == "digits":
            (x_train, y_train), (x_test, y_test), names = load_digits()
            images = np.concatenate([x_train, x_test])
            labels = np.concatenate([y_train, y_test])
        elif data_config.source == "lfw":
            images, labels, names = load_lfw(
                data_config.lfw_min_faces_per_person,
                data_config.lfw_resize,
                color=channels == 3,
                data_home=data_config.directory,
            )
        else:
            images, labels, names = load_identity_folder(
                data_config.directory,
                size,
                channels,
                data_config.min_images_per_identity,
            )
        return _fit_images(images, size, channels), np.asarray(labels), names

    @property
    def channels(self):
        return 1 if self.config.data.color_mode == "grayscale" else 3

    def build_data(self):
        data_config, seed = self.config.data, self.config.seed
        images, labels, names = self.load_identities()
        if data_config.unseen == "digits":
            (x_train, y_train), (x_test, y_test), digit_names = load_digits()
            unseen_images = _fit_images(
                np.concatenate([x_train, x_test]),
                tuple(data_config.image_size),
                self.channels,
            )
            unseen_labels = np.concatenate([y_train, y_test])
            unseen_names = [f"digit {n}" for n in digit_names]
            seen_labels = np.unique(labels)
        else:
            seen_labels, held = split_identities(
                labels,
                data_config.unseen_fraction,
                data_config.unseen_identities,
                names,
                seed,
            )
            is_unseen = np.isin(labels, held)
            unseen_images, unseen_labels = images[is_unseen], labels[is_unseen]
            unseen_names = names
            images, labels = images[~is_unseen], labels[~is_unseen]
        fit, validation, test = split_images(
            labels,
            (self.config.train.validation_split, data_config.seen_test_fraction),
            seed,
        )
        split = {
            "train": (images[fit], labels[fit]),
            "validation": (images[validation], labels[validation]),
            "seen_test": (images[test], labels[test]),
            "unseen": (unseen_images, unseen_labels),
        }
        for name, key in (
            ("validation", "train.validation_split"),
            ("seen_test", "data.seen_test_fraction"),
            ("unseen", "data.unseen_fraction"),
        ):
            _check_pairs(split[name][1], name, key)
        return self._datasets(split, names, unseen_names)

    def _datasets(self, split, names, unseen_names):
        sampler, train_config = self.config.sampler, self.config.train
        x_fit, y_fit = split["train"]
        identities = len(np.unique(y_fit))
        if sampler.identities_per_batch > identities:
            raise ConfigError(
                f"sampler.identities_per_batch={sampler.identities_per_batch} "
                f"but the training split has {identities} identities; lower it"
            )
        batch_size = sampler.identities_per_batch * sampler.images_per_identity
        steps = train_config.steps_per_epoch or max(1, len(x_fit) // batch_size)
        seed = self.config.seed
        train = pk_dataset(
            x_fit,
            y_fit,
            sampler.identities_per_batch,
            sampler.images_per_identity,
            num_batches=steps * train_config.epochs,
            seed=seed,
        )
        size = tuple(self.config.data.image_size)
        self.augmenter = build_augmentation(
            self.config.data.augmentation, size, self.channels, seed=seed
        )
        if self.augmenter is not None:
            # The P x K batches span all epochs: seeds follow the batch index.
            train = augment_batches(train, self.augmenter, seed)
        x_val, y_val = split["validation"]
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
        return Datasets(
            train=train,
            validation=validation,
            steps_per_epoch=steps,
            input_shape=(*size, self.channels),
            class_names=list(names),
            info={"split": split, "unseen_names": list(unseen_names)},
        )

    # Model.

    def build_model(self, data):
        model_config = self.config.model
        try:
            if model_config.backbone == "small":
                backbone = conv_backbone(
                    data.input_shape,
                    filters=tuple(model_config.filters),
                    convs_per_block=model_config.convs_per_block,
                    batch_norm=model_config.batch_norm,
                    pooling=model_config.pooling,
                )
            else:
                backbone = build_application(
                    model_config.backbone,
                    weights=model_config.weights,
                    input_shape=data.input_shape,
                    include_top=False,
                    pooling="avg",
                )
            return embedding_model(
                data.input_shape,
                embedding_dim=model_config.embedding_dim,
                backbone=backbone,
                dropout=model_config.dropout,
            )
        except ValueError as error:
            raise ConfigError(f"model: {error}") from None

    def build_loss(self):
        loss = self.config.loss
        return TripletLoss(loss.margin, loss.mining, loss.distance)

    def fit(self, model, data, callbacks):
        # The P x K dataset never ends, so the epoch length must be given.
        return self.fit_model(
            model,
            data.train,
            validation=data.validation,
            epochs=self.config.train.epochs,
            steps_per_epoch=data.steps_per_epoch,
            callbacks=callbacks,
        )

    def build_callbacks(self):
        callbacks = super().build_callbacks()
        x_val, y_val = self.data.info["split"]["validation"]
        first, second, same = faces.sample_pairs(
            y_val, self.config.verification.max_pairs, self.config.seed
        )
        verification = VerificationCallback(
            x_val, first, second, same, self.config.loss.distance
        )
        # After BackupAndRestore (which restores state), before the rest.
        index = int(bool(callbacks) and isinstance(callbacks[0], _BACKUP))
        return callbacks[:index] + [verification] + callbacks[index:]

    # Evaluation.

    def evaluate(self, model, data):
        """Scores verification and one-shot recognition; see the module doc."""
        config, split = self.config, data.info["split"]
        distance, seed = config.loss.distance, config.seed
        far_target = config.verification.far_target
        self.scores = {}
        embeddings = {
            name: faces.embed_images(model, images)
            for name, (images, _) in split.items()
        }
        pairs = {
            name: faces.sample_pairs(
                split[name][1], config.verification.max_pairs, seed
            )
            for name in ("validation", "seen_test", "unseen")
        }

        def distances_of(name, vectors):
            first, second, _ = pairs[name]
            return faces.pair_distances(vectors, first, second, distance)

        val_distances = distances_of("validation", embeddings["validation"])
        threshold = faces.best_threshold(val_distances, pairs["validation"][2])
        metrics = {"threshold": threshold}
        for name, prefix in (("seen_test", "seen"), ("unseen", "unseen")):
            same = pairs[name][2]
            distances = distances_of(name, embeddings[name])
            report = faces.verification_report(distances, same, threshold, far_target)
            metrics.update({f"{prefix}_{key}": value for key, value in report.items()})
            self.scores[prefix] = (distances, same)
        pixels = split["unseen"][0] / 255.0
        pixel_distances = distances_of("unseen", pixels)
        metrics["unseen_pixel_auc"] = faces.roc_auc(pixel_distances, pairs["unseen"][2])
        self.scores["unseen_pixel"] = (pixel_distances, pairs["unseen"][2])
        unseen_labels = split["unseen"][1]
        trials = config.verification.one_shot_trials
        metrics["unseen_one_shot_accuracy"] = faces.one_shot_accuracy(
            embeddings["unseen"], unseen_labels, trials, seed, distance
        )
        metrics["unseen_pixel_one_shot_accuracy"] = faces.one_shot_accuracy(
            pixels, unseen_labels, trials, seed, distance
        )
        metrics["unseen_open_set_accuracy"] = faces.open_set_accuracy(
            embeddings["unseen"], unseen_labels, threshold, trials, seed, 0.5, distance
        )
        self.embeddings = embeddings
        self.threshold = threshold
        return metrics

    # Export.

    def export(self, model, data):
        super().export(model, data)
        write_json_atomic(
            self.run_dir / "verification.json",
            {"threshold": self.threshold, "distance": self.config.loss.distance},
        )
        self._enroll_unseen_one_shot(data)
        self._write_projector(data)

    def _enroll_unseen_one_shot(self, data):
        """Saves a database of the unseen identities, one image each."""
        images, labels = data.info["split"]["unseen"]
        names = data.info["unseen_names"]
        database = faces.EnrollmentDatabase(self.config.loss.distance, self.threshold)
        rng = np.random.default_rng(self.config.seed)
        self.enrolled = {}
        for label in np.unique(labels):
            index = int(rng.choice(np.flatnonzero(labels == label)))
            database.enroll(names[label], self.embeddings["unseen"][index])
            self.enrolled[names[label]] = index
        database.save(self.run_dir / "enrolled.npz")

    def _write_projector(self, data):
        limit = self.config.verification.projector_points
        if not limit:
            return
        split = data.info["split"]
        parts = [
            ("seen_test", data.class_names),
            ("unseen", data.info["unseen_names"]),
        ]
        rng = np.random.default_rng(self.config.seed)
        vectors, images, identity, source = [], [], [], []
        for name, names in parts:
            count = len(split[name][1])
            keep = np.sort(rng.permutation(count)[: limit // len(parts)])
            vectors.append(self.embeddings[name][keep])
            images.append(split[name][0][keep])
            identity += [names[label] for label in split[name][1][keep]]
            source += [name] * len(keep)
        faces.write_projector(
            self.run_dir / "logs",
            np.concatenate(vectors),
            {"identity": identity, "split": source},
            np.concatenate(images),
        )

    # Figures.

    def figures(self, model, data, history):
        # The triplet loss averages over the triplets still violating the
        # margin, so it falls little; the validation pairs' AUC shows progress.
        face_figures.plot_training(history, self.figure_path("training_curves.png"))
        split, unseen_names = data.info["split"], data.info["unseen_names"]
        self._plot_pk_batch(data)
        face_figures.plot_roc_curves(
            {
                "seen identities": self.scores["seen"],
                "unseen identities": self.scores["unseen"],
                "unseen, raw pixels": self.scores["unseen_pixel"],
            },
            self.figure_path("roc_curves.png"),
            self.config.verification.far_target,
        )
        face_figures.plot_distance_histograms(
            {
                "seen identities, held-out images": self.scores["seen"],
                "unseen identities": self.scores["unseen"],
            },
            self.threshold,
            self.figure_path("distance_histograms.png"),
        )
        rng = np.random.default_rng(self.config.seed)
        seen_labels = split["seen_test"][1]
        shown = rng.permutation(np.unique(seen_labels))[:12]
        keep = np.isin(seen_labels, shown)
        count = len(split["unseen"][1])
        limit = self.config.verification.projection_points
        shown_unseen = np.sort(rng.permutation(count)[:limit])
        face_figures.plot_embedding_projection(
            [
                (
                    f"seen: {len(shown)} training identities, held-out images",
                    self.embeddings["seen_test"][keep],
                    seen_labels[keep],
                    data.class_names,
                ),
                (
                    "unseen identities",
                    self.embeddings["unseen"][shown_unseen],
                    split["unseen"][1][shown_unseen],
                    unseen_names,
                ),
            ],
            self.figure_path("embedding_projection.png"),
            self.config.seed,
        )
        self._plot_one_shot(split["unseen"], unseen_names, rng)

    def _plot_pk_batch(self, data):
        images, labels = (t.numpy() for t in next(iter(data.train)))
        sampler = self.config.sampler
        shown = min(sampler.identities_per_batch, 12)
        grid = images.reshape(
            sampler.identities_per_batch, sampler.images_per_identity, *images.shape[1:]
        )[:shown]
        names = [
            data.class_names[label] for label in labels[:: sampler.images_per_identity]
        ]
        titles = [
            names[p] if k == 0 else ""
            for k in range(grid.shape[1])
            for p in range(shown)
        ]
        plot_image_grid(
            grid.swapaxes(0, 1).reshape(-1, *images.shape[1:]),
            self.figure_path("pk_batch.png"),
            titles=titles,
            columns=shown,
            row_labels=[f"image {k + 1}" for k in range(grid.shape[1])],
        )

    def _plot_one_shot(self, unseen, names, rng, per_identity=3):
        images, labels = unseen
        database = faces.EnrollmentDatabase.load(self.run_dir / "enrolled.npz")
        identities = np.unique(labels)
        gallery = np.asarray([self.enrolled[names[label]] for label in identities])
        queries = np.stack(
            [
                rng.choice(
                    np.setdiff1d(np.flatnonzero(labels == label), gallery),
                    per_identity,
                    replace=True,
                )
                for label in identities
            ],
            axis=1,
        )
        answers = database.identify(self.embeddings["unseen"][queries.reshape(-1)])
        face_figures.plot_one_shot(
            images[gallery],
            [names[label] for label in identities],
            images[queries],
            np.asarray([name for name, _ in answers]).reshape(queries.shape),
            self.figure_path("one_shot.png"),
        )

    # Prediction: identify files against the run's enrolment database.

    def predict(self, model, paths):
        """Returns `(path, identity, distance)` against `enrolled.npz`."""
        return commands.identify_files(self.run_dir, model, paths)


_BACKUP = keras.callbacks.BackupAndRestore


if __name__ == "__main__":
    from keras_recipes.cli import main

    sys.exit(main(["run", FaceTriplet.name, *sys.argv[1:]]))
