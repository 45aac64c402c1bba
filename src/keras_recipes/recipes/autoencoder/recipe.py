"""The `AutoencoderRecipe`: an autoencoder of the configured kind beside PCA.

Run it with `python -m keras_recipes run autoencoder --set model.kind=linear`
or `python -m keras_recipes.recipes.autoencoder --set model.kind=conv`.
"""

import dataclasses
import math
import time

import numpy as np

from keras_recipes.data.image_arrays import list_image_files, read_images
from keras_recipes.data.image_files import find_image_files
from keras_recipes.distribution import batch_function
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
    ExampleRows,
    SquaredErrors,
    class_examples,
    enumerate_batches,
    fit_pca_on_sample,
    mean_squared_error,
    pca_reconstruct,
    plot_rows,
)
from keras_recipes.training import Evaluation, Recipe

__all__ = ["TEST_NOISE_SEED", "AutoencoderEvaluation", "AutoencoderRecipe"]


@dataclasses.dataclass
class AutoencoderEvaluation(Evaluation):
    """What the autoencoder's evaluation computed, for its figures.

    The figures show a few test images (`class_examples`: one of each class
    first), kept while the test set streamed through the model.

    Attributes:
        pca: The PCA baseline, fitted once on at most `data.pca_max_images`
            training images with as many components as the code has values.
        examples: Those test images, `[k, height, width, channels]`.
        reconstructions: The model's reconstructions of `examples`.
        pca_reconstructions: PCA's reconstructions of `examples`.
        noisy_examples: `examples` with the fixed test noise, or `None` for a
            model trained without noise.
        denoised: The model's reconstructions of `noisy_examples`, or `None`.
    """

    pca: object = None
    examples: np.ndarray | None = None
    reconstructions: np.ndarray | None = None
    pca_reconstructions: np.ndarray | None = None
    noisy_examples: np.ndarray | None = None
    denoised: np.ndarray | None = None


class AutoencoderRecipe(Recipe):
    """Trains an autoencoder of the configured kind and compares it with PCA.

    `model.kind` picks the factory: `dense` (one ReLU code layer), `linear`
    (an affine code, which can at best match PCA), `deep` (stacked layers),
    `conv` (Conv/MaxPool down, UpSampling/Conv up), `sparse` (L1 activity
    penalty on the code) or `denoising` (the conv model trained on noisy
    inputs). PCA with as many components as the code has units is fitted on
    the same training images (a fixed sample of at most
    `data.pca_max_images`, their number in `pca_fit_images`), and
    `metrics.json` reports both test errors: `test_reconstruction_mse` and
    `pca_mse`. With noise (`denoising`, or `data.noise_factor > 0`) it also
    reports `test_noisy_mse` and `test_denoised_mse` against the clean test
    images. A folder's images stream from disk in training and evaluation
    alike.

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

        PCA is fitted here, once, on a fixed sample of the training images.
        The test set streams through the model and PCA batch by batch; the
        errors are sums over the batches, and only the few test images the
        figures show are kept, in the `AutoencoderEvaluation`.

        Args:
            model: The trained autoencoder.
            data: What `build_data` returned.

        Returns:
            An `AutoencoderEvaluation`.
        """
        config = self.config
        encoder = encoder_of(model)
        code_size = math.prod(encoder.output_shape[1:])
        started = time.perf_counter()
        pca = fit_pca_on_sample(
            data.images.train, code_size, config.data.pca_max_images, config.seed
        )
        self.timings["pca_fit_seconds"] = round(time.perf_counter() - started, 4)
        shape = tuple(data.input_shape)
        encode = batch_function(encoder, shape)
        reconstruct = batch_function(model, shape)
        errors = SquaredErrors()
        examples = ExampleRows(class_examples(data.images.test.labels))
        code_sum, code_values = 0.0, 0
        for start, (images, _) in enumerate_batches(data.test):
            codes = _float32(encode(images))
            code_sum += float(np.abs(codes).sum(dtype="float64"))
            code_values += codes.size
            reconstructions = _float32(reconstruct(images))
            pca_reconstructions = pca_reconstruct(pca, images)
            errors.add("test_reconstruction_mse", reconstructions, images)
            errors.add("pca_mse", pca_reconstructions, images)
            examples.keep(
                start,
                images=images,
                reconstructions=reconstructions,
                pca_reconstructions=pca_reconstructions,
            )
        if data.noisy_test is not None:
            for start, (noisy, clean) in enumerate_batches(data.noisy_test):
                denoised = _float32(reconstruct(noisy))
                errors.add("test_noisy_mse", noisy, clean)
                errors.add("test_denoised_mse", denoised, clean)
                errors.add("pca_denoised_mse", pca_reconstruct(pca, noisy), clean)
                examples.keep(start, noisy=noisy, denoised=denoised)
        means = errors.means()
        metrics = {
            "test_reconstruction_mse": means["test_reconstruction_mse"],
            "pca_mse": means["pca_mse"],
            "code_size": int(code_size),
            "pca_components": int(pca.n_components_),
            "pca_fit_images": int(pca.n_samples_),
            "test_code_mean_abs": code_sum / code_values,
        }
        with_noise = data.noisy_test is not None
        if with_noise:
            metrics["noise_factor"] = data.noise_factor
            for name in ("test_noisy_mse", "test_denoised_mse", "pca_denoised_mse"):
                metrics[name] = means[name]
        return AutoencoderEvaluation(
            metrics,
            pca=pca,
            examples=examples.stacked("images"),
            reconstructions=examples.stacked("reconstructions"),
            pca_reconstructions=examples.stacked("pca_reconstructions"),
            noisy_examples=examples.stacked("noisy") if with_noise else None,
            denoised=examples.stacked("denoised") if with_noise else None,
        )

    def figures(self, model, data, history, evaluation):
        """Draws the training curves, reconstructions and, with noise, denoising.

        Args:
            model: The trained autoencoder.
            data: What `build_data` returned.
            history: Metric name to per-epoch values.
            evaluation: The `AutoencoderEvaluation` of `evaluate`, whose few
                test images the figures show.
        """
        super().figures(model, data, history, evaluation)
        plot_rows(
            [
                evaluation.examples,
                evaluation.reconstructions,
                evaluation.pca_reconstructions,
            ],
            [
                "original",
                model.name.replace("_", " "),
                f"PCA {evaluation.pca.n_components_}",
            ],
            self.figure_path("reconstructions.png"),
        )
        if evaluation.noisy_examples is not None:
            plot_rows(
                [evaluation.noisy_examples, evaluation.denoised, evaluation.examples],
                [f"noisy ({data.noise_factor:g})", "denoised", "clean"],
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
