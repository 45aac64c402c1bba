"""The built-in recipes; importing this package registers them."""

from keras_recipes.recipes.autoencoder import AutoencoderConfig, AutoencoderRecipe
from keras_recipes.recipes.basics import (
    MLP,
    DeepMLP,
    LinearRegression,
    LogisticRegression,
)
from keras_recipes.recipes.char_rnn import CharRNN, CharRNNConfig
from keras_recipes.recipes.face_triplet import FaceTriplet, FaceTripletConfig
from keras_recipes.recipes.small_data_classifier import (
    SmallDataClassifier,
    SmallDataClassifierConfig,
)
from keras_recipes.recipes.style_transfer import StyleTransfer, StyleTransferConfig
from keras_recipes.recipes.transfer_digits import TransferDigits, TransferDigitsConfig
from keras_recipes.recipes.vae import VAEConfig, VAERecipe
from keras_recipes.recipes.vgg16_bottleneck import (
    VGG16Bottleneck,
    VGG16BottleneckConfig,
)
from keras_recipes.recipes.vgg16_fine_tune import VGG16FineTune, VGG16FineTuneConfig
from keras_recipes.recipes.yolo import YoloConfig, YoloRecipe

__all__ = [
    "AutoencoderConfig",
    "AutoencoderRecipe",
    "MLP",
    "DeepMLP",
    "LinearRegression",
    "LogisticRegression",
    "CharRNN",
    "CharRNNConfig",
    "FaceTriplet",
    "FaceTripletConfig",
    "SmallDataClassifier",
    "SmallDataClassifierConfig",
    "StyleTransfer",
    "StyleTransferConfig",
    "YoloConfig",
    "YoloRecipe",
    "VAEConfig",
    "TransferDigits",
    "TransferDigitsConfig",
    "VAERecipe",
    "VGG16Bottleneck",
    "VGG16BottleneckConfig",
    "VGG16FineTune",
    "VGG16FineTuneConfig",
]
