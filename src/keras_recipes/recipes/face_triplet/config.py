"""The settings of the `face_triplet` recipe; no TensorFlow is imported."""

import dataclasses
from typing import ClassVar, Literal

from keras_recipes.config import (
    CallbacksConfig,
    ImageCacheConfig,
    OptimizerConfig,
    RecipeConfig,
    TrainConfig,
    param,
    section,
)
from keras_recipes.data.sections import AugmentationConfig
from keras_recipes.data.source_checks import check_folder_source, check_image_size
from keras_recipes.errors import ConfigError


@dataclasses.dataclass
class FaceDataConfig:
    """Identities to train on, and the unseen identities to test on."""

    # What a folder of face photos gets unless `image_size` or `color_mode`
    # is set; `lfw` reads `directory` as its download folder.
    folder_defaults: ClassVar[dict] = {"image_size": [64, 64], "color_mode": "rgb"}
    directory_sources: ClassVar[tuple] = ("folder", "lfw")

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
    # 100 letters of each of the 52 identities: 5,200 images, of which 65%
    # train, 15% validate and 20% test.
    glyphs_per_class: int = param(100, minimum=2, doc="glyphs: images per letter.")
    glyph_font_size: list[int] = param(
        [30, 42], doc="glyphs: font sizes in pixels of the 32x32 canvas."
    )
    # Size-normalised like the digits: about +0.02 unseen AUC.
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
    image_size: list[int] = param(
        [8, 8], doc="Height and width fed to the model; a folder gets 64x64."
    )
    color_mode: Literal["grayscale", "rgb"] = param(
        "grayscale", doc="A folder gets rgb unless set."
    )
    skip_bad_files: bool = param(
        False,
        doc="Skip unreadable files in the folder (listed in skipped_files.txt) "
        "instead of stopping.",
    )
    augmentation: AugmentationConfig = section(AugmentationConfig)
    cache: ImageCacheConfig = section(ImageCacheConfig)

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
    """P x K batches: P identities, K images of each (16 x 4 = 64)."""

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
    max_queries: int = param(
        2000, minimum=1, doc="Queries per one-shot trial; beyond, drawn at random."
    )
    projector_points: int = param(2000, minimum=0, doc="Embeddings for TensorBoard.")
    projection_points: int = param(
        600, minimum=10, doc="Unseen images in the t-SNE figure (it is slow)."
    )


@dataclasses.dataclass
class FaceTripletConfig(RecipeConfig):
    """Config of the `face_triplet` recipe.

    The defaults train on letters rendered from matplotlib's fonts (52
    identities) and test verification and one-shot recognition on the real
    handwritten digits, which the model never sees. Training stops on the
    validation pairs' AUC (`val_auc`), which the recipe adds to each epoch's
    logs, and keeps the model that scored it best.

    Example:

    ```python
    from keras_recipes.config import resolve

    config = resolve(FaceTripletConfig, overrides=["data.unseen=held_out"])
    ```
    """

    description: ClassVar[str] = (
        "FaceNet triplet embeddings: verification, one-shot recognition."
    )

    recipe: str = param("face_triplet")
    data: FaceDataConfig = section(FaceDataConfig)
    sampler: PKSamplerConfig = section(PKSamplerConfig)
    model: EmbeddingConfig = section(EmbeddingConfig)
    loss: TripletLossConfig = section(TripletLossConfig)
    verification: VerificationConfig = section(VerificationConfig)
    optimizer: OptimizerConfig = section(
        OptimizerConfig, learning_rate=0.002, schedule={"name": "cosine"}
    )
    train: TrainConfig = section(TrainConfig, epochs=40, validation_split=0.15)
    callbacks: CallbacksConfig = section(
        CallbacksConfig,
        early_stopping={"monitor": "val_auc", "mode": "max", "patience": 10},
        model_checkpoint={"monitor": "val_auc", "mode": "max"},
    )
