"""Neural style transfer: VGG features, the weighted cost, the image step."""

from keras_recipes.style.callbacks import (
    ImageSnapshots,
    StepHistory,
    StepTimer,
    read_snapshots,
)
from keras_recipes.style.extractor import style_feature_extractor
from keras_recipes.style.images import (
    fit_size,
    initial_image,
    load_image,
    read_image,
    save_image,
)
from keras_recipes.style.loss import StyleTransferLoss
from keras_recipes.style.model import StyleTransferModel
from keras_recipes.style.optimize import build_step, image_step

__all__ = [
    "ImageSnapshots",
    "StepHistory",
    "StepTimer",
    "StyleTransferLoss",
    "StyleTransferModel",
    "build_step",
    "fit_size",
    "image_step",
    "initial_image",
    "load_image",
    "read_image",
    "read_snapshots",
    "save_image",
    "style_feature_extractor",
]
