"""The `autoencoder` recipe: dense, linear, deep, conv, sparse and denoising
autoencoders, each compared with PCA at the same code size.

`config` holds the settings (no TensorFlow), `data` the noisy and clean
image pairs, `recipe` the `AutoencoderRecipe`.
"""
