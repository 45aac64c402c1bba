"""The `VAERecipe`: a variational autoencoder, its negative ELBO in nats,
latent plots and samples.

Run it with `python -m keras_recipes run vae` or
`python -m keras_recipes.recipes.vae --set model.latent_dim=8`.
"""

import dataclasses
import math

import keras
import numpy as np
import tensorflow as tf

from keras_recipes.data.image_arrays import (
    ImageArrays,
    list_image_files,
    load_image_arrays,
    read_images,
)
from keras_recipes.data.image_folder import find_image_files
from keras_recipes.epoch_seeding import epoch_shuffled_indices, every_epoch
from keras_recipes.errors import ConfigError
from keras_recipes.exporting import reconstruction_model
from keras_recipes.figures import plot_image_grid
from keras_recipes.models.vae import VAE, variational_autoencoder
from keras_recipes.recipes.latent_plots import (
    plot_latent_manifold,
    plot_latent_scatter,
)
from keras_recipes.recipes.reconstruction import (
    fit_pca,
    mean_squared_error,
    pca_reconstruct,
    plot_examples,
)
from keras_recipes.recipes.vae.config import VAEConfig
from keras_recipes.training import Datasets, Evaluation, Recipe

AUTOTUNE = tf.data.AUTOTUNE
# The names `vae_encoder` and `vae_decoder` give the models they build.
ENCODER_NAME = "vae_encoder"
DECODER_NAME = "vae_decoder"
PRIOR_SAMPLES = 64


@dataclasses.dataclass
class VAEData(Datasets):
    """The VAE's `Datasets` (batches of images, no targets), with the arrays.

    Attributes:
        arrays: The train, validation and test images in `[0, 1]` and their
            labels, as `load_image_arrays` gives them.
    """

    arrays: ImageArrays | None = None


@dataclasses.dataclass
class VAEEvaluation(Evaluation):
    """What the VAE's evaluation computed, for its figures.

    Attributes:
        pca: The PCA baseline, fitted once on the training images with
            `latent_dim` components.
        reconstructions: The test images decoded from their latent means.
        pca_reconstructions: PCA's reconstructions of the test images.
        latent_means: The encoder's `z_mean` of each test image,
            `[N, latent_dim]`.
    """

    pca: object = None
    reconstructions: np.ndarray | None = None
    pca_reconstructions: np.ndarray | None = None
    latent_means: np.ndarray | None = None


class VAERecipe(Recipe):
    """Trains a variational autoencoder and reports its negative ELBO.

    `metrics.json` holds per-image test means in nats:
    `test_reconstruction_loss` (binary cross-entropy summed over pixels, with
    one fixed draw of the latent noise), `test_kl_loss` (analytic KL to the
    standard normal prior) and `test_negative_elbo`, their sum; `test_loss`
    weighs the KL term by `model.beta`. `test_reconstruction_mse` decodes
    the latent means and `pca_mse` is PCA's error with `latent_dim`
    components, both per pixel. Figures: reconstructions, samples from the
    prior and, for a 2-D latent space, the test set's latent means coloured
    by class and the decoded latent grid.

    Args:
        config: A `VAEConfig`. Defaults to the recipe's defaults.
        run_dir: Directory to write into. Defaults to `runs/vae/<timestamp>`.
        resume: Continue the interrupted run in `run_dir`. Defaults to
            `False`.
        runs_root: Parent of the default run directories. Defaults to
            `"runs"`.

    Example:

    ```python
    from keras_recipes import load_config
    from keras_recipes.recipes import VAERecipe

    result = VAERecipe(load_config("vae", {"model.latent_dim": 8})).run()
    print(result.metrics["test_negative_elbo"])
    ```

    Reference:
        - [Kingma & Welling, Auto-Encoding Variational Bayes](
            https://arxiv.org/abs/1312.6114)
    """

    name = "vae"
    config_class = VAEConfig
    quick = {"train.epochs": 2, "model.hidden_units": [16]}

    def build_data(self):
        config = self.config
        arrays = load_image_arrays(
            config.data, config.train.validation_split, config.seed
        )
        batch_size = config.train.batch_size
        pixels = tf.constant(arrays.train)

        def one_epoch(number):
            order = epoch_shuffled_indices(len(arrays.train), config.seed, number)
            return order.batch(batch_size).map(lambda i: tf.gather(pixels, i))

        validation = None
        if arrays.validation is not None:
            validation = tf.data.Dataset.from_tensor_slices(arrays.validation)
            validation = validation.batch(batch_size)
        return VAEData(
            train=every_epoch(self.epoch, one_epoch).prefetch(AUTOTUNE),
            validation=validation,
            test=tf.data.Dataset.from_tensor_slices(arrays.test).batch(batch_size),
            steps_per_epoch=config.train.steps_per_epoch
            or math.ceil(len(arrays.train) / batch_size),
            input_shape=arrays.train.shape[1:],
            class_names=arrays.class_names,
            arrays=arrays,
        )

    def build_model(self, data):
        model = self.config.model
        try:
            return variational_autoencoder(
                input_shape=tuple(data.input_shape),
                latent_dim=model.latent_dim,
                hidden_units=tuple(model.hidden_units),
                conv_filters=tuple(model.conv_filters),
                beta=model.beta,
                seed=self.config.seed,
            )
        except ValueError as error:
            raise ConfigError(f"model: {error}") from None

    def evaluate(self, model, data):
        """Returns the per-image test losses in nats and per-pixel errors.

        PCA is fitted here, once, and handed to `figures` with the
        reconstructions and latent means in the `VAEEvaluation`.

        Args:
            model: The trained `VAE`.
            data: What `build_data` returned.

        Returns:
            A `VAEEvaluation`.
        """
        test = data.arrays.test
        batch_size = self.config.train.batch_size
        losses = model.per_image_losses(test, batch_size=batch_size)
        reconstructions = model.predict(test, batch_size=batch_size, verbose=0)
        latent_means, _ = model.encoder.predict(test, batch_size=batch_size, verbose=0)
        pca = fit_pca(data.arrays.train, model.latent_dim)
        pca_reconstructions = pca_reconstruct(pca, test)
        metrics = {
            "test_reconstruction_loss": float(losses["reconstruction_loss"].mean()),
            "test_kl_loss": float(losses["kl_loss"].mean()),
            "test_negative_elbo": float(losses["negative_elbo"].mean()),
            "test_loss": float(losses["loss"].mean()),
            "test_reconstruction_mse": mean_squared_error(reconstructions, test),
            "pca_mse": mean_squared_error(pca_reconstructions, test),
            "pca_components": int(pca.n_components_),
        }
        return VAEEvaluation(
            metrics,
            pca=pca,
            reconstructions=reconstructions,
            pca_reconstructions=pca_reconstructions,
            latent_means=np.asarray(latent_means),
        )

    def figures(self, model, data, history, evaluation):
        """Draws the curves, reconstructions, prior samples and latent plots.

        Args:
            model: The trained `VAE`.
            data: What `build_data` returned.
            history: Metric name to per-epoch values.
            evaluation: The `VAEEvaluation` of `evaluate`.
        """
        super().figures(model, data, history, evaluation)
        arrays = data.arrays
        plot_examples(
            [arrays.test, evaluation.reconstructions, evaluation.pca_reconstructions],
            ["original", "VAE (z mean)", f"PCA {evaluation.pca.n_components_}"],
            arrays.test_labels,
            self.figure_path("reconstructions.png"),
        )
        samples = model.sample(PRIOR_SAMPLES, seed=self.config.seed)
        plot_image_grid(samples, self.figure_path("prior_samples.png"), columns=8)
        if model.latent_dim == 2:
            plot_latent_scatter(
                evaluation.latent_means,
                arrays.test_labels,
                arrays.class_names,
                self.figure_path("latent_scatter.png"),
                title="test images' latent means",
            )
            plot_latent_manifold(model.decoder, self.figure_path("latent_manifold.png"))

    def portable_model(self, model):
        """Returns the VAE's encoder and decoder as one functional model.

        The `VAE` class holds the training step, so plain Keras cannot
        rebuild it; `model.keras` holds this model instead: images in
        `[0, 1]` to `z_mean`, `z_log_var` and the `reconstruction` decoded
        from `z_mean` (what the VAE's `predict` gives), with the encoder
        and decoder inside under their own names.

        Args:
            model: The trained `VAE`.

        Returns:
            A functional `keras.Model` named `"vae"`.
        """
        images = keras.Input(tuple(model.encoder.input_shape[1:]), name="images")
        z_mean, z_log_var = model.encoder(images)
        outputs = {
            "z_mean": z_mean,
            "z_log_var": z_log_var,
            "reconstruction": model.decoder(z_mean),
        }
        return keras.Model(images, outputs, name="vae")

    def model_from_portable(self, model):
        """Returns the `VAE` of the encoder and decoder `portable_model` saved.

        Its `beta` and seed (and so its fixed evaluation noise) come from the
        run's config; it is compiled, so `evaluate` works on it.

        Args:
            model: The model loaded from `model.keras`.

        Returns:
            The `VAE`.
        """
        config = self.config
        vae = VAE(
            model.get_layer(ENCODER_NAME),
            model.get_layer(DECODER_NAME),
            beta=config.model.beta,
            seed=config.seed,
        )
        vae.compile()
        return vae

    def serving_model(self, model, data):
        """Returns the VAE for raw images: latent mean, reconstruction, error.

        Images go in with pixels in [0, 255], as files hold them; out come
        `code` (the latent mean `z_mean`, as `encode` writes it),
        `reconstruction` (decoded from it, pixels in [0, 1]) and
        `reconstruction_mse`, as `predict` reports it.

        Args:
            model: The trained `VAE`.
            data: What `build_data` returned, or `None`; not read.

        Returns:
            The serving `keras.Model`.
        """
        return reconstruction_model(
            model, encoder=model.encoder, decoder=model.decoder, name="vae_serving"
        )

    def anomaly_scores(self, model, images):
        """Returns each image's reconstruction error and negative ELBO.

        Args:
            model: The trained `VAE`. No default.
            images: Array `[N, height, width, channels]` in `[0, 1]`.
                No default.

        Returns:
            A dict of float arrays `[N]`: `"reconstruction_mse"` (decoded from
            the latent mean, per pixel) and `"negative_elbo"` (nats).

        Example:

        ```python
        recipe, model = keras_recipes.load_run("runs/vae/x")
        scores = recipe.anomaly_scores(model, images)["negative_elbo"]
        ```
        """
        batch_size = self.config.train.batch_size
        reconstructions = model.predict(images, batch_size=batch_size, verbose=0)
        losses = model.per_image_losses(images, batch_size=batch_size)
        return {
            "reconstruction_mse": mean_squared_error(
                reconstructions, images, axis="image"
            ),
            "negative_elbo": losses["negative_elbo"],
        }

    def _read(self, files):
        data = self.config.data
        return read_images(files, data.image_size, data.channels)

    prediction_columns = ("reconstruction_mse", "negative_elbo")
    prediction_format = (
        "reconstruction_mse={reconstruction_mse:.6f} negative_elbo={negative_elbo:.3f}"
    )

    def predict(self, model, paths):
        """Returns `(path, reconstruction_mse, negative_elbo)` for each image file.

        Args:
            model: The trained `VAE`.
            paths: Image files, and folders searched at any depth.

        Returns:
            A list of `(path, reconstruction_mse, negative_elbo)` rows.
        """
        files = find_image_files(paths)
        scores = self.anomaly_scores(model, self._read(files))
        return [
            (str(path), float(mse), float(elbo))
            for path, mse, elbo in zip(
                files,
                scores["reconstruction_mse"],
                scores["negative_elbo"],
                strict=True,
            )
        ]

    def encode(self, model, paths):
        """Returns the image files found in `paths` and their latent means.

        Args:
            model: The trained `VAE`. No default.
            paths: Image files and folders. No default.

        Returns:
            `(files, z_mean)` with `z_mean` of shape `[N, latent_dim]`.

        Example:

        ```python
        files, codes = recipe.encode(model, ["data/new"])
        ```
        """
        files = list_image_files(paths)
        batch_size = self.config.train.batch_size
        z_mean, _ = model.encoder.predict(
            self._read(files), batch_size=batch_size, verbose=0
        )
        return files, np.asarray(z_mean)
