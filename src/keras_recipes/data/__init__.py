"""Embedded data sets, image folders and augmentation."""

from keras_recipes.data.augmentation import AugmentationConfig, build_augmentation
from keras_recipes.data.digits import load_digits, split_validation
from keras_recipes.data.image_folder import (
    check_image,
    decode_image_file,
    files_dataset,
    find_splits,
    load_images,
    scan_class_folder,
)

__all__ = [
    "AugmentationConfig",
    "build_augmentation",
    "check_image",
    "decode_image_file",
    "files_dataset",
    "find_splits",
    "load_digits",
    "load_images",
    "scan_class_folder",
    "split_validation",
]
