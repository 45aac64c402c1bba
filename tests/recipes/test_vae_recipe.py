"""The vae recipe: the negative ELBO in nats, save/load, figures, encode."""

import json

import keras
import numpy as np
import pytest
from PIL import Image

import keras_recipes
from keras_recipes.cli import main
from keras_recipes.data.digits import load_digits, split_validation
from keras_recipes.recipes import VAERecipe

QUICK = {
    "train.epochs": 4,
    "train.verbose": 0,
    "model.hidden_units": [32],
    "optimizer.learning_rate": 0.005,
    "callbacks.tensorboard.enabled": False,
}


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    # float32: the tests recompute the losses another way, in float32.
    overrides = {**QUICK, "train.mixed_precision": "float32"}
    return keras_recipes.run("vae", overrides, runs_root=root)


def _test_digits():
    _, (x_test, y_test), _ = load_digits()
    return x_test / 255.0, y_test


def _bce_sum(images, probabilities):
    p = np.clip(probabilities.astype("float64"), 1e-7, 1 - 1e-7)
    per_pixel = -(images * np.log(p) + (1 - images) * np.log(1 - p))
    return per_pixel.reshape(len(images), -1).sum(axis=1)


def test_metrics_are_per_image_nats_and_survive_save_and_load(vae_run):
    metrics = json.loads((vae_run.run_dir / "metrics.json").read_text())
    x_test, _ = _test_digits()

    _, loaded = keras_recipes.load_run(vae_run.run_dir)
    again = loaded.per_image_losses(x_test, batch_size=32)

    assert metrics == vae_run.metrics
    assert metrics["test_negative_elbo"] == pytest.approx(
        metrics["test_reconstruction_loss"] + metrics["test_kl_loss"], rel=1e-6
    )
    assert metrics["test_loss"] == pytest.approx(metrics["test_negative_elbo"])
    assert metrics["test_kl_loss"] > 0
    assert again["negative_elbo"].mean() == pytest.approx(
        metrics["test_negative_elbo"], rel=1e-6
    )
    assert again["kl_loss"].mean() == pytest.approx(metrics["test_kl_loss"], rel=1e-6)


def test_model_file_is_the_encoder_and_decoder_in_plain_keras(vae_run):
    x_test, _ = _test_digits()
    _, vae = keras_recipes.load_run(vae_run.run_dir)
    plain = keras.saving.load_model(vae_run.run_dir / "model.keras")

    outputs = plain.predict(x_test, verbose=0)
    z_mean, z_log_var = vae.encoder.predict(x_test, verbose=0)

    assert type(plain).__module__.startswith("keras.")
    assert all(type(layer).__module__.startswith("keras.") for layer in plain.layers)
    np.testing.assert_allclose(outputs["z_mean"], z_mean, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(outputs["z_log_var"], z_log_var, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        outputs["reconstruction"], vae.predict(x_test, verbose=0), atol=1e-6
    )


def test_losses_are_summed_over_pixels_and_kl_is_analytic(vae_run):
    x_test, _ = _test_digits()
    _, loaded = keras_recipes.load_run(vae_run.run_dir)
    z_mean, z_log_var = loaded.encoder.predict(x_test, verbose=0)
    # No model can score below the entropy of the grey-level targets, summed
    # over the 64 pixels (a per-pixel mean would be far below it).
    floor = _bce_sum(x_test, x_test).mean()

    losses = loaded.per_image_losses(x_test, batch_size=32)

    assert floor > 5.0
    assert vae_run.metrics["test_reconstruction_loss"] > floor
    kl = -0.5 * np.sum(1 + z_log_var - z_mean**2 - np.exp(z_log_var), axis=1)
    np.testing.assert_allclose(losses["kl_loss"], kl, rtol=1e-4, atol=1e-5)


def test_evaluate_command_reproduces_the_metrics(vae_run, capsys):
    status = main(["evaluate", str(vae_run.run_dir), "--json"])

    printed = json.loads(capsys.readouterr().out)
    assert status == 0
    for key in ("test_negative_elbo", "test_kl_loss", "pca_mse"):
        assert printed[key] == pytest.approx(vae_run.metrics[key], rel=1e-6)


def test_pca_baseline_uses_latent_dim_components(vae_run):
    (x_train, y_train), (x_test, _), _ = load_digits()
    (x_fit, _), _ = split_validation(x_train / 255.0, y_train, 0.2, 42)
    flat = x_fit.reshape(len(x_fit), -1).astype("float64")
    test = (x_test / 255.0).reshape(len(x_test), -1)
    mean = flat.mean(axis=0)
    basis = np.linalg.svd(flat - mean, full_matrices=False)[2][:2]

    expected = np.mean(((test - mean) @ basis.T @ basis + mean - test) ** 2)

    assert vae_run.metrics["pca_components"] == 2
    assert vae_run.metrics["pca_mse"] == pytest.approx(expected, rel=1e-6)


def test_two_dimensional_latent_space_gets_every_figure(vae_run):
    figures = sorted(p.name for p in (vae_run.run_dir / "figures").glob("*.png"))

    assert figures == [
        "latent_manifold.png",
        "latent_scatter.png",
        "prior_samples.png",
        "reconstructions.png",
        "training_curves.png",
    ]


def test_larger_latent_space_draws_samples_but_no_2d_plots(tmp_path):
    config = keras_recipes.load_config("vae", {**QUICK, "model.latent_dim": 3})
    recipe = VAERecipe(config, run_dir=tmp_path)
    data = recipe.build_data()
    model = recipe.build_model(data)

    recipe.figures(model, data, {"loss": [2.0, 1.0]}, recipe.evaluate(model, data))

    figures = sorted(p.name for p in (tmp_path / "figures").glob("*.png"))
    assert figures == [
        "prior_samples.png",
        "reconstructions.png",
        "training_curves.png",
    ]


def test_encode_writes_latent_means_and_predict_scores(
    vae_run, digits_folder, tmp_path, capsys
):
    files = sorted((digits_folder / "test" / "0").glob("*.png"))[:5]
    images = np.stack([np.asarray(Image.open(f), "float32") for f in files])
    images = images[..., None] / 255.0
    _, loaded = keras_recipes.load_run(vae_run.run_dir)
    z_mean, _ = loaded.encoder.predict(images, verbose=0)
    elbo = loaded.per_image_losses(images, batch_size=32)["negative_elbo"]
    output = tmp_path / "codes.npy"

    encoded = main(
        ["encode", str(vae_run.run_dir), *map(str, files), "--output", str(output)]
    )
    capsys.readouterr()
    predicted = main(["predict", str(vae_run.run_dir), *map(str, files)])

    lines = capsys.readouterr().out.strip().splitlines()
    assert encoded == predicted == 0
    np.testing.assert_allclose(np.load(output), z_mean, rtol=1e-5, atol=1e-6)
    for line, path, expected in zip(lines, files, elbo, strict=True):
        name, rest = line.split(": ", 1)
        assert name == str(path)
        values = dict(item.split("=") for item in rest.split())
        assert float(values["negative_elbo"]) == pytest.approx(expected, abs=1e-3)


def test_bad_model_settings_are_config_errors():
    with pytest.raises(keras_recipes.ConfigError, match="model.latent_dim"):
        keras_recipes.load_config("vae", {"model.latent_dim": 0})
    with pytest.raises(keras_recipes.ConfigError, match="model.beta"):
        keras_recipes.load_config("vae", {"model.beta": -1})


@pytest.mark.slow
def test_shipped_vae_beats_independent_pixels_and_reloads_exactly(tmp_path):
    result = keras_recipes.run("vae", {"train.verbose": 0}, runs_root=tmp_path)
    metrics = result.metrics
    (x_train, _), _, _ = load_digits()
    x_test, _ = _test_digits()
    # Negative log-likelihood of a model with no latent variable: each pixel an
    # independent Bernoulli with its training-set mean.
    pixel_means = np.broadcast_to((x_train / 255.0).mean(axis=0), x_test.shape)
    independent = _bce_sum(x_test, pixel_means).mean()

    _, loaded = keras_recipes.load_run(result.run_dir)
    again = loaded.per_image_losses(x_test, batch_size=32)["negative_elbo"].mean()

    assert metrics["test_negative_elbo"] < independent - 2.0
    assert metrics["test_reconstruction_mse"] < metrics["pca_mse"]
    assert again == pytest.approx(metrics["test_negative_elbo"], rel=1e-6)
