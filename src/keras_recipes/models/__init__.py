"""Model factories: each returns an uncompiled `keras.Model`."""

from keras_recipes.models.autoencoders import (
    conv_autoencoder,
    decoder_of,
    deep_autoencoder,
    dense_autoencoder,
    encoder_of,
    sparse_autoencoder,
)
from keras_recipes.models.char_rnn import char_rnn
from keras_recipes.models.classifier import small_cnn
from keras_recipes.models.conv_nd import conv_output_size
from keras_recipes.models.dense import (
    deep_mlp,
    dense_network,
    linear_regression,
    logistic_regression,
    mlp,
)
from keras_recipes.models.embedding import (
    AbsoluteDifference,
    conv_backbone,
    embedding_model,
    siamese_model,
)
from keras_recipes.models.transfer import (
    ApplicationPreprocessing,
    application_preprocessing,
    cut_base,
    freeze_base,
    top_model,
    transfer_model,
)
from keras_recipes.models.vae import (
    VAE,
    Sampling,
    vae_decoder,
    vae_encoder,
    variational_autoencoder,
)

__all__ = [
    "VAE",
    "AbsoluteDifference",
    "ApplicationPreprocessing",
    "Sampling",
    "application_preprocessing",
    "char_rnn",
    "conv_autoencoder",
    "conv_backbone",
    "conv_output_size",
    "cut_base",
    "decoder_of",
    "deep_autoencoder",
    "deep_mlp",
    "dense_autoencoder",
    "dense_network",
    "embedding_model",
    "encoder_of",
    "freeze_base",
    "linear_regression",
    "logistic_regression",
    "mlp",
    "siamese_model",
    "small_cnn",
    "sparse_autoencoder",
    "top_model",
    "transfer_model",
    "vae_decoder",
    "vae_encoder",
    "variational_autoencoder",
]
