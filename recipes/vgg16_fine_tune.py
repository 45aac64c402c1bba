# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Fine-tuning the last conv block of VGG16
#
# The second half of the Keras blog post "Building powerful image
# classification models using very little data" (about 94% on 2,000 cats
# and dogs): start from a top model already trained on bottleneck features,
# unfreeze VGG16's last conv block, and train it together with the top with
# a slow SGD (1e-4, momentum 0.9) and augmentation. A random top would send
# large gradients into the base and wreck its features, hence the trained
# top first.
#
# Offline, this walkthrough uses random VGG16 weights on the embedded digits
# to show the mechanics: which weights train, at which rate, from which top.

# %%
import os

import numpy as np

import keras_recipes
from keras_recipes.recipes import VGG16FineTune

# A test runs this notebook with KERAS_RECIPES_QUICK=1 to keep it short.
QUICK = os.environ.get("KERAS_RECIPES_QUICK") == "1"

# %% [markdown]
# ## A bottleneck run first
#
# Its `top.keras` is the trained top the fine-tuning starts from.

# %%
common = {
    "data.source": "digits",
    "data.image_size": [32, 32],
    "data.labels_per_class": 4 if QUICK else 50,
    "data.validation_per_class": 2 if QUICK else 20,
    "base.weights": None,
    "train.verbose": 0,
}
bottleneck = keras_recipes.run(
    "vgg16_bottleneck", {**common, "train.epochs": 2 if QUICK else 30}
)
print("top trained in", bottleneck.run_dir)

# %% [markdown]
# ## What trains
#
# `approach: small_similar` (few images, like the base's) fine-tunes the
# base's last block: `block5` for VGG16. `fine_tune.trainable_from` names
# another layer or block, or counts the frozen layers. BatchNormalization
# layers (VGG16 has none) stay frozen and in inference mode.

# %%
config = keras_recipes.load_config(
    "vgg16_fine_tune",
    {
        **common,
        "fine_tune.top_run": str(bottleneck.run_dir),
        "data.augmentation.flip": "none",  # digits are not mirror-symmetric
        "train.epochs": 1 if QUICK else 10,
    },
)
result = VGG16FineTune(config).run()
# The finished run's model, as it was saved: compiled, with the base's
# frozen and trainable layers.
_, model = keras_recipes.load_run(result.run_dir)
trainable = {w.path.split("/")[0] for w in model.trainable_weights}
print("trainable:", sorted(trainable))
print("trainable weights:", sum(int(np.prod(w.shape)) for w in model.trainable_weights))
print(
    "optimizer:", type(model.optimizer).__name__, float(model.optimizer.learning_rate)
)
print("test accuracy:", round(result.metrics["test_accuracy"], 4))

# %% [markdown]
# ## Figures
#
# The augmentation preview shows what the fine-tuning trains on.

# %%
from IPython.display import Image, display  # noqa: E402

for name in ("training_curves", "augmentation_preview", "confusion_matrix"):
    display(Image(filename=str(result.run_dir / "figures" / f"{name}.png")))

# %% [markdown]
# ## Your own images
#
#     python -m keras_recipes run vgg16_bottleneck --set data.directory=data
#     python -m keras_recipes run vgg16_fine_tune --set data.directory=data \
#         --set fine_tune.top_run=runs/vgg16_bottleneck/<run>
#
# Without `fine_tune.top_run`, the recipe trains the top on the cached
# bottleneck features first, then fine-tunes, in one run.
