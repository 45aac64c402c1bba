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
# # Bottleneck features: a frozen VGG16, run once, and a small top on its output
#
# The first half of the Keras blog post "Building powerful image
# classification models using very little data": VGG16, trained on ImageNet,
# without its classifier, turns each image into a feature map. Those maps
# never change while the base stays frozen, so the recipe computes them
# once, caches them on disk, and trains a small top model
# (FLATTEN -> DENSE 256 -> DROPOUT 0.5 -> DENSE) on them in seconds. On 2,000
# cats and dogs the post reaches about 90%.
#
# This walkthrough runs offline: ImageNet weights need a download, so it
# uses random VGG16 weights on the embedded digits to show the mechanics
# (the cache, the progress bar, the run directory). `transfer_digits` shows
# transfer with a real pretrained base, offline.

# %%
import json
import os

import keras_recipes

# A test runs this notebook with KERAS_RECIPES_QUICK=1 to keep it short.
QUICK = os.environ.get("KERAS_RECIPES_QUICK") == "1"

# %% [markdown]
# ## The default config
#
# `weights: imagenet` lets Keras fetch the weights on first use. With no
# internet the run stops before any work with one line naming the file Keras
# wants and the folder to put it in; `weights: <file>` loads a local file and
# `weights: null` starts from random weights.

# %%
config = keras_recipes.load_config("vgg16_bottleneck")
print("base:", config.base)
print("data:", config.data.source, config.data.directory, config.data.image_size)
print("approach:", config.approach)

# %% [markdown]
# ## The approach setting
#
# How much of the base to keep depends on how much data there is and how much
# it looks like the base's own: the four cases of
# `keras_recipes.models.transfer_approaches`.

# %%
from keras_recipes.models.transfer_approaches import APPROACHES  # noqa: E402

for name, approach in APPROACHES.items():
    print(f"{name:16s} {approach.advice}")

# %% [markdown]
# ## Run it twice
#
# Random VGG16 weights, the digits upsampled to 32x32 RGB, a few labelled
# images per class. The first run extracts each split's features (with a
# progress bar) into `runs/feature_cache/`; the second finds them there.

# %%
overrides = {
    "data.source": "digits",
    "data.image_size": [32, 32],
    "data.labels_per_class": 5 if QUICK else 50,
    "data.validation_per_class": 2 if QUICK else 20,
    "base.weights": None,
    "train.epochs": 2 if QUICK else 30,
    "train.verbose": 0,
}
first = keras_recipes.run("vgg16_bottleneck", overrides)
second = keras_recipes.run("vgg16_bottleneck", overrides)
for result in (first, second):
    metrics = result.metrics
    print(
        f"extraction step {result.timings['feature_extraction_seconds']:.3f} s, "
        f"cache hits {metrics['feature_cache_hits']}, "
        f"test accuracy {metrics['test_accuracy']:.3f}"
    )

# %% [markdown]
# The cache key holds everything that changes the features: the base and
# its weights (a hash for a local file), the input size, the preprocessing,
# the cut layer and the data files (paths, sizes and times, or content
# hashes with `cache.fingerprint: content`). Change one and the features are
# extracted again; nothing stale is ever read.

# %%
print(json.dumps(second.metrics, indent=2))
print(sorted(p.name for p in second.run_dir.iterdir()))

# %% [markdown]
# `model.keras` is the whole classifier (preprocessing, VGG16, top) taking
# raw images, for `python -m keras_recipes predict <run> photo.jpg`;
# `top.keras` is the top alone, for `vgg16_fine_tune`.
#
# ## Your own images
#
# Put the images in `train/` and `validation/` folders of class subfolders
# (the cats-vs-dogs layout), place the ImageNet weights file where the error
# line says if you are offline, and run
#
#     python -m keras_recipes run vgg16_bottleneck --set data.directory=data
#
# Add `--set evaluation.ten_crop=true` to also report the test accuracy
# averaged over ten crops of each image (corners, centre and their mirrors).
