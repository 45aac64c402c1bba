"""The `AutoencoderRecipe`: an autoencoder of the configured kind beside PCA.

Run it with `python -m keras_recipes run autoencoder --set model.kind=linear`
or `python -m keras_recipes.recipes.autoencoder --set model.kind=conv`.
"""

import dataclasses
import math

import numpy as np

from keras_recipes.data.image_arrays import list_image_files, read_images
from keras_recipes.data.image_folder import find_image_files
from keras_recipes.errors import ConfigError
from keras_recipes.exporting import reconstruction_model
from keras_recipes.models.autoencoders import (
    conv_autoencoder,
    deep_autoencoder,
    dense_autoencoder,
    encoder_of,
    sparse_autoencoder,
)
from keras_recipes.recipes.autoencoder.config import (
    AutoencoderConfig,
    noise_factor_of,
)
from keras_recipes.recipes.autoencoder.data import TEST_NOISE_SEED, autoencoder_data
from keras_recipes.recipes.reconstruction import (
    fit_pca,
    mean_squared_error,
    pca_reconstruct,
    plot_examples,
)
from keras_recipes.training import Evaluation, Recipe

__all__ = ["TEST_NOISE_SEED", "AutoencoderEvaluation", "AutoencoderRecipe"]


@dataclasses.dataclass
class AutoencoderEvaluation(Evaluation):
    """What the autoencoder's evaluation computed, for its figures.

    Attributes:
        pca: The PCA baseline, fitted once on the training images with as
            many components as the code has values.
        reconstructions: The model's reconstructions of the test images.
        pca_reconstructions: PCA's reconstructions of the test images.
        denoised: The model's reconstructions of the noisy test images, or
            `None` for a model trained without noise.
    """

    pca: object = None
    reconstructions: np.ndarray | None = None
    pca_reconstructions: np.ndarray | None = None
    denoised: np.ndarray | None = None


class AutoencoderRecipe(Recipe):
    """Trains an autoencoder of the configured kind and compares it with PCA.

    `model.kind` picks the factory: `dense` (one ReLU code layer), `linear`
    (an affine code, which can at best match PCA), `deep` (stacked layers),
    `conv` (Conv/MaxPool down, UpSampling/Conv up), `sparse` (L1 activity
    penalty on the code) or `denoising` (the conv model trained on noisy
    inputs). PCA with as many components as the code has units is fitted on
    the same training images, and `metrics.json` reports both test errors:
    `test_reconstruction_mse` and `pca_mse`. With noise (`denoising`, or
    `data.noise_factor > 0`) it also reports `test_noisy_mse` and
    `test_denoised_mse` against the clean test images.

    Beyond pictures: `encode()` (the CLI's `encode`) writes codes, and
    `predict()` gives each image's reconstruction error as an anomaly score.

    Args:
        config: An `AutoencoderConfig`. Defaults to the recipe's defaults.
        run_dir: Directory to write into. Defaults to
            `runs/autoencoder/<timestamp>`.
        resume: Continue the interrupted run in `run_dir`. Defaults to
            `False`.
        runs_root: Parent of the default run directories. Defaults to
            `"runs"`.

    Example:

    ```python
    from keras_recipes import load_config
    from keras_recipes.recipes import AutoencoderRecipe

    config = load_config("autoencoder", {"model.kind": "linear"})
    result = AutoencoderRecipe(config).run()
    print(result.metrics["test_reconstruction_mse"], result.metrics["pca_mse"])
    ```

    Reference:
        - [Building Autoencoders in Keras](
            https://blog.keras.io/building-autoencoders-in-keras.html)
    """

    name = "autoencoder"
    config_class = AutoencoderConfig
    quick = {
        "train.epochs": 2,
        "model.hidden_units": [16],
        "model.filters": [8, 8],
    }

    @property
    def noise_factor(self):
        """The std of the training noise; 0 for a plain autoencoder."""
        return noise_factor_of(self.config)

    def build_data(self):
        return autoencoder_data(self.config, self.epoch)

    def build_model(self, data):
        model = self.config.model
        shape = tuple(data.input_shape)
        try:
            if model.kind in ("dense", "linear"):
                return dense_autoencoder(
                    shape, model.code_size, linear=model.kind == "linear"
                )
            if model.kind == "sparse":
                return sparse_autoencoder(shape, model.code_size, model.activity_l1)
            if model.kind == "deep":
                return deep_autoencoder(
                    shape, tuple(model.hidden_units), model.code_size
                )
            return conv_autoencoder(
                shape,
                tuple(model.filters),
                code_size=model.code_size if model.dense_code else None,
                name=f"{model.kind}_autoencoder",
            )
        except ValueError as error:
            raise ConfigError(f"model: {error}") from None

    def build_loss(self, data):
        return self.config.model.loss

    def build_metrics(self, data):
        return ["mse"] if self.config.model.loss != "mse" else []

    def evaluate(self, model, data):
        """Returns the test reconstruction errors of the model and of PCA.

        PCA is fitted here, once, and handed to `figures` with the
        reconstructions in the `AutoencoderEvaluation`.

        Args:
            model: The trained autoencoder.
            data: What `build_data` returned.

        Returns:
            An `AutoencoderEvaluation`.
        """
        arrays = data.arrays
        batch_size = self.config.train.batch_size
        test = arrays.test
        codes = _float32(
            encoder_of(model).predict(test, batch_size=batch_size, verbose=0)
        )
        code_size = math.prod(codes.shape[1:])
        pca = fit_pca(arrays.train, code_size)
        reconstructions = model.predict(test, batch_size=batch_size, verbose=0)
        pca_reconstructions = pca_reconstruct(pca, test)
        metrics = {
            "test_reconstruction_mse": mean_squared_error(reconstructions, test),
            "pca_mse": mean_squared_error(pca_reconstructions, test),
            "code_size": int(code_size),
            "pca_components": int(pca.n_components_),
            "test_code_mean_abs": float(np.abs(codes).mean()),
        }
        denoised = None
        if data.noisy_test is not None:
            noisy = data.noisy_test
            denoised = model.predict(noisy, batch_size=batch_size, verbose=0)
            metrics.update(
                {
                    "noise_factor": data.noise_factor,
                    "test_noisy_mse": mean_squared_error(noisy, test),
                    "test_denoised_mse": mean_squared_error(denoised, test),
                    "pca_denoised_mse": mean_squared_error(
                        pca_reconstruct(pca, noisy), test
                    ),
                }
            )
        return AutoencoderEvaluation(
            metrics,
            pca=pca,
            reconstructions=reconstructions,
            pca_reconstructions=pca_reconstructions,
            denoised=denoised,
        )

    def figures(self, model, data, history, evaluation):
        """Draws the training curves, reconstructions and, with noise, denoising.

        Args:
            model: The trained autoencoder.
            data: What `build_data` returned.
            history: Metric name to per-epoch values.
            evaluation: The `AutoencoderEvaluation` of `evaluate`.
        """
        super().figures(model, data, history, evaluation)
        arrays = data.arrays
        plot_examples(
            [arrays.test, evaluation.reconstructions, evaluation.pca_reconstructions],
            [
                "original",
                model.name.replace("_", " "),
                f"PCA {evaluation.pca.n_components_}",
            ],
            arrays.test_labels,
            self.figure_path("reconstructions.png"),
        )
        if data.noisy_test is not None:
            plot_examples(
                [data.noisy_test, evaluation.denoised, arrays.test],
                [f"noisy ({data.noise_factor:g})", "denoised", "clean"],
                arrays.test_labels,
                self.figure_path("denoising.png"),
            )

    def serving_model(self, model, data):
        """Returns the autoencoder for raw images, with each one's error.

        Images go in with pixels in [0, 255], as files hold them; out come
        `reconstruction` (pixels in [0, 1]) and `reconstruction_mse`, the
        anomaly score `predict` reports.

        Args:
            model: The trained autoencoder.
            data: What `build_data` returned, or `None`; not read.

        Returns:
            The serving `keras.Model`.
        """
        return reconstruction_model(model, name="autoencoder_serving")

    def anomaly_scores(self, model, images):
        """Returns each image's reconstruction error, a score for anomalies.

        Args:
            model: The trained autoencoder. No default.
            images: Array `[N, height, width, channels]` in `[0, 1]`.
                No default.

        Returns:
            A float array `[N]`: the mean squared error of each image's
            reconstruction.

        Example:

        ```python
        recipe, model = keras_recipes.load_run("runs/autoencoder/x")
        scores = recipe.anomaly_scores(model, images)
        ```
        """
        batch_size = self.config.train.batch_size
        reconstructions = model.predict(images, batch_size=batch_size, verbose=0)
        return mean_squared_error(reconstructions, images, axis="image")

    def _read(self, files):
        data = self.config.data
        return read_images(files, data.image_size, data.channels)

    prediction_columns = ("reconstruction_mse",)
    prediction_format = "reconstruction_mse={reconstruction_mse:.6f}"

    def predict(self, model, paths):
        """Returns `(path, reconstruction_mse)` for each image file.

        Args:
            model: The trained autoencoder.
            paths: Image files, and folders searched at any depth.

        Returns:
            A list of `(path, reconstruction_mse)` rows; a high error marks
            an image unlike the training images.
        """
        files = find_image_files(paths)
        scores = self.anomaly_scores(model, self._read(files))
        return [
            (str(path), float(score)) for path, score in zip(files, scores, strict=True)
        ]

    def encode(self, model, paths):
        """Returns the image files found in `paths` and their codes.

        Args:
            model: The trained autoencoder. No default.
            paths: Image files and folders. No default.

        Returns:
            `(files, codes)`: a list of `Path`s and an array with one code per
            file, of shape `[N, *code_shape]`.

        Example:

        ```python
        files, codes = recipe.encode(model, ["data/new"])
        ```
        """
        files = list_image_files(paths)
        encoder = encoder_of(model)
        batch_size = self.config.train.batch_size
        return files, _float32(
            encoder.predict(self._read(files), batch_size=batch_size, verbose=0)
        )


def _float32(codes):
    # The code layer is inside the model, so under a mixed dtype policy it
    # computes, and the encoder returns, bfloat16 or float16.
    return np.asarray(codes, dtype="float32")
