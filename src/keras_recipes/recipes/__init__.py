"""The built-in recipes; importing this package registers them."""

from keras_recipes.recipes.small_data_classifier import (
    SmallDataClassifier,
    SmallDataClassifierConfig,
)

__all__ = ["SmallDataClassifier", "SmallDataClassifierConfig"]
