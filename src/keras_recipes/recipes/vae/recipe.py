"""The `VAERecipe`: a variational autoencoder, its negative ELBO in nats,
latent plots and samples.

Run it with `python -m keras_recipes run vae` or
`python -m keras_recipes.recipes.vae --set model.latent_dim=8`.
"""

import dataclasses
import math
import time

import keras
import numpy as np
import tensorflow as tf

from keras_recipes.data.image_arrays import (
    ImageSplits,
    list_image_files,
    load_image_splits,
    read_images,
)
from keras_recipes.data.image_files import find_image_files
from keras_recipes.distribution import batch_function
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
    ExampleRows,
    SquaredErrors,
    class_examples,
    enumerate_batches,
    fit_pca_on_sample,
    mean_squared_error,
    pca_reconstruct,
    plot_rows,
)
from keras_recipes.recipes.vae.config import VAEConfig
from keras_recipes.training import Datasets, Evaluation, Recipe

AUTOTUNE = tf.data.AUTOTUNE
# The names `vae_encoder` and `vae_decoder` give the models they build.
ENCODER_NAME = "vae_encoder"
DECODER_NAME = "vae_decoder"
PRIOR_SAMPLES = 64
# The per-image losses, summed over the test set for their means.
LOSSES = ("reconstruction_loss", "kl_loss", "negative_elbo", "loss")


@dataclasses.dataclass
class VAEData(Datasets):
    """The VAE's `Datasets` (batches of images, no targets), with the image sets.

    Attributes:
        images: The train, validation and test `ImageSet`s and the class
            names; a folder's images are read from disk as pipelines need
            them.
    """

    images: ImageSplits | None = None

    @property
    def arrays(self):
        """`images`, whose sets index like arrays: `data.arrays.test[:8]`."""
        return self.images


@dataclasses.dataclass
class VAEEvaluation(Evaluation):
    """What the VAE's evaluation computed, for its figures.

    The reconstruction figure shows a few test images (`class_examples`:
    one of each class first), kept while the test set streamed through.

    Attributes:
        pca: The PCA baseline, fitted once on at most `data.pca_max_images`
            training images with `latent_dim` components.
        examples: Those test images, `[k, height, width, channels]`.
        reconstructions: `examples` decoded from their latent means.
        pca_reconstructions: PCA's reconstructions of `examples`.
        latent_means: The encoder's `z_mean` of each test image,
            `[N, latent_dim]`, in the order of the test set's labels.
    """

    pca: object = None
    examples: np.ndarray | None = None
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
    components (fitted on a fixed sample of at most `data.pca_max_images`
    training images, their number in `pca_fit_images`), both per pixel; a
    folder's images stream from disk in training and evaluation alike.
    Figures: reconstructions, samples from the prior and, for a 2-D latent
    space, the test set's latent means coloured by class and the decoded
    latent grid.

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
        images = load_image_splits(
            config.data, config.train.validation_split, config.seed
        )
        batch_size = config.train.batch_size

        # Plain TensorFlow ops: AutoGraph would only spend seconds converting them.
        @tf.autograph.experimental.do_not_convert
        def one_epoch(number):
            order = epoch_shuffled_indices(len(images.train), config.seed, number)
            return images.train.batches(batch_size, order)

        validation = None
        if images.validation is not None:
            validation = images.validation.batches(batch_size).prefetch(AUTOTUNE)
        return VAEData(
            train=every_epoch(self.epoch, one_epoch).prefetch(AUTOTUNE),
            validation=validation,
            test=images.test.batches(batch_size).prefetch(AUTOTUNE),
            steps_per_epoch=config.train.steps_per_epoch
            or math.ceil(len(images.train) / batch_size),
            input_shape=images.train.shape[1:],
            class_names=images.class_names,
            skipped_files=images.skipped,
            images=images,
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

        PCA is fitted here, once, on a fixed sample of the training images.
        The test set streams through the VAE and PCA batch by batch; the
        losses and errors are sums over the batches, and only the latent
        means and the few test images the figures show are kept, in the
        `VAEEvaluation`.

        Args:
            model: The trained `VAE`.
            data: What `build_data` returned.

        Returns:
            A `VAEEvaluation`.
        """
        config = self.config
        batch_size = config.train.batch_size
        started = time.perf_counter()
        pca = fit_pca_on_sample(
            data.images.train,
            model.latent_dim,
            config.data.pca_max_images,
            config.seed,
        )
        self.timings["pca_fit_seconds"] = round(time.perf_counter() - started, 4)
        shape = tuple(data.input_shape)
        encode = batch_function(model.encoder, shape)
        # Decoding the latent means is what the VAE's `predict` does.
        decode = batch_function(model.decoder, (model.latent_dim,))
        errors = SquaredErrors()
        examples = ExampleRows(class_examples(data.images.test.labels))
        loss_sums = dict.fromkeys(LOSSES, 0.0)
        latent_means = []
        for start, images in enumerate_batches(data.test):
            # One batch of at most `batch_size` images: the fixed noise
            # draw `VAE.evaluate` would use for it.
            losses = model.per_image_losses(images, batch_size=batch_size)
            for name in LOSSES:
                loss_sums[name] += float(losses[name].sum(dtype="float64"))
            z_mean = encode(images)[0]
            reconstructions = np.asarray(decode(z_mean), "float32")
            pca_reconstructions = pca_reconstruct(pca, images)
            errors.add("test_reconstruction_mse", reconstructions, images)
            errors.add("pca_mse", pca_reconstructions, images)
            latent_means.append(np.asarray(z_mean, "float32"))
            examples.keep(
                start,
                images=images,
                reconstructions=reconstructions,
                pca_reconstructions=pca_reconstructions,
            )
        count = len(data.images.test)
        metrics = {f"test_{name}": loss_sums[name] / count for name in LOSSES}
        metrics.update(errors.means())
        metrics["pca_components"] = int(pca.n_components_)
        metrics["pca_fit_images"] = int(pca.n_samples_)
        return VAEEvaluation(
            metrics,
            pca=pca,
            examples=examples.stacked("images"),
            reconstructions=examples.stacked("reconstructions"),
            pca_reconstructions=examples.stacked("pca_reconstructions"),
            latent_means=np.concatenate(latent_means),
        )

    def figures(self, model, data, history, evaluation):
        """Draws the curves, reconstructions, prior samples and latent plots.

        Args:
            model: The trained `VAE`.
            data: What `build_data` returned.
            history: Metric name to per-epoch values.
            evaluation: The `VAEEvaluation` of `evaluate`, whose few test
                images and latent means the figures show.
        """
        super().figures(model, data, history, evaluation)
        plot_rows(
            [
                evaluation.examples,
                evaluation.reconstructions,
                evaluation.pca_reconstructions,
            ],
            ["original", "VAE (z mean)", f"PCA {evaluation.pca.n_components_}"],
            self.figure_path("reconstructions.png"),
        )
        samples = model.sample(PRIOR_SAMPLES, seed=self.config.seed)
        plot_image_grid(samples, self.figure_path("prior_samples.png"), columns=8)
        if model.latent_dim == 2:
            plot_latent_scatter(
                evaluation.latent_means,
                data.images.test.labels,
                data.images.class_names,
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
