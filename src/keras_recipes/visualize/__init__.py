"""What deep convnets learn: receptive fields, top patches, filters."""

from keras_recipes.visualize.patches import UnitPatches, layer_activations, top_patches
from keras_recipes.visualize.plots import plot_filters, plot_unit_patches
from keras_recipes.visualize.receptive_field import ReceptiveField, receptive_field
from keras_recipes.visualize.run import conv_layer_names, visualize_run

__all__ = [
    "ReceptiveField",
    "UnitPatches",
    "conv_layer_names",
    "layer_activations",
    "plot_filters",
    "plot_unit_patches",
    "receptive_field",
    "top_patches",
    "visualize_run",
]
