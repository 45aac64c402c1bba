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
# # Autoencoders, and why they are compared with PCA
#
# An autoencoder squeezes each image through a small code and rebuilds it
# from that code. With linear layers and squared error, the best it can do is
# what PCA does with as many components as the code has units; with
# non-linear layers it can do better. This walkthrough trains both kinds on
# scikit-learn's 1,797 real 8x8 handwritten digits (pixels scaled to [0, 1]),
# then removes noise from digits and uses the trained model to score unusual
# images and to write codes.
#
# The models follow the Keras blog post "Building Autoencoders in Keras":
# dense, deep, convolutional, sparse and denoising autoencoders, all picked
# with one config key, `model.kind`.

# %%
import json
import os

import numpy as np

import keras_recipes

# A test runs this notebook with KERAS_RECIPES_QUICK=1 to keep it short.
QUICK = os.environ.get("KERAS_RECIPES_QUICK") == "1"

# %% [markdown]
# ## The config
#
# The shipped config trains for up to 120 epochs with a code of 8 units:
# PCA, fitted on the same training images, keeps 8 of the 64 pixel
# directions.

# %%
overrides = {"train.verbose": 0}
if QUICK:
    overrides.update({"train.epochs": 2, "callbacks.tensorboard.enabled": False})
config = keras_recipes.load_config("autoencoder", overrides)
print("kind:", config.model.kind, "| code size:", config.model.code_size)
print("epochs:", config.train.epochs, "| optimizer:", config.optimizer.name)

# %% [markdown]
# ## A linear autoencoder meets PCA
#
# `kind: linear` has an affine encoder and decoder. PCA is the optimum for a
# linear code, so the autoencoder's test error should come down to PCA's:
# that shows training converged. (The two are not the same model: the
# autoencoder's 8 units span PCA's subspace, but need not be its
# components.)


# %%
def compare(metrics):
    return {
        key: round(metrics[key], 5) for key in ("test_reconstruction_mse", "pca_mse")
    }


linear = keras_recipes.run("autoencoder", {**overrides, "model.kind": "linear"})
print(compare(linear.metrics))

# %% [markdown]
# ## A deep autoencoder beats it
#
# The deep kind (Dense 128-64-8 down, 64-128 up, ReLU and a sigmoid output)
# can bend its code around the digits, so at the same code size it rebuilds
# the test digits better than PCA can.

# %%
deep = keras_recipes.run("autoencoder", {**overrides, "model.kind": "deep"})
print(compare(deep.metrics))

# %%
from IPython.display import Image, display  # noqa: E402

display(Image(filename=str(deep.run_dir / "figures" / "reconstructions.png")))

# %% [markdown]
# ## Denoising
#
# `kind: denoising` trains the convolutional autoencoder on inputs with
# Gaussian noise (`data.noise_factor`, 0.5 by default, clipped to [0, 1])
# against the clean images as targets. The test digits get one fixed noise
# draw, and `metrics.json` holds the error before and after denoising.

# %%
denoising = keras_recipes.run("autoencoder", {**overrides, "model.kind": "denoising"})
noisy = denoising.metrics["test_noisy_mse"]
denoised = denoising.metrics["test_denoised_mse"]
print(f"noisy vs clean {noisy:.4f}, denoised vs clean {denoised:.4f}")
print(f"error left: {denoised / noisy:.0%}")
display(Image(filename=str(denoising.run_dir / "figures" / "denoising.png")))

# %% [markdown]
# ## Beyond pictures: anomaly scores and codes
#
# An autoencoder trained on digits rebuilds digits well and anything else
# badly, so its reconstruction error is an anomaly score. The command line
# gives it per file with
# `python -m keras_recipes predict RUN_DIR image1.png image2.png`; in Python,
# load the run and score arrays:

# %%
from keras_recipes.data import load_digits  # noqa: E402

recipe, model = keras_recipes.load_run(deep.run_dir)
_, (x_test, _), _ = load_digits()
digits = x_test[:200] / 255.0
noise = np.random.default_rng(0).random((200, 8, 8, 1)).astype("float32")
print("median score, digits:", np.median(recipe.anomaly_scores(model, digits)))
print("median score, noise: ", np.median(recipe.anomaly_scores(model, noise)))

# %% [markdown]
# The codes themselves are compact features for other models or for
# clustering.
# `python -m keras_recipes encode RUN_DIR FOLDER --output codes.npy` writes
# one code per image, with the image paths in `codes.files.txt`.
#
# ## Your own images
#
# Any folder of images works: images directly in it or in subfolders (the
# subfolder names are kept only as labels for plots), or split into
# `train/`, `validation/` and `test/`. Without `test/`, a fifth of the images
# (`data.test_split`) is held out for testing.
#
#     python -m keras_recipes run autoencoder --set model.kind=conv \
#         --set data.source=folder --set data.directory=my_images \
#         --set data.image_size=[32,32] --set data.color_mode=rgb \
#         --set model.code_size=64

# %%
print(json.dumps(deep.metrics, indent=2))
