"""Model factories: each returns an uncompiled `keras.Model`."""

from keras_recipes.models.autoencoders import (
    conv_autoencoder,
    decoder_of,
    deep_autoencoder,
    dense_autoencoder,
    encoder_of,
    sparse_autoencoder,
)
from keras_recipes.models.classifier import small_cnn
from keras_recipes.models.vae import (
    VAE,
    Sampling,
    vae_decoder,
    vae_encoder,
    variational_autoencoder,
)

__all__ = [
    "VAE",
    "Sampling",
    "conv_autoencoder",
    "decoder_of",
    "deep_autoencoder",
    "dense_autoencoder",
    "encoder_of",
    "small_cnn",
    "sparse_autoencoder",
    "vae_decoder",
    "vae_encoder",
    "variational_autoencoder",
]
