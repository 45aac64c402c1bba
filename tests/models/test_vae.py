import re

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

from keras_recipes.models.vae import (
    VAE,
    Sampling,
    vae_decoder,
    vae_encoder,
    variational_autoencoder,
)


def _images(count=20, shape=(8, 8, 1), seed=0):
    return np.random.default_rng(seed).random((count, *shape)).astype("float32")


def _bce(images, probabilities):
    per_pixel = -(
        images * np.log(probabilities) + (1 - images) * np.log(1 - probabilities)
    )
    return per_pixel.reshape(len(images), -1).sum(axis=1)


def _kl(z_mean, z_log_var):
    return -0.5 * np.sum(1 + z_log_var - z_mean**2 - np.exp(z_log_var), axis=1)


def test_sampling_applies_the_reparameterisation_formula():
    mean = np.array([[1.0, -2.0]], "float32")
    log_var = np.log(np.array([[4.0, 0.25]], "float32"))
    noise = np.array([[0.5, -1.0]], "float32")

    z = Sampling()([mean, log_var], noise=noise)

    np.testing.assert_allclose(z, [[1.0 + 2.0 * 0.5, -2.0 - 0.5 * 1.0]], rtol=1e-6)


def test_sampling_draws_have_the_requested_moments_and_repeat_with_a_seed():
    mean = np.full((20000, 1), 1.0, "float32")
    log_var = np.full((20000, 1), np.log(4.0), "float32")

    first = np.asarray(Sampling(seed=3)([mean, log_var]))
    same_seed = np.asarray(Sampling(seed=3)([mean, log_var]))
    layer = Sampling(seed=3)
    layer([mean, log_var])
    next_draw = np.asarray(layer([mean, log_var]))

    assert first.mean() == pytest.approx(1.0, abs=0.06)
    assert first.std() == pytest.approx(2.0, abs=0.06)
    np.testing.assert_array_equal(first, same_seed)
    assert not np.array_equal(first, next_draw)


@pytest.mark.parametrize(
    "shape, conv_filters", [((8, 8, 1), ()), ((8, 8, 1), (4, 8)), ((28, 28, 1), (4, 8))]
)
def test_encoder_and_decoder_shapes(shape, conv_filters):
    encoder = vae_encoder(
        shape, latent_dim=3, hidden_units=(8,), conv_filters=conv_filters
    )
    decoder = vae_decoder(
        shape, latent_dim=3, hidden_units=(8,), conv_filters=conv_filters
    )

    z_mean, z_log_var = encoder.predict(_images(2, shape), verbose=0)
    images = decoder.predict(z_mean, verbose=0)

    assert z_mean.shape == z_log_var.shape == (2, 3)
    assert images.shape == (2, *shape)
    assert np.all((images > 0) & (images < 1))
    assert [layer.name for layer in encoder.layers[-2:]] == ["z_mean", "z_log_var"]
    assert decoder.layers[-1].name == "reconstruction"


def test_fit_reports_three_metrics_with_loss_equal_to_recon_plus_beta_kl():
    vae = variational_autoencoder(latent_dim=2, hidden_units=(16,), beta=0.5, seed=0)
    vae.compile(optimizer="adam")

    history = vae.fit(_images(), epochs=2, batch_size=8, verbose=0).history

    assert sorted(history) == ["kl_loss", "loss", "reconstruction_loss"]
    np.testing.assert_allclose(
        history["loss"],
        np.add(history["reconstruction_loss"], np.multiply(0.5, history["kl_loss"])),
        rtol=1e-5,
    )
    assert all(value > 0 for value in history["kl_loss"])


def test_evaluate_kl_matches_the_analytic_formula():
    vae = variational_autoencoder(latent_dim=3, hidden_units=(16,), seed=0)
    vae.compile(optimizer="adam")
    images = _images()
    z_mean, z_log_var = vae.encoder.predict(images, verbose=0)

    results = vae.evaluate(images, batch_size=20, verbose=0, return_dict=True)

    assert results["kl_loss"] == pytest.approx(_kl(z_mean, z_log_var).mean(), rel=1e-5)


def test_evaluate_reconstruction_is_summed_binary_cross_entropy():
    vae = variational_autoencoder(latent_dim=3, hidden_units=(16,), beta=2.0, seed=0)
    vae.compile(optimizer="adam")
    # A tiny posterior variance makes the sampled z equal to z_mean.
    log_var_layer = vae.encoder.get_layer("z_log_var")
    kernel, bias = log_var_layer.get_weights()
    log_var_layer.set_weights([np.zeros_like(kernel), np.full_like(bias, -30.0)])
    images = _images()
    z_mean, z_log_var = vae.encoder.predict(images, verbose=0)
    recon = _bce(images, vae.decoder.predict(z_mean, verbose=0))
    kl = _kl(z_mean, z_log_var)

    results = vae.evaluate(images, batch_size=8, verbose=0, return_dict=True)
    per_image = vae.per_image_losses(images, batch_size=8)

    np.testing.assert_allclose(per_image["reconstruction_loss"], recon, rtol=1e-4)
    np.testing.assert_allclose(per_image["kl_loss"], kl, rtol=1e-5)
    np.testing.assert_allclose(per_image["loss"], recon + 2.0 * kl, rtol=1e-4)
    np.testing.assert_allclose(per_image["negative_elbo"], recon + kl, rtol=1e-4)
    assert results["reconstruction_loss"] == pytest.approx(recon.mean(), rel=1e-4)
    assert results["loss"] == pytest.approx((recon + 2.0 * kl).mean(), rel=1e-4)


def test_regularisation_losses_are_added_to_the_loss():
    inputs = keras.Input((8, 8, 1))
    hidden = keras.layers.Flatten()(inputs)
    z_mean = keras.layers.Dense(
        2, kernel_regularizer=keras.regularizers.L2(0.1), name="z_mean"
    )(hidden)
    z_log_var = keras.layers.Dense(2, name="z_log_var")(hidden)
    encoder = keras.Model(inputs, [z_mean, z_log_var])
    vae = VAE(encoder, vae_decoder(latent_dim=2), beta=1.0, seed=0)
    vae.compile(optimizer="adam")
    penalty = 0.1 * np.sum(encoder.get_layer("z_mean").get_weights()[0] ** 2)

    results = vae.evaluate(_images(), batch_size=8, verbose=0, return_dict=True)

    expected = results["reconstruction_loss"] + results["kl_loss"] + penalty
    assert results["loss"] == pytest.approx(expected, rel=1e-5)


def test_evaluate_is_repeatable_and_averages_over_images():
    vae = variational_autoencoder(latent_dim=2, hidden_units=(16,), seed=0)
    vae.compile(optimizer="adam")
    images = _images(20)  # batches of 8, 8 and 4

    first = vae.evaluate(images, batch_size=8, verbose=0, return_dict=True)
    second = vae.evaluate(images, batch_size=8, verbose=0, return_dict=True)
    per_image = vae.per_image_losses(images, batch_size=8)

    assert first == second
    for name in ("loss", "reconstruction_loss", "kl_loss"):
        assert first[name] == pytest.approx(per_image[name].mean(), rel=1e-5)


def test_call_decodes_the_mean_unless_training():
    vae = variational_autoencoder(latent_dim=2, hidden_units=(16,), seed=0)
    images = _images(4)
    z_mean, _ = vae.encoder.predict(images, verbose=0)

    predicted = vae.predict(images, verbose=0)
    sampled = np.asarray(vae(images, training=True))

    np.testing.assert_allclose(
        predicted, vae.decoder.predict(z_mean, verbose=0), rtol=1e-6
    )
    assert sampled.shape == predicted.shape
    assert not np.allclose(sampled, predicted)


def test_save_and_load_round_trip(tmp_path):
    vae = variational_autoencoder(latent_dim=2, hidden_units=(16,), beta=0.5, seed=7)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    images = _images()
    vae.fit(images, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / "vae.keras"

    vae.save(path)
    loaded = keras.saving.load_model(path)

    assert isinstance(loaded, VAE)
    assert (loaded.beta, loaded.seed, loaded.latent_dim) == (0.5, 7, 2)
    for saved, restored in zip(vae.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, restored)
    for saved, restored in zip(
        vae.optimizer.variables, loaded.optimizer.variables, strict=True
    ):
        np.testing.assert_array_equal(saved, restored)
    assert loaded.evaluate(images, batch_size=8, verbose=0, return_dict=True) == (
        vae.evaluate(images, batch_size=8, verbose=0, return_dict=True)
    )
    np.testing.assert_array_equal(
        loaded.predict(images, verbose=0), vae.predict(images, verbose=0)
    )
    history = loaded.fit(images, epochs=1, batch_size=8, verbose=0).history
    assert np.isfinite(history["loss"][0])


def test_sample_decodes_prior_draws():
    vae = variational_autoencoder(latent_dim=3, hidden_units=(16,), seed=0)

    samples = vae.sample(5, seed=1)

    assert samples.shape == (5, 8, 8, 1)
    assert np.all((samples > 0) & (samples < 1))
    np.testing.assert_array_equal(samples, vae.sample(5, seed=1))
    assert not np.array_equal(samples, vae.sample(5, seed=2))


def test_training_on_digits_lowers_the_negative_elbo():
    digits = load_digits().images[:256, :, :, None].astype("float32") / 16.0
    keras.utils.set_random_seed(0)
    vae = variational_autoencoder(latent_dim=2, hidden_units=(32,), seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))

    before = vae.per_image_losses(digits)["negative_elbo"].mean()
    vae.fit(digits, epochs=15, batch_size=32, verbose=0)
    after = vae.per_image_losses(digits)["negative_elbo"].mean()

    assert after < 0.7 * before


@pytest.mark.parametrize(
    "build, received",
    [
        (lambda: variational_autoencoder(latent_dim=0), "latent_dim=0"),
        (lambda: variational_autoencoder(beta=-1.0), "beta=-1.0"),
        (lambda: variational_autoencoder(hidden_units=(8, -2)), "hidden_units=(8, -2)"),
        (
            lambda: variational_autoencoder(input_shape=(64,), conv_filters=(4,)),
            "input_shape=(64,)",
        ),
        (lambda: variational_autoencoder(seed=1.5), "seed=1.5"),
        (lambda: variational_autoencoder().sample(0), "num_images=0"),
        (
            lambda: variational_autoencoder().per_image_losses(_images(), batch_size=0),
            "batch_size=0",
        ),
        (
            lambda: VAE(vae_encoder(latent_dim=2), vae_decoder(latent_dim=3)),
            "decoder.input_shape=(None, 3)",
        ),
        (
            lambda: VAE(
                vae_encoder(latent_dim=2), vae_decoder((4, 4, 1), latent_dim=2)
            ),
            "decoder.output_shape=(None, 4, 4, 1)",
        ),
        (lambda: VAE(vae_decoder(), vae_decoder()), "encoder.output_shape="),
        (lambda: VAE("encoder", vae_decoder()), "encoder=encoder"),
    ],
)
def test_bad_arguments_raise_early(build, received):
    with pytest.raises(ValueError, match="Received: " + re.escape(received)):
        build()
