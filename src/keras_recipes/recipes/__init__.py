"""The built-in recipes, one package each: `config` (no TensorFlow) and `recipe`.

The classes load on first use, so importing this package stays quick and
`python -m keras_recipes.recipes.NAME` runs the recipe's package cleanly.
"""

import importlib

_PUBLIC = {
    "AutoencoderConfig": "autoencoder.config",
    "AutoencoderRecipe": "autoencoder.recipe",
    "CharRNN": "char_rnn.recipe",
    "CharRNNConfig": "char_rnn.config",
    "DeepMLP": "basics.recipe",
    "FaceTriplet": "face_triplet.recipe",
    "FaceTripletConfig": "face_triplet.config",
    "GlyphPretraining": "transfer_digits.recipe",
    "GlyphPretrainingConfig": "transfer_digits.config",
    "LinearRegression": "basics.recipe",
    "LogisticRegression": "basics.recipe",
    "MLP": "basics.recipe",
    "SmallDataClassifier": "small_data_classifier.recipe",
    "SmallDataClassifierConfig": "small_data_classifier.config",
    "StyleTransfer": "style_transfer.recipe",
    "StyleTransferConfig": "style_transfer.config",
    "TransferDigits": "transfer_digits.recipe",
    "TransferDigitsConfig": "transfer_digits.config",
    "VAEConfig": "vae.config",
    "VAERecipe": "vae.recipe",
    "VGG16Bottleneck": "vgg16_bottleneck.recipe",
    "VGG16BottleneckConfig": "vgg16_bottleneck.config",
    "VGG16FineTune": "vgg16_fine_tune.recipe",
    "VGG16FineTuneConfig": "vgg16_fine_tune.config",
    "YoloConfig": "yolo.config",
    "YoloRecipe": "yolo.recipe",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name in _PUBLIC:
        module = importlib.import_module(f"{__name__}.{_PUBLIC[name]}")
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
