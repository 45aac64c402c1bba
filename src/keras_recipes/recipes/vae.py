"""The variational autoencoder: negative ELBO in nats, latent plots, samples.

Run it with `python -m keras_recipes run vae` or
`python -m keras_recipes.recipes.vae --set model.latent_dim=8`.
"""

import dataclasses
import math
import sys

import numpy as np
import tensorflow as tf

from keras_recipes.config import RecipeConfig, param, section
from keras_recipes.data.image_arrays import (
    ImageArraysConfig,
    list_image_files,
    load_image_arrays,
    read_images,
)
from keras_recipes.epoch_seeding import epoch_shuffled_indices, every_epoch
from keras_recipes.errors import ConfigError
from keras_recipes.figures import plot_image_grid
from keras_recipes.models.vae import variational_autoencoder
from keras_recipes.recipes.latent_plots import (
    plot_latent_manifold,
    plot_latent_scatter,
)
from keras_recipes.recipes.reconstruction import (
    class_examples,
    fit_pca,
    mean_squared_error,
    pca_reconstruct,
    plot_rows,
)
from keras_recipes.registry import register
from keras_recipes.training import Datasets, Recipe

AUTOTUNE = tf.data.AUTOTUNE
PRIOR_SAMPLES = 64


@dataclasses.dataclass
class VAEModelConfig:
    """Sizes of the encoder and decoder, and the weight of the KL term."""

    latent_dim: int = param(
        2, minimum=1, doc="Latent size; 2 adds the scatter and manifold figures."
    )
    hidden_units: list[int] = param(
        [128, 64], doc="Encoder's Dense widths, outermost first (decoder mirrors)."
    )
    conv_filters: list[int] = param(
        [], doc="Filters of stride-2 convolutions before the Dense layers."
    )
    beta: float = param(1.0, minimum=0, doc="Weight of the KL term in the loss.")


@dataclasses.dataclass
class VAEConfig(RecipeConfig):
    """Config of the `vae` recipe."""

    recipe: str = param("vae")
    data: ImageArraysConfig = section(ImageArraysConfig)
    model: VAEModelConfig = section(VAEModelConfig)


@register
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
    description = "Variational autoencoder: negative ELBO, latent plots, samples."
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
        return Datasets(
            train=every_epoch(self.epoch, one_epoch).prefetch(AUTOTUNE),
            validation=validation,
            test=tf.data.Dataset.from_tensor_slices(arrays.test).batch(batch_size),
            steps_per_epoch=config.train.steps_per_epoch
            or math.ceil(len(arrays.train) / batch_size),
            input_shape=arrays.train.shape[1:],
            class_names=arrays.class_names,
            info={"arrays": arrays},
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
        """Returns the per-image test losses in nats and per-pixel errors."""
        arrays = data.info["arrays"]
        batch_size = self.config.train.batch_size
        losses = model.per_image_losses(arrays.test, batch_size=batch_size)
        reconstructions = model.predict(arrays.test, batch_size=batch_size, verbose=0)
        pca = fit_pca(arrays.train, model.latent_dim)
        return {
            "test_reconstruction_loss": float(losses["reconstruction_loss"].mean()),
            "test_kl_loss": float(losses["kl_loss"].mean()),
            "test_negative_elbo": float(losses["negative_elbo"].mean()),
            "test_loss": float(losses["loss"].mean()),
            "test_reconstruction_mse": mean_squared_error(reconstructions, arrays.test),
            "pca_mse": mean_squared_error(
                pca_reconstruct(pca, arrays.test), arrays.test
            ),
            "pca_components": int(pca.n_components_),
        }

    def figures(self, model, data, history):
        super().figures(model, data, history)
        arrays = data.info["arrays"]
        examples = arrays.test[class_examples(arrays.test_labels)]
        pca = fit_pca(arrays.train, model.latent_dim)
        plot_rows(
            [
                examples,
                model.predict(examples, verbose=0),
                pca_reconstruct(pca, examples),
            ],
            ["original", "VAE (z mean)", f"PCA {pca.n_components_}"],
            self.figure_path("reconstructions.png"),
        )
        samples = model.sample(PRIOR_SAMPLES, seed=self.config.seed)
        plot_image_grid(samples, self.figure_path("prior_samples.png"), columns=8)
        if model.latent_dim == 2:
            z_mean, _ = model.encoder.predict(arrays.test, verbose=0)
            plot_latent_scatter(
                z_mean,
                arrays.test_labels,
                arrays.class_names,
                self.figure_path("latent_scatter.png"),
                title="test images' latent means",
            )
            plot_latent_manifold(model.decoder, self.figure_path("latent_manifold.png"))

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
        recipe, model = Recipe.from_run_dir("runs/vae/x")
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

    def predict(self, model, paths):
        """Returns `(path, "reconstruction_mse=...", "negative_elbo=...")` rows."""
        files = list_image_files(paths)
        scores = self.anomaly_scores(model, self._read(files))
        return [
            (str(path), f"reconstruction_mse={mse:.6f}", f"negative_elbo={elbo:.3f}")
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


if __name__ == "__main__":
    from keras_recipes.cli import main

    sys.exit(main(["run", VAERecipe.name, *sys.argv[1:]]))
