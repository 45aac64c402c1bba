"""The autoencoder recipe: every kind, the PCA baseline, denoising, encode."""

import json

import keras
import numpy as np
import pytest
from PIL import Image

import keras_recipes
from keras_recipes.cli import main
from keras_recipes.data.digits import load_digits, split_validation
from keras_recipes.data.image_arrays import load_image_arrays
from keras_recipes.data.noise import add_gaussian_noise
from keras_recipes.data.sections import ImageArraysConfig
from keras_recipes.models.autoencoders import encoder_of
from keras_recipes.recipes import AutoencoderRecipe
from keras_recipes.recipes.autoencoder.recipe import TEST_NOISE_SEED

QUICK = {
    "train.epochs": 3,
    "train.verbose": 0,
    "model.hidden_units": [32],
    "model.filters": [8, 8],
    "optimizer.learning_rate": 0.01,
    "callbacks.tensorboard.enabled": False,
}


def _run(root, **overrides):
    return keras_recipes.run("autoencoder", {**QUICK, **overrides}, runs_root=root)


@pytest.fixture(scope="module")
def linear_run(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("runs"), **{"model.kind": "linear"})


@pytest.fixture(scope="module")
def denoising_run(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("runs"), **{"model.kind": "denoising"})


def _digits_split(seed=42, fraction=0.2):
    (x_train, y_train), (x_test, _), _ = load_digits()
    (x_fit, _), _ = split_validation(x_train / 255.0, y_train, fraction, seed)
    return x_fit, x_test / 255.0


def _svd_pca_mse(train, test, components):
    flat_train = train.reshape(len(train), -1).astype("float64")
    flat_test = test.reshape(len(test), -1).astype("float64")
    mean = flat_train.mean(axis=0)
    _, _, rows = np.linalg.svd(flat_train - mean, full_matrices=False)
    basis = rows[:components]
    restored = (flat_test - mean) @ basis.T @ basis + mean
    return np.mean((restored - flat_test) ** 2)


@pytest.mark.parametrize(
    "kind, overrides, code_shape",
    [
        ("dense", {}, (8,)),
        ("linear", {}, (8,)),
        ("deep", {}, (8,)),
        ("sparse", {}, (8,)),
        ("conv", {}, (8,)),
        ("conv", {"model.dense_code": False}, (2, 2, 16)),
        ("denoising", {"model.code_size": 5}, (5,)),
    ],
)
def test_each_kind_builds_its_factory(kind, overrides, code_shape):
    config = keras_recipes.load_config("autoencoder", {"model.kind": kind, **overrides})
    recipe = AutoencoderRecipe(config)
    model = recipe.build_model(recipe.build_data())

    assert model.output_shape == (None, 8, 8, 1)
    assert encoder_of(model).output_shape == (None, *code_shape)
    code_layer = encoder_of(model).get_layer("code")
    output = model.get_layer("decoder").layers[-1]
    if kind == "linear":
        assert code_layer.activation is keras.activations.linear
    if kind == "sparse":
        assert code_layer.activity_regularizer.get_config()["l1"] == pytest.approx(1e-4)
    else:
        assert getattr(code_layer, "activity_regularizer", None) is None
    assert recipe.noise_factor == (0.5 if kind == "denoising" else 0.0)
    assert output.name == "reconstruction"


def test_metrics_are_the_models_and_pcas_test_errors(linear_run):
    metrics = json.loads((linear_run.run_dir / "metrics.json").read_text())
    x_fit, x_test = _digits_split()
    model = keras.saving.load_model(linear_run.run_dir / "model.keras")

    mse = np.mean((model.predict(x_test, verbose=0) - x_test) ** 2)

    assert metrics == linear_run.metrics
    assert metrics["code_size"] == metrics["pca_components"] == 8
    assert metrics["test_reconstruction_mse"] == pytest.approx(mse, rel=1e-5)
    assert metrics["pca_mse"] == pytest.approx(_svd_pca_mse(x_fit, x_test, 8), rel=1e-6)
    assert "test_noisy_mse" not in metrics
    figures = sorted(p.name for p in (linear_run.run_dir / "figures").glob("*.png"))
    assert figures == ["reconstructions.png", "training_curves.png"]


def test_predict_scores_reconstruction_error_and_flags_noise(
    linear_run, digits_folder, tmp_path, capsys
):
    digits = sorted((digits_folder / "test" / "3").glob("*.png"))[:4]
    noise = tmp_path / "noise.png"
    pixels = np.random.default_rng(0).integers(0, 256, (8, 8), dtype="uint8")
    Image.fromarray(pixels, mode="L").save(noise)
    model = keras.saving.load_model(linear_run.run_dir / "model.keras")

    status = main(["predict", str(linear_run.run_dir), *map(str, digits), str(noise)])

    lines = capsys.readouterr().out.strip().splitlines()
    assert status == 0 and len(lines) == 5
    scores = {}
    for line in lines:
        path, value = line.rsplit(": reconstruction_mse=", 1)
        scores[path] = float(value)
    for path in [*digits, noise]:
        image = np.asarray(Image.open(path), "float32")[None, :, :, None] / 255.0
        expected = np.mean((model.predict(image, verbose=0) - image) ** 2)
        assert scores[str(path)] == pytest.approx(expected, abs=2e-6)
    assert scores[str(noise)] > 2 * max(scores[str(p)] for p in digits)


def test_encode_writes_one_code_per_file_in_file_order(
    linear_run, digits_folder, tmp_path, capsys
):
    folder = digits_folder / "test" / "5"
    output = tmp_path / "out" / "codes.npy"

    status = main(
        ["encode", str(linear_run.run_dir), str(folder), "--output", str(output)]
    )

    assert status == 0
    assert "wrote" in capsys.readouterr().out
    codes = np.load(output)
    files = (tmp_path / "out" / "codes.files.txt").read_text().splitlines()
    assert files == [str(p) for p in sorted(folder.glob("*.png"))]
    images = np.stack([np.asarray(Image.open(f), "float32") for f in files]) / 255.0
    encoder = encoder_of(keras.saving.load_model(linear_run.run_dir / "model.keras"))
    expected = encoder.predict(images[..., None], verbose=0)
    assert codes.shape == (len(files), 8)
    np.testing.assert_allclose(codes, expected, rtol=1e-5, atol=1e-6)


def test_denoising_metrics_compare_with_the_clean_test_digits(denoising_run):
    metrics = denoising_run.metrics
    _, x_test = _digits_split()
    noisy = add_gaussian_noise(x_test, 0.5, TEST_NOISE_SEED).numpy()
    model = keras.saving.load_model(denoising_run.run_dir / "model.keras")

    denoised = model.predict(noisy, verbose=0)

    assert metrics["noise_factor"] == 0.5
    assert metrics["test_noisy_mse"] == pytest.approx(np.mean((noisy - x_test) ** 2))
    assert metrics["test_denoised_mse"] == pytest.approx(
        np.mean((denoised - x_test) ** 2), rel=1e-5
    )
    assert metrics["test_denoised_mse"] < metrics["test_noisy_mse"]
    assert (denoising_run.run_dir / "figures" / "denoising.png").is_file()


def test_noise_is_clipped_seeded_and_has_the_requested_spread():
    grey = np.full((64, 8, 8, 1), 0.5, "float32")

    small = add_gaussian_noise(grey, 0.1, (1, 2)).numpy()
    again = add_gaussian_noise(grey, 0.1, (1, 2)).numpy()
    other = add_gaussian_noise(grey, 0.1, (1, 3)).numpy()
    large = add_gaussian_noise(grey, 5.0, (1, 2)).numpy()

    assert (small - grey).std() == pytest.approx(0.1, rel=0.05)
    np.testing.assert_array_equal(small, again)
    assert not np.array_equal(small, other)
    assert large.min() == 0.0 and large.max() == 1.0
    with pytest.raises(ValueError, match="Received: noise_factor=-1"):
        add_gaussian_noise(grey, -1, (0, 0))


def test_training_inputs_are_noisy_targets_clean_noise_fixed_per_epoch():
    config = keras_recipes.load_config(
        "autoencoder", {"model.kind": "denoising", "train.batch_size": 4}
    )
    recipe = AutoencoderRecipe(config)
    data = recipe.build_data()
    clean_set = {image.tobytes() for image in data.arrays.train}

    def first_batch():
        return [t.numpy() for t in next(iter(data.train))]

    inputs, targets = first_batch()
    again_inputs, again_targets = first_batch()
    recipe.epoch.assign(1)
    next_inputs, _ = first_batch()

    assert all(target.tobytes() in clean_set for target in targets)
    assert not np.allclose(inputs, targets)
    assert inputs.min() >= 0.0 and inputs.max() <= 1.0
    np.testing.assert_array_equal(inputs, again_inputs)
    np.testing.assert_array_equal(targets, again_targets)
    assert not np.array_equal(inputs, next_inputs)


def test_folder_of_class_subfolders(digits_folder, tmp_path):
    result = _run(
        tmp_path,
        **{
            "model.kind": "dense",
            "train.epochs": 2,
            "data.source": "folder",
            "data.directory": str(digits_folder),
        },
    )
    config = ImageArraysConfig(source="folder", directory=str(digits_folder))
    arrays = load_image_arrays(config, validation_split=0.2, seed=42)

    assert arrays.class_names == [str(i) for i in range(10)]
    assert len(arrays.test) == len(list((digits_folder / "test").rglob("*.png")))
    assert len(arrays.validation) == len(
        list((digits_folder / "validation").rglob("*.png"))
    )
    assert arrays.train.max() <= 1.0 and arrays.train.max() > 0.9
    assert result.metrics["test_reconstruction_mse"] > 0
    assert result.metrics["pca_components"] == 8


def test_flat_folder_is_split_into_train_validation_and_test(tmp_path):
    rng = np.random.default_rng(0)
    for index in range(20):
        pixels = rng.integers(0, 256, (6, 5, 3), dtype="uint8")
        Image.fromarray(pixels).save(tmp_path / f"{index:02d}.png")
    config = ImageArraysConfig(
        source="folder",
        directory=str(tmp_path),
        image_size=[6, 5],
        color_mode="rgb",
        test_split=0.25,
    )

    first = load_image_arrays(config, validation_split=0.2, seed=1)
    second = load_image_arrays(config, validation_split=0.2, seed=2)

    assert (len(first.train), len(first.validation), len(first.test)) == (12, 3, 5)
    assert first.train.shape[1:] == (6, 5, 3)
    assert first.class_names == [] and set(first.test_labels) == {-1}
    np.testing.assert_array_equal(first.test, second.test)  # seed-independent
    assert not np.array_equal(first.validation, second.validation)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"model.kind": "linear", "model.loss": "binary_crossentropy"}, "loss=mse"),
        ({"model.kind": "denoising", "data.noise_factor": 0}, "noise_factor above 0"),
        ({"model.kind": "sparse", "model.activity_l1": 0}, "activity_l1 > 0"),
        ({"model.kind": "cnv"}, "did you mean 'conv'"),
        ({"data.source": "folder"}, "data.directory is not set"),
    ],
)
def test_config_mistakes_are_one_line_errors(overrides, message):
    with pytest.raises(keras_recipes.ConfigError, match=message):
        keras_recipes.load_config("autoencoder", overrides)


def test_missing_inputs_are_reported_in_one_line(linear_run, tmp_path, capsys):
    missing = tmp_path / "nowhere"

    encode = main(["encode", str(linear_run.run_dir), str(missing)])
    run = main(
        ["run", "autoencoder", "--set", "data.source=folder"]
        + ["--set", f"data.directory={missing}", "--runs-root", str(tmp_path)]
    )

    errors = capsys.readouterr().err.strip().splitlines()
    assert (encode, run) == (2, 2)
    assert errors == [
        f"error: no such image file or folder: {missing}",
        f"error: data folder not found: {missing} (check data.directory)",
    ]


def _shipped(tmp_path, kind):
    overrides = {"model.kind": kind, "train.verbose": 0}
    return keras_recipes.run("autoencoder", overrides, runs_root=tmp_path).metrics


@pytest.mark.slow
def test_shipped_linear_autoencoder_is_within_5_percent_of_pca(tmp_path):
    metrics = _shipped(tmp_path, "linear")
    assert metrics["test_reconstruction_mse"] <= 1.05 * metrics["pca_mse"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["deep", "conv"])
def test_shipped_nonlinear_autoencoder_beats_pca_at_the_same_code_size(tmp_path, kind):
    metrics = _shipped(tmp_path, kind)
    assert metrics["code_size"] == metrics["pca_components"]
    assert metrics["test_reconstruction_mse"] < metrics["pca_mse"]


@pytest.mark.slow
def test_shipped_denoising_autoencoder_halves_the_noise(tmp_path):
    metrics = _shipped(tmp_path, "denoising")
    assert metrics["test_denoised_mse"] <= 0.5 * metrics["test_noisy_mse"]
