"""Loss functions: triplet embeddings and neural style transfer."""

from keras_recipes.losses.distances import pairwise_distances
from keras_recipes.losses.gram import gram_matrix
from keras_recipes.losses.style import content_loss, style_loss
from keras_recipes.losses.total_variation import total_variation_loss
from keras_recipes.losses.triplet import TripletLoss

__all__ = [
    "TripletLoss",
    "content_loss",
    "gram_matrix",
    "pairwise_distances",
    "style_loss",
    "total_variation_loss",
]
