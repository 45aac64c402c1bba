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
# # Neural style transfer, and what a convnet has learned
#
# Neural style transfer (Gatys et al., 2015) paints a content image `C` in the
# style of another image `S`. It trains no network: it takes a network
# already trained on ImageNet (VGG19), and runs gradient descent on the
# *pixels* of a generated image `G` to lower
#
#     J(G) = alpha * J_content(C, G) + beta * sum_l lambda_l * J_style^l(S, G)
#            + tv * TV(G)
#
# - `J_content` is half the sum of squared differences between the feature
#   maps of `C` and `G` at one middle layer (`block5_conv2`);
# - `J_style^l` compares Gram matrices (the channel-by-channel correlations)
#   of `S` and `G` at layer `l`, over `block1_conv1` ... `block5_conv1`;
# - `TV` (total variation) keeps the picture smooth.
#
# The second half of this walkthrough looks inside a trained convnet the way
# the deeplearning.ai course does: for each unit of a layer, the nine image
# patches that excite it most.
#
# **What you need for real results:** the ImageNet weights of VGG19, which
# Keras downloads on first use. Without the internet the recipe stops with
# one line saying which file to put where. Everything below runs without
# them, with *random* VGG weights: that shows the mechanics (the loss falls,
# the colours and textures of the style image creep in) but not the
# painterly results of a trained network.

# %%
import json
import os

from IPython.display import Image, display

import keras_recipes

# A test runs this notebook with KERAS_RECIPES_QUICK=1 to keep it short.
QUICK = os.environ.get("KERAS_RECIPES_QUICK") == "1"

# %% [markdown]
# ## The four losses
#
# They live in `keras_recipes.losses` and take batches of feature maps. A
# Gram matrix is `F^T F`, with `F` the `[height * width, channels]` reshape
# of a feature map: here two channels over two positions.

# %%
import numpy as np  # noqa: E402

from keras_recipes.losses import gram_matrix, style_loss  # noqa: E402

features = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])  # [batch, H=1, W=2, C=2]
print(np.asarray(gram_matrix(features)))  # [[10, 14], [14, 20]]
print(float(style_loss(features, np.zeros_like(features))[0]))  # 892 / 64

# %% [markdown]
# ## The config
#
# The shipped config follows the Keras example: VGG19 with ImageNet weights,
# content at `block5_conv2`, style at the first convolution of each block,
# SGD with a learning rate of 100 decaying by 0.96 every 100 steps, an image
# saved every 100 steps. The content and style images are any files, or the
# photographs shipped with scikit-image and scikit-learn, by name.

# %%
from keras_recipes.data.photos import photo_names  # noqa: E402

print("embedded photos:", ", ".join(photo_names()))
config = keras_recipes.load_config("style_transfer")
print("content:", config.data.content, "| style:", config.data.style)
print("model:", config.model)

# %% [markdown]
# Offline, asking for the ImageNet weights stops before any work, with one
# line (the command line prints it and exits with status 2):

# %%
try:
    keras_recipes.run("style_transfer", {"train.steps": 1, "data.height": 32})
except keras_recipes.UserError as error:
    print(error)

# %% [markdown]
# ## A run with random weights
#
# `model.weights=null` builds VGG19 with random weights. Random features are
# far smaller than ImageNet ones, so the cost's weights are raised to keep
# the style term in charge, and Adam replaces the large-step SGD. With the
# ImageNet weights, keep the shipped values instead.

# %%
overrides = {
    "model.weights": None,
    "model.content_weight": 1e-3,
    "model.style_weight": 1e-2,
    "model.variation_weight": 1e-8,
    "optimizer.name": "adam",
    "optimizer.learning_rate": 4.0,
    "optimizer.schedule.name": "constant",
    "data.height": 64 if QUICK else 128,
    "train.steps": 30 if QUICK else 200,
    "train.save_every": 10 if QUICK else 40,
    "train.verbose": 2,
}
result = keras_recipes.run("style_transfer", overrides)
print(json.dumps(result.metrics, indent=2))

# %% [markdown]
# The run directory holds the resolved `config.yaml` (running it again gives
# the same numbers), `history.csv` with the three weighted terms per step,
# `metrics.json` with the final ones, and in `figures/` an image every
# `train.save_every` steps, `result.png` and these figures:

# %%
for name in ("content_style_result", "progress", "loss_terms"):
    display(Image(filename=str(result.run_dir / "figures" / f"{name}.png")))

# %% [markdown]
# On your own pictures, with the ImageNet weights in Keras's cache:
#
#     python -m keras_recipes run style_transfer \
#         --set data.content=photo.jpg --set data.style=painting.jpg \
#         --set data.height=400
#
# The output keeps the content image's aspect ratio; give `data.width` too
# and both images are centre-cropped to that shape instead of stretched.
# `train.init=noise` or `mix` starts from noise; `model.style_layer_weights`
# sets the `lambda_l`; `model.backbone=VGG16` uses the smaller network.
# The step runs as a `tf.function`, more than twice as fast as an eager
# `GradientTape` loop on CPU (`benchmarks/style_transfer_step.py`);
# `train.jit_compile=true` adds XLA, which was faster still on a quiet CPU
# but slower on a busy one, so it is off by default.
#
# ## What a convnet has learned
#
# Train the small-data classifier on the handwritten digits, then ask, for
# each unit of each convolution layer, which image patches excite it most.
# A unit only sees its *receptive field*: 3x3 pixels for the first layer,
# 8x8 for the second (3x3 convolution, 2x2 pooling, 3x3 convolution), so
# the patches are cut at that size around the strongest position in each
# of the nine most exciting images.

# %%
from keras_recipes.visualize import visualize_run  # noqa: E402

digits = keras_recipes.run(
    "small_data_classifier", {"train.epochs": 3 if QUICK else 60, "train.verbose": 0}
)
print("test accuracy:", round(digits.metrics["test_accuracy"], 4))
found = visualize_run(digits.run_dir)
for name, patches in found.items():
    print(name, "patches:", patches.patches.shape)

# %%
figures = digits.run_dir / "figures"
for name in (
    "filters_block1_conv",
    "top_patches_block1_conv",
    "top_patches_block2_conv",
):
    display(Image(filename=str(figures / f"{name}.png")))

# %% [markdown]
# First-layer units are small edge detectors (a dark row above a bright one,
# a bright column beside a dark one); a unit marked *dead* never fired on the
# test digits. Second-layer units combine them into stroke pieces: ends,
# corners, curves. The same command works on any run directory of this
# package with a convolutional model:
#
#     python -m keras_recipes visualize runs/small_data_classifier/<run> \
#         --layer block2_conv
