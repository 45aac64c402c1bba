"""Neural style transfer: VGG features, the weighted cost, the image step."""

from keras_recipes.style.extractor import style_feature_extractor
from keras_recipes.style.images import (
    fit_size,
    initial_image,
    load_image,
    read_image,
)
from keras_recipes.style.loss import StyleTransferLoss
from keras_recipes.style.optimize import build_step

__all__ = [
    "StyleTransferLoss",
    "build_step",
    "fit_size",
    "initial_image",
    "load_image",
    "read_image",
    "style_feature_extractor",
]
