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
# # The variational autoencoder
#
# A variational autoencoder (VAE) encodes each image as a Gaussian
# distribution over a small latent space rather than as one point, and
# learns a decoder that turns any point of that space into an image. Because
# the encodings are pulled towards a standard normal prior, points drawn from
# the prior decode into new images. This walkthrough trains one with a 2-D
# latent space on scikit-learn's 8x8 handwritten digits, so the whole latent
# space can be drawn.
#
# The model follows the Keras VAE example: an encoder giving `z_mean` and
# `z_log_var`, a `Sampling` layer (the reparameterisation trick), a decoder,
# and a custom `train_step` that reports three losses.

# %%
import json
import os

import keras_recipes

# A test runs this notebook with KERAS_RECIPES_QUICK=1 to keep it short.
QUICK = os.environ.get("KERAS_RECIPES_QUICK") == "1"

# %% [markdown]
# ## Train
#
# The loss is the negative evidence lower bound (ELBO), per image, in nats:
# the reconstruction term is the binary cross-entropy summed over the 64
# pixels, and the KL term is the divergence of the encoder's Gaussian from
# the prior. `model.beta` weighs the KL term (1 gives the ELBO).

# %%
overrides = {"train.verbose": 0}
if QUICK:
    overrides.update({"train.epochs": 3, "callbacks.tensorboard.enabled": False})
result = keras_recipes.run("vae", overrides)
print(json.dumps(result.metrics, indent=2))

# %% [markdown]
# `test_reconstruction_mse` decodes each test image's latent mean; with only
# two numbers per image the VAE rebuilds the digits better than PCA with two
# components (`pca_mse`).
#
# ## Reconstructions, the latent space and new digits

# %%
from IPython.display import Image, display  # noqa: E402

figures = result.run_dir / "figures"
display(Image(filename=str(figures / "reconstructions.png")))

# %% [markdown]
# Each test image's latent mean, coloured by its digit: the classes form
# regions although the model never saw a label.

# %%
display(Image(filename=str(figures / "latent_scatter.png")))

# %% [markdown]
# Decoding an even grid of the prior (from its 5% to its 95% quantile on each
# axis) shows how one digit morphs into the next.

# %%
display(Image(filename=str(figures / "latent_manifold.png")))

# %% [markdown]
# Samples from the prior, for any latent size:

# %%
display(Image(filename=str(figures / "prior_samples.png")))

# %% [markdown]
# ## Save and load
#
# `model.keras` holds the encoder and decoder as one functional model, which
# plain Keras loads anywhere: images in, `z_mean`, `z_log_var` and the
# reconstruction out. `keras_recipes.load_run` rebuilds the `VAE` from it,
# with the run's `beta` and seed. Evaluation uses one fixed draw of the
# latent noise, so the reloaded model scores the test digits exactly as the
# run did.

# %%
from keras_recipes.data import load_digits  # noqa: E402

_, (x_test, _), _ = load_digits()
_, loaded = keras_recipes.load_run(result.run_dir)
losses = loaded.per_image_losses(x_test / 255.0, batch_size=32)
print("reloaded test_negative_elbo:", losses["negative_elbo"].mean())
print("run's    test_negative_elbo:", result.metrics["test_negative_elbo"])

# %% [markdown]
# ## Anomaly scores and codes
#
# `per_image_losses` gives each image's negative ELBO, a score of how
# unlikely the model finds it. From the command line,
# `python -m keras_recipes predict RUN_DIR image.png` prints each file's
# reconstruction error and negative ELBO, and
# `python -m keras_recipes encode RUN_DIR FOLDER --output codes.npy` writes
# the latent means.
#
# ## Further
#
# - `--set model.latent_dim=8` rebuilds the digits better; the scatter and
#   grid need two dimensions, the prior samples do not.
# - `--set model.beta=4` weighs the prior more (a beta-VAE): smoother latent
#   space, blurrier reconstructions.
# - `--set model.conv_filters=[32,64]` adds strided convolutions for larger
#   images, e.g. a folder with `--set data.source=folder
#   --set data.directory=my_images --set data.image_size=[28,28]`.
