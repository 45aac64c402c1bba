"""Embedded data sets, image folders and augmentation.

The names load on first use, so a TensorFlow-free module of this package
(such as `sections`, the config sections) imports without starting it.
"""

import importlib

_PUBLIC = {
    "AugmentationConfig": "keras_recipes.data.sections",
    "FeatureCache": "keras_recipes.data.feature_cache",
    "GLYPH_CLASSES": "keras_recipes.data.glyphs",
    "LabelledImages": "keras_recipes.data.labelled_images",
    "PKSampler": "keras_recipes.data.pk_sampler",
    "RandomImageAugmentation": "keras_recipes.data.image_augmentation",
    "SHAPE_CLASSES": "keras_recipes.data.shapes",
    "augment_batches": "keras_recipes.data.augmentation",
    "build_augmentation": "keras_recipes.data.augmentation",
    "check_image": "keras_recipes.data.image_files",
    "decode_image_file": "keras_recipes.data.image_folder",
    "extract_features": "keras_recipes.data.feature_cache",
    "files_dataset": "keras_recipes.data.image_folder",
    "find_splits": "keras_recipes.data.image_folder",
    "load_digits": "keras_recipes.data.digits",
    "load_identity_folder": "keras_recipes.data.identity_folder",
    "load_images": "keras_recipes.data.image_folder",
    "load_lfw": "keras_recipes.data.lfw",
    "load_shapes": "keras_recipes.data.shapes",
    "pk_dataset": "keras_recipes.data.pk_sampler",
    "predict_ten_crop": "keras_recipes.data.multi_crop",
    "render_glyphs": "keras_recipes.data.glyphs",
    "scan_class_folder": "keras_recipes.data.image_folder",
    "select_per_class": "keras_recipes.data.labelled_images",
    "split_identities": "keras_recipes.data.identity_folder",
    "split_images": "keras_recipes.data.identity_folder",
    "split_validation": "keras_recipes.data.digits",
    "ten_crop": "keras_recipes.data.multi_crop",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
