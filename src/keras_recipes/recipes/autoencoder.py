"""Autoencoders (dense, linear, deep, conv, sparse, denoising) beside PCA.

Run it with `python -m keras_recipes run autoencoder --set model.kind=linear`
or `python -m keras_recipes.recipes.autoencoder --set model.kind=conv`.
"""

import dataclasses
import math
import sys
from pathlib import Path
from typing import Literal

import numpy as np
import tensorflow as tf

from keras_recipes.config import RecipeConfig, param, section
from keras_recipes.data.image_arrays import (
    ImageArraysConfig,
    list_image_files,
    load_image_arrays,
    read_images,
)
from keras_recipes.data.noise import add_gaussian_noise
from keras_recipes.epoch_seeding import (
    epoch_shuffled_indices,
    every_epoch,
    read_epoch,
)
from keras_recipes.errors import ConfigError, UserError
from keras_recipes.models.autoencoders import (
    conv_autoencoder,
    deep_autoencoder,
    dense_autoencoder,
    encoder_of,
    sparse_autoencoder,
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
DEFAULT_DENOISING_NOISE = 0.5
# The noisy test images are the same for every run and seed.
TEST_NOISE_SEED = (0, -1)


@dataclasses.dataclass
class AutoencoderDataConfig(ImageArraysConfig):
    """Images in [0, 1], and the noise a denoising autoencoder learns to remove."""

    noise_factor: float | None = param(
        None,
        minimum=0,
        doc="Std of the Gaussian noise added to training inputs (then clipped "
        "to [0, 1]); null: 0.5 for kind denoising, 0 for the others.",
    )


@dataclasses.dataclass
class AutoencoderModelConfig:
    """Which autoencoder, and its sizes."""

    kind: Literal["dense", "linear", "deep", "conv", "sparse", "denoising"] = param(
        "deep", doc="dense | linear | deep | conv | sparse | denoising (conv + noise)"
    )
    code_size: int = param(
        8, minimum=1, doc="Units of the code; PCA gets as many components."
    )
    hidden_units: list[int] = param(
        [128, 64], doc="deep: encoder widths, outermost first (decoder mirrors)."
    )
    filters: list[int] = param(
        [32, 16], doc="conv, denoising: filters of each Conv/MaxPool stage."
    )
    dense_code: bool = param(
        True,
        doc="conv, denoising: a Dense code of code_size units after the "
        "convolutions; false: the pooled feature map is the code.",
    )
    activity_l1: float = param(
        1e-4, minimum=0, doc="sparse: L1 activity penalty on the code."
    )
    loss: Literal["mse", "binary_crossentropy"] = param(
        "mse", doc="Reconstruction loss; linear needs mse."
    )

    def validate(self, key):
        if self.kind == "linear" and self.loss != "mse":
            raise ConfigError(
                f"{key}.kind=linear has an unbounded output, so it needs "
                f"{key}.loss=mse. Received: loss={self.loss}"
            )
        if self.kind == "sparse" and self.activity_l1 <= 0:
            raise ConfigError(
                f"{key}.kind=sparse needs {key}.activity_l1 > 0. "
                f"Received: activity_l1={self.activity_l1}"
            )
        if self.kind == "deep" and not self.hidden_units:
            raise ConfigError(f"{key}.hidden_units is empty; give e.g. [128, 64]")
        if self.kind in ("conv", "denoising") and not self.filters:
            raise ConfigError(f"{key}.filters is empty; give e.g. [32, 16]")


@dataclasses.dataclass
class AutoencoderConfig(RecipeConfig):
    """Config of the `autoencoder` recipe."""

    recipe: str = param("autoencoder")
    data: AutoencoderDataConfig = section(AutoencoderDataConfig)
    model: AutoencoderModelConfig = section(AutoencoderModelConfig)

    def validate(self, key):
        super().validate(key)
        if self.model.kind == "denoising" and self.data.noise_factor == 0:
            raise ConfigError(
                "model.kind=denoising needs noise: set data.noise_factor above 0 "
                "(e.g. 0.5) or null"
            )


def noise_factor_of(config):
    """Returns the noise std a config trains with (0 for a plain autoencoder).

    Args:
        config: An `AutoencoderConfig`. No default.

    Returns:
        A float, `data.noise_factor`, or 0.5 for `kind: denoising` and 0
        otherwise when it is null.

    Example:

    ```python
    noise_factor_of(load_config("autoencoder", {"model.kind": "denoising"}))
    ```
    """
    if config.data.noise_factor is not None:
        return float(config.data.noise_factor)
    return DEFAULT_DENOISING_NOISE if config.model.kind == "denoising" else 0.0


def shuffled_pairs(images, seed, epoch, noise_factor=0.0):
    """Returns an unbatched dataset of `(input, clean image)` in epoch order.

    The order and the noise are functions of `(seed, epoch)` only, so a
    resumed run sees what an uninterrupted one would.

    Args:
        images: Array or tensor `[N, height, width, channels]` in `[0, 1]`.
            No default.
        seed: The run's integer seed. No default.
        epoch: The epoch variable of the recipe (`Recipe.epoch`), or an
            epoch number inside `every_epoch`. No default.
        noise_factor: Std of the Gaussian noise added to the inputs.
            Defaults to `0.0` (inputs are the clean images).

    Returns:
        A `tf.data.Dataset` of `(input, target)` pairs.

    Example:

    ```python
    train = shuffled_pairs(x_train, 42, recipe.epoch, 0.5).batch(32)
    ```
    """
    pixels = tf.convert_to_tensor(images)
    size = int(pixels.shape[0])
    order = epoch_shuffled_indices(size, seed, epoch)

    def pair(index):
        clean = tf.gather(pixels, index)
        if not noise_factor:
            return clean, clean
        draw = read_epoch(epoch) * size + tf.cast(index, tf.int64)
        stream = tf.stack([tf.constant(seed, tf.int64), draw])
        return add_gaussian_noise(clean, noise_factor, stream), clean

    return order.map(pair)


@register
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
    description = "Dense, linear, deep, conv, sparse and denoising autoencoders vs PCA."
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
        config = self.config
        arrays = load_image_arrays(
            config.data, config.train.validation_split, config.seed
        )
        batch_size = config.train.batch_size
        noise = self.noise_factor
        pixels = tf.constant(arrays.train)

        def one_epoch(number):
            pairs = shuffled_pairs(pixels, config.seed, number, noise)
            return pairs.batch(batch_size)

        validation = None
        if arrays.validation is not None:
            inputs = arrays.validation
            if noise:
                inputs = add_gaussian_noise(inputs, noise, (config.seed, -2))
            validation = tf.data.Dataset.from_tensor_slices(
                (inputs, arrays.validation)
            ).batch(batch_size)
        test = tf.data.Dataset.from_tensor_slices((arrays.test, arrays.test))
        return Datasets(
            train=every_epoch(self.epoch, one_epoch).prefetch(AUTOTUNE),
            validation=validation,
            test=test.batch(batch_size),
            steps_per_epoch=config.train.steps_per_epoch
            or math.ceil(len(arrays.train) / batch_size),
            input_shape=arrays.train.shape[1:],
            class_names=arrays.class_names,
            info={"arrays": arrays},
        )

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

    def build_loss(self):
        return self.config.model.loss

    def build_metrics(self):
        return ["mse"] if self.config.model.loss != "mse" else []

    def evaluate(self, model, data):
        """Returns the test reconstruction errors of the model and of PCA."""
        arrays = data.info["arrays"]
        batch_size = self.config.train.batch_size
        test = arrays.test
        codes = _float32(
            encoder_of(model).predict(test, batch_size=batch_size, verbose=0)
        )
        code_size = math.prod(codes.shape[1:])
        pca = fit_pca(arrays.train, code_size)
        reconstructions = model.predict(test, batch_size=batch_size, verbose=0)
        metrics = {
            "test_reconstruction_mse": mean_squared_error(reconstructions, test),
            "pca_mse": mean_squared_error(pca_reconstruct(pca, test), test),
            "code_size": int(code_size),
            "pca_components": int(pca.n_components_),
            "test_code_mean_abs": float(np.abs(codes).mean()),
        }
        noise = self.noise_factor
        if noise:
            noisy = add_gaussian_noise(test, noise, TEST_NOISE_SEED).numpy()
            denoised = model.predict(noisy, batch_size=batch_size, verbose=0)
            metrics.update(
                {
                    "noise_factor": noise,
                    "test_noisy_mse": mean_squared_error(noisy, test),
                    "test_denoised_mse": mean_squared_error(denoised, test),
                    "pca_denoised_mse": mean_squared_error(
                        pca_reconstruct(pca, noisy), test
                    ),
                }
            )
        return metrics

    def figures(self, model, data, history):
        super().figures(model, data, history)
        arrays = data.info["arrays"]
        batch_size = self.config.train.batch_size
        examples = arrays.test[class_examples(arrays.test_labels)]
        codes = _float32(encoder_of(model).predict(examples, verbose=0))
        pca = fit_pca(arrays.train, math.prod(codes.shape[1:]))
        rows = [
            examples,
            model.predict(examples, batch_size=batch_size, verbose=0),
            pca_reconstruct(pca, examples),
        ]
        plot_rows(
            rows,
            ["original", model.name.replace("_", " "), f"PCA {pca.n_components_}"],
            self.figure_path("reconstructions.png"),
        )
        noise = self.noise_factor
        if noise:
            noisy = add_gaussian_noise(arrays.test, noise, TEST_NOISE_SEED).numpy()
            noisy = noisy[class_examples(arrays.test_labels)]
            rows = [noisy, model.predict(noisy, verbose=0), examples]
            plot_rows(
                rows,
                [f"noisy ({noise:g})", "denoised", "clean"],
                self.figure_path("denoising.png"),
            )

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
        recipe, model = Recipe.from_run_dir("runs/autoencoder/x")
        scores = recipe.anomaly_scores(model, images)
        ```
        """
        batch_size = self.config.train.batch_size
        reconstructions = model.predict(images, batch_size=batch_size, verbose=0)
        return mean_squared_error(reconstructions, images, axis="image")

    def _read(self, files):
        data = self.config.data
        return read_images(files, data.image_size, data.channels)

    def predict(self, model, paths):
        """Returns `(path, "reconstruction_mse=...")` for each image file."""
        files = list_image_files(paths)
        scores = self.anomaly_scores(model, self._read(files))
        return [
            (str(path), f"reconstruction_mse={score:.6f}")
            for path, score in zip(files, scores, strict=True)
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


def encode_command(args):
    """Writes the codes of a run's encoder for files and folders to `.npy`.

    The rows follow the order of the files, which is written beside the
    array, one path a line, in `<output stem>.files.txt`.
    """
    from keras_recipes.config import write_text_atomic
    from keras_recipes.training import Recipe

    recipe, model = Recipe.from_run_dir(args.run_dir)
    if not hasattr(recipe, "encode"):
        raise UserError(
            f"recipe '{recipe.name}' has no encoder; `encode` works with runs of "
            f"autoencoder and vae"
        )
    files, codes = recipe.encode(model, args.inputs)
    output = Path(args.output)
    if output.suffix != ".npy":
        output = output.with_name(output.name + ".npy")
    output.parent.mkdir(parents=True, exist_ok=True)
    temp = output.with_name(f".{output.name}.partial.npy")
    np.save(temp, codes)
    temp.replace(output)
    listing = output.with_suffix(".files.txt")
    write_text_atomic(listing, "".join(f"{path}\n" for path in files))
    print(f"wrote {output}: {len(files)} codes of shape {tuple(codes.shape[1:])}")
    print(f"row order: {listing}")
    return 0


if __name__ == "__main__":
    from keras_recipes.cli import main

    sys.exit(main(["run", AutoencoderRecipe.name, *sys.argv[1:]]))
