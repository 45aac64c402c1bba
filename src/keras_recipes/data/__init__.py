"""Embedded data sets, image folders and augmentation."""

from keras_recipes.data.augmentation import (
    AugmentationConfig,
    augment_batches,
    build_augmentation,
)
from keras_recipes.data.digits import load_digits, split_validation
from keras_recipes.data.feature_cache import FeatureCache, extract_features
from keras_recipes.data.glyphs import GLYPH_CLASSES, render_glyphs
from keras_recipes.data.identity_folder import (
    load_identity_folder,
    split_identities,
    split_images,
)
from keras_recipes.data.image_augmentation import RandomImageAugmentation
from keras_recipes.data.image_folder import (
    check_image,
    decode_image_file,
    files_dataset,
    find_splits,
    load_images,
    scan_class_folder,
)
from keras_recipes.data.labelled_images import LabelledImages, select_per_class
from keras_recipes.data.lfw import load_lfw
from keras_recipes.data.multi_crop import predict_ten_crop, ten_crop
from keras_recipes.data.pk_sampler import PKSampler, pk_dataset
from keras_recipes.data.shapes import SHAPE_CLASSES, load_shapes

__all__ = [
    "GLYPH_CLASSES",
    "AugmentationConfig",
    "FeatureCache",
    "LabelledImages",
    "PKSampler",
    "RandomImageAugmentation",
    "SHAPE_CLASSES",
    "augment_batches",
    "build_augmentation",
    "check_image",
    "decode_image_file",
    "extract_features",
    "files_dataset",
    "find_splits",
    "load_digits",
    "load_identity_folder",
    "load_images",
    "load_lfw",
    "load_shapes",
    "pk_dataset",
    "predict_ten_crop",
    "render_glyphs",
    "scan_class_folder",
    "select_per_class",
    "split_identities",
    "split_images",
    "split_validation",
    "ten_crop",
]
