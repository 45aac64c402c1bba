"""The variational autoencoder: `Sampling`, encoder and decoder factories, `VAE`.

The encoder maps an image to the mean and log-variance of a diagonal Gaussian
over the latent space, `Sampling` draws from it with the reparameterisation
trick, and the decoder maps a latent point to per-pixel Bernoulli probabilities.
`VAE` trains them together on the negative evidence lower bound (ELBO).

Inputs are images scaled to `[0, 1]`. All losses are per image, in nats:

- `reconstruction_loss`: binary cross-entropy summed over pixels (and channels);
- `kl_loss`: the analytic KL divergence from the encoder's Gaussian to the
  standard normal prior, summed over latent dimensions;
- `loss`: `reconstruction_loss + beta * kl_loss`, which is the negative ELBO
  when `beta=1`.

Reference:
    - [Kingma & Welling, Auto-Encoding Variational Bayes](
        https://arxiv.org/abs/1312.6114)
    - [Building Autoencoders in Keras](
        https://blog.keras.io/building-autoencoders-in-keras.html)
"""

import math
import numbers

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from keras_recipes.models.autoencoders import (
    _check_positive_int,
    _check_positive_ints,
    _check_shape,
)
from keras_recipes.precision import keep_outputs_float32


@keras.saving.register_keras_serializable(package="keras_recipes")
class Sampling(layers.Layer):
    """Draws `z = mean + exp(log_var / 2) * noise` with standard normal noise.

    This is the reparameterisation trick: the randomness sits in `noise`, so
    gradients flow through `mean` and `log_var`. The noise comes from a
    `keras.random.SeedGenerator`, so a fixed `seed` gives a reproducible
    sequence of draws.

    Args:
        seed: Integer seed of the noise. Defaults to `None` (unseeded).
        **kwargs: Base layer keyword arguments such as `name`.
            Defaults to none.

    Call arguments:
        inputs: A pair `(mean, log_var)` of tensors of shape
            `(batch_size, latent_dim)`.
        noise: Optional tensor of the same shape used instead of a fresh draw,
            for example zeros to get the mean. Defaults to `None`.

    Returns:
        A tensor of shape `(batch_size, latent_dim)`.

    Example:

    >>> sampling = Sampling(seed=0)
    >>> mean, log_var = np.zeros((4, 2)), np.zeros((4, 2))
    >>> tuple(sampling([mean, log_var]).shape)
    (4, 2)

    Reference:
        - [Kingma & Welling, Auto-Encoding Variational Bayes](
            https://arxiv.org/abs/1312.6114)
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and not isinstance(seed, numbers.Integral):
            raise ValueError(
                f"`seed` must be an integer or None. Received: seed={seed}"
            )
        self.seed = None if seed is None else int(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def call(self, inputs, noise=None):
        mean, log_var = inputs
        if noise is None:
            noise = keras.random.normal(
                ops.shape(mean), dtype=mean.dtype, seed=self.seed_generator
            )
        return mean + ops.exp(0.5 * log_var) * noise

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        return config


def vae_encoder(
    input_shape=(8, 8, 1),
    latent_dim=2,
    hidden_units=(64,),
    conv_filters=(),
    name="vae_encoder",
):
    """Builds a VAE encoder mapping images to `(z_mean, z_log_var)`.

    By default the image is flattened and passed through fully connected layers.
    With `conv_filters`, 3x3 convolutions with stride 2 come first (any height
    and width works; each stage halves them, rounding up).

    Args:
        input_shape: Shape of one image, pixels scaled to `[0, 1]`.
            Defaults to `(8, 8, 1)`.
        latent_dim: Size of the latent space. Defaults to `2`.
        hidden_units: Widths of the fully connected hidden layers; may be empty.
            Defaults to `(64,)`.
        conv_filters: Filters of the strided convolutions before them; empty
            for a fully connected encoder. Defaults to `()`.
        name: Name of the returned model. Defaults to `"vae_encoder"`.

    Returns:
        An uncompiled functional `keras.Model` with two outputs, the layers
        `"z_mean"` and `"z_log_var"`, each of shape `(batch_size, latent_dim)`.

    Example:

    >>> encoder = vae_encoder(input_shape=(28, 28, 1), conv_filters=(32, 64))
    >>> encoder.output_shape
    [(None, 2), (None, 2)]

    Reference:
        - [Kingma & Welling, Auto-Encoding Variational Bayes](
            https://arxiv.org/abs/1312.6114)
    """
    input_shape, latent_dim, hidden_units, conv_filters = _check_arguments(
        input_shape, latent_dim, hidden_units, conv_filters
    )
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for index, filters in enumerate(conv_filters, start=1):
        x = layers.Conv2D(
            filters,
            3,
            strides=2,
            padding="same",
            activation="relu",
            name=f"encoder_conv_{index}",
        )(x)
    x = layers.Flatten(name="flatten")(x)
    for index, units in enumerate(hidden_units, start=1):
        x = layers.Dense(units, activation="relu", name=f"encoder_dense_{index}")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    return keras.Model(inputs, [z_mean, z_log_var], name=name)


def vae_decoder(
    output_shape=(8, 8, 1),
    latent_dim=2,
    hidden_units=(64,),
    conv_filters=(),
    name="vae_decoder",
):
    """Builds a VAE decoder mapping latent points to pixel probabilities.

    It mirrors `vae_encoder`: fully connected layers in reverse order, then,
    with `conv_filters`, a reshape to a small feature map and 3x3 transposed
    convolutions with stride 2, cropped to `output_shape` when the size was
    rounded up on the way down.

    Args:
        output_shape: Shape of one image. Defaults to `(8, 8, 1)`.
        latent_dim: Size of the latent space. Defaults to `2`.
        hidden_units: Widths of the encoder's fully connected hidden layers,
            used here in reverse; may be empty. Defaults to `(64,)`.
        conv_filters: Filters of the encoder's convolutions, used here in
            reverse; empty for a fully connected decoder. Defaults to `()`.
        name: Name of the returned model. Defaults to `"vae_decoder"`.

    Returns:
        An uncompiled functional `keras.Model` whose output layer
        `"reconstruction"` gives sigmoid probabilities of shape
        `(batch_size, *output_shape)`.

    Example:

    >>> decoder = vae_decoder(output_shape=(28, 28, 1), conv_filters=(32, 64))
    >>> decoder.output_shape
    (None, 28, 28, 1)

    Reference:
        - [Kingma & Welling, Auto-Encoding Variational Bayes](
            https://arxiv.org/abs/1312.6114)
    """
    output_shape, latent_dim, hidden_units, conv_filters = _check_arguments(
        output_shape, latent_dim, hidden_units, conv_filters, "output_shape"
    )
    latents = keras.Input(shape=(latent_dim,), name="z")
    x = latents
    for index, units in enumerate(hidden_units[::-1], start=1):
        x = layers.Dense(units, activation="relu", name=f"decoder_dense_{index}")(x)
    if conv_filters:
        height, width, channels = output_shape
        factor = 2 ** len(conv_filters)
        small_shape = (
            math.ceil(height / factor),
            math.ceil(width / factor),
            conv_filters[-1],
        )
        x = layers.Dense(
            math.prod(small_shape), activation="relu", name="decoder_project"
        )(x)
        x = layers.Reshape(small_shape, name="decoder_reshape")(x)
        for index, filters in enumerate(conv_filters[::-1], start=1):
            x = layers.Conv2DTranspose(
                filters,
                3,
                strides=2,
                padding="same",
                activation="relu",
                name=f"decoder_deconv_{index}",
            )(x)
        crop = ((0, x.shape[1] - height), (0, x.shape[2] - width))
        if crop != ((0, 0), (0, 0)):
            x = layers.Cropping2D(crop, name="crop")(x)
        x = layers.Conv2D(channels, 3, padding="same", name="decoder_logits")(x)
    else:
        x = layers.Dense(math.prod(output_shape), name="decoder_logits")(x)
        x = layers.Reshape(output_shape, name="decoder_reshape")(x)
    outputs = layers.Activation("sigmoid", name="reconstruction")(x)
    return keras.Model(latents, outputs, name=name)


def variational_autoencoder(
    input_shape=(8, 8, 1),
    latent_dim=2,
    hidden_units=(64,),
    conv_filters=(),
    beta=1.0,
    seed=None,
    name="vae",
):
    """Builds an uncompiled `VAE` from a matching encoder and decoder.

    Args:
        input_shape: Shape of one image, pixels scaled to `[0, 1]`.
            Defaults to `(8, 8, 1)`.
        latent_dim: Size of the latent space. Defaults to `2`.
        hidden_units: Widths of the encoder's fully connected hidden layers;
            the decoder uses them in reverse. Defaults to `(64,)`.
        conv_filters: Filters of the encoder's strided convolutions; empty for
            a fully connected model. Defaults to `()`.
        beta: Weight of the KL term in the loss. Defaults to `1.0`.
        seed: Integer seed of the sampling noise. Defaults to `None`.
        name: Name of the returned model. Defaults to `"vae"`.

    Returns:
        An uncompiled `VAE`; compile it with an optimizer only.

    Example:

    >>> vae = variational_autoencoder(latent_dim=2, seed=0)
    >>> vae.compile(optimizer="adam")
    >>> history = vae.fit(np.random.rand(64, 8, 8, 1), epochs=1, verbose=0)
    >>> sorted(history.history)
    ['kl_loss', 'loss', 'reconstruction_loss']

    Reference:
        - [Kingma & Welling, Auto-Encoding Variational Bayes](
            https://arxiv.org/abs/1312.6114)
    """
    encoder = vae_encoder(input_shape, latent_dim, hidden_units, conv_filters)
    decoder = vae_decoder(input_shape, latent_dim, hidden_units, conv_filters)
    return VAE(encoder, decoder, beta=beta, seed=seed, name=name)


@keras.saving.register_keras_serializable(package="keras_recipes")
class VAE(keras.Model):
    """A variational autoencoder trained on the (beta-weighted) negative ELBO.

    `fit()` and `evaluate()` report three per-image means, in nats:
    `reconstruction_loss` (binary cross-entropy summed over pixels), `kl_loss`
    (analytic Gaussian KL to the standard normal prior) and
    `loss = reconstruction_loss + beta * kl_loss`; with `beta=1` the loss is the
    negative ELBO. The metrics average over images, not batches, so a smaller
    last batch is weighted correctly. Regularisation losses of the encoder or
    decoder, if any, are added to `loss`.

    Training draws fresh noise from the `Sampling` layer. Evaluation
    (`evaluate()`, `per_image_losses()`) uses one fixed, seeded noise draw per
    batch position instead, so it is a deterministic function of the weights
    and the data: evaluating twice, or after `save()` and
    `keras.saving.load_model()`, gives the same numbers for the same batch
    size.

    Calling the model returns reconstructions (probabilities in `[0, 1]`)
    decoded from `z_mean` by default, which is what `predict()` gives; with
    `training=True` it decodes a sampled `z` instead.

    Only the TensorFlow backend is supported for training.

    Args:
        encoder: Functional `keras.Model` mapping images to `[z_mean,
            z_log_var]`, as built by `vae_encoder()`. No default.
        decoder: Functional `keras.Model` mapping latent points to sigmoid
            probabilities with the encoder's input shape, as built by
            `vae_decoder()`. No default.
        beta: Weight of the KL term in the loss, at least zero.
            Defaults to `1.0`.
        seed: Integer seed of the training noise and of the fixed evaluation
            noise. Defaults to `None` (random training noise; evaluation noise
            seeded with 0).
        **kwargs: Base model keyword arguments such as `name`.
            Defaults to none.

    Example:

    >>> vae = VAE(vae_encoder(latent_dim=2), vae_decoder(latent_dim=2), seed=0)
    >>> vae.compile(optimizer="adam")
    >>> images = np.random.rand(64, 8, 8, 1).astype("float32")
    >>> history = vae.fit(images, epochs=2, batch_size=32, verbose=0)
    >>> scores = vae.per_image_losses(images)["negative_elbo"]  # anomaly scores
    >>> vae.sample(16).shape
    (16, 8, 8, 1)

    Reference:
        - [Kingma & Welling, Auto-Encoding Variational Bayes](
            https://arxiv.org/abs/1312.6114)
        - [Building Autoencoders in Keras](
            https://blog.keras.io/building-autoencoders-in-keras.html)
    """

    def __init__(self, encoder, decoder, beta=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_encoder_decoder(encoder, decoder)
        if isinstance(beta, bool) or not (isinstance(beta, numbers.Real) and beta >= 0):
            raise ValueError(
                f"`beta` must be a number greater than or equal to zero. "
                f"Received: beta={beta}"
            )
        # Under a mixed dtype policy the latent statistics and the pixel
        # probabilities stay float32: the costs sum many small terms.
        keep_outputs_float32(encoder)
        keep_outputs_float32(decoder)
        self.encoder = encoder
        self.decoder = decoder
        self.beta = float(beta)
        self.sampling = Sampling(seed=seed, name="sampling", dtype="float32")
        self.seed = self.sampling.seed
        self._evaluation_seed = 0 if self.seed is None else self.seed
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(
            name="reconstruction_loss"
        )
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")
        self.build(encoder.input_shape)

    @property
    def latent_dim(self):
        """Size of the latent space."""
        return self.decoder.input_shape[-1]

    @property
    def metrics(self):
        return [
            self.loss_tracker,
            self.reconstruction_loss_tracker,
            self.kl_loss_tracker,
        ]

    def build(self, input_shape):
        # The encoder and decoder arrive built and the rest holds no weights;
        # being built lets load_model() restore the optimizer's variables.
        self.built = True

    def call(self, inputs, training=None):
        z_mean, z_log_var = self.encoder(inputs, training=training)
        z = self.sampling([z_mean, z_log_var]) if training else z_mean
        return self.decoder(z, training=training)

    def train_step(self, data):
        if keras.backend.backend() != "tensorflow":
            raise NotImplementedError(
                "VAE.train_step needs the TensorFlow backend. "
                f"Received: backend={keras.backend.backend()}"
            )
        images = _images_of(data)
        with tf.GradientTape() as tape:
            reconstruction, kl, loss = self._loss_terms(images, training=True)
            total = ops.mean(loss)
            # Replicas' gradients are summed; each contributes its share.
            total = total / tf.distribute.get_strategy().num_replicas_in_sync
        gradients = tape.gradient(total, self.trainable_weights)
        self.optimizer.apply(gradients, self.trainable_weights)
        return self._update_metrics(reconstruction, kl, loss)

    def test_step(self, data):
        images = _images_of(data)
        reconstruction, kl, loss = self._loss_terms(images, training=False)
        return self._update_metrics(reconstruction, kl, loss)

    def per_image_losses(self, images, batch_size=32):
        """Computes each image's losses, for example as anomaly scores.

        The noise is the same fixed draw `evaluate()` uses, so for the same
        `batch_size` the means of these arrays equal the numbers `evaluate()`
        reports.

        Args:
            images: Array of shape `(num_images, *input_shape)`, pixels scaled
                to `[0, 1]`. No default.
            batch_size: Number of images per forward pass. Defaults to `32`.

        Returns:
            A dict of NumPy arrays of shape `(num_images,)`, in nats:
            `"reconstruction_loss"`, `"kl_loss"`, `"loss"` (with `beta`) and
            `"negative_elbo"` (`reconstruction_loss + kl_loss`, whatever
            `beta` is).

        Example:

        >>> vae = variational_autoencoder(seed=0)
        >>> vae.per_image_losses(np.random.rand(5, 8, 8, 1))["kl_loss"].shape
        (5,)

        Reference:
            - [Kingma & Welling, Auto-Encoding Variational Bayes](
                https://arxiv.org/abs/1312.6114)
        """
        batch_size = _check_positive_int(batch_size, "batch_size")
        images = np.asarray(images, dtype="float32")
        parts = {"reconstruction_loss": [], "kl_loss": [], "loss": []}
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size]
            values = self._loss_terms(batch, training=False)
            for key, value in zip(parts, values, strict=True):
                parts[key].append(ops.convert_to_numpy(value))
        result = {
            key: np.concatenate(value) if value else np.zeros((0,), "float32")
            for key, value in parts.items()
        }
        result["negative_elbo"] = result["reconstruction_loss"] + result["kl_loss"]
        return result

    def sample(self, num_images, seed=None):
        """Decodes draws from the standard normal prior into images.

        Args:
            num_images: Number of images to draw. No default.
            seed: Integer seed for the draws. Defaults to `None` (random).

        Returns:
            A NumPy array of shape `(num_images, *input_shape)` of pixel
            probabilities in `[0, 1]`.

        Example:

        >>> vae = variational_autoencoder(seed=0)
        >>> vae.sample(9, seed=1).shape
        (9, 8, 8, 1)

        Reference:
            - [Kingma & Welling, Auto-Encoding Variational Bayes](
                https://arxiv.org/abs/1312.6114)
        """
        num_images = _check_positive_int(num_images, "num_images")
        z = keras.random.normal((num_images, self.latent_dim), seed=seed)
        return ops.convert_to_numpy(self.decoder(z, training=False))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder),
                "beta": self.beta,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

    def _loss_terms(self, images, training):
        z_mean, z_log_var = self.encoder(images, training=training)
        noise = None
        if not training:
            # A stateless draw from a fixed seed makes evaluation a function of
            # the weights and the data alone, so it survives save and load.
            noise = keras.random.normal(
                ops.shape(z_mean), dtype=z_mean.dtype, seed=self._evaluation_seed
            )
        z = self.sampling([z_mean, z_log_var], noise=noise)
        probabilities = self.decoder(z, training=training)
        # On TensorFlow this reads the logits behind the decoder's final sigmoid,
        # so the loss stays finite and informative for saturated pixels.
        pixel_losses = ops.binary_crossentropy(
            ops.cast(images, probabilities.dtype), probabilities
        )
        reconstruction = ops.sum(
            ops.reshape(pixel_losses, (ops.shape(images)[0], -1)), axis=1
        )
        kl = -0.5 * ops.sum(
            1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=1
        )
        loss = reconstruction + self.beta * kl
        if self.losses:
            loss = loss + ops.sum(self.losses)
        return reconstruction, kl, loss

    def _update_metrics(self, reconstruction, kl, loss):
        self.loss_tracker.update_state(loss)
        self.reconstruction_loss_tracker.update_state(reconstruction)
        self.kl_loss_tracker.update_state(kl)
        return {metric.name: metric.result() for metric in self.metrics}


def _images_of(data):
    # fit(x) gives x; fit(x, y) or a dataset of pairs gives a tuple.
    if isinstance(data, (tuple, list)):
        return data[0]
    return data


def _check_arguments(
    shape, latent_dim, hidden_units, conv_filters, shape_argument="input_shape"
):
    shape = _check_shape(shape, shape_argument)
    latent_dim = _check_positive_int(latent_dim, "latent_dim")
    hidden_units = _check_positive_ints(hidden_units, "hidden_units", allow_empty=True)
    conv_filters = _check_positive_ints(conv_filters, "conv_filters", allow_empty=True)
    if conv_filters and len(shape) != 3:
        raise ValueError(
            f"A convolutional VAE needs `{shape_argument}` (height, width, "
            f"channels). Received: {shape_argument}={shape}"
        )
    return shape, latent_dim, hidden_units, conv_filters


def _check_encoder_decoder(encoder, decoder):
    for argument, model in (("encoder", encoder), ("decoder", decoder)):
        if not isinstance(model, keras.Model) or not hasattr(model, "output_shape"):
            raise ValueError(
                f"`{argument}` must be a functional keras.Model. "
                f"Received: {argument}={model}"
            )
    if len(encoder.outputs) != 2:
        raise ValueError(
            "`encoder` must have two outputs, z_mean and z_log_var. "
            f"Received: encoder.output_shape={encoder.output_shape}"
        )
    latent_shape = tuple(encoder.output_shape[0][1:])
    if tuple(decoder.input_shape[1:]) != latent_shape:
        raise ValueError(
            "The decoder's input must match the encoder's latent shape "
            f"{latent_shape}. Received: decoder.input_shape={decoder.input_shape}"
        )
    if tuple(decoder.output_shape[1:]) != tuple(encoder.input_shape[1:]):
        raise ValueError(
            "The decoder's output must have the encoder's input shape "
            f"{encoder.input_shape}. Received: "
            f"decoder.output_shape={decoder.output_shape}"
        )
