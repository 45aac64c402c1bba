"""The PCA baseline and the errors the autoencoder recipes sum batch by batch."""

import numpy as np
import pytest

from keras_recipes.recipes.reconstruction import (
    FULL_SVD_MAX_VALUES,
    ExampleRows,
    SquaredErrors,
    enumerate_batches,
    fit_pca,
    pca_reconstruct,
)


def _images(count, pixels, seed=0):
    """Images near a few directions, as real images are, in float32."""
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(12, pixels))
    weights = rng.normal(size=(count, 12)) * np.linspace(3.0, 0.3, 12)
    noise = 0.05 * rng.normal(size=(count, pixels))
    return (weights @ basis + noise).astype("float32").reshape(count, pixels, 1, 1)


def _svd_mse(train, test, components):
    flat_train = train.reshape(len(train), -1).astype("float64")
    flat_test = test.reshape(len(test), -1).astype("float64")
    mean = flat_train.mean(axis=0)
    basis = np.linalg.svd(flat_train - mean, full_matrices=False)[2][:components]
    restored = (flat_test - mean) @ basis.T @ basis + mean
    return np.mean((restored - flat_test) ** 2)


@pytest.mark.parametrize(
    "count, pixels, solver", [(400, 64, "full"), (600, 768, "randomized")]
)
def test_pca_matches_an_exact_svd_with_either_solver(count, pixels, solver):
    train, test = _images(count, pixels), _images(100, pixels, seed=1)

    pca = fit_pca(train, components=8, seed=3)

    errors = SquaredErrors()
    for start in range(0, len(test), 32):
        batch = test[start : start + 32]
        errors.add("pca", pca_reconstruct(pca, batch), batch)
    assert (count * pixels <= FULL_SVD_MAX_VALUES) == (solver == "full")
    assert pca.svd_solver == solver and pca.components_.dtype == np.float32
    assert errors.means()["pca"] == pytest.approx(_svd_mse(train, test, 8), rel=1e-4)


def test_pca_leaves_the_images_alone_unless_told_to_overwrite():
    images = _images(600, 768)
    before = images.copy()

    fit_pca(images, components=4)
    kept = np.array_equal(images, before)
    fit_pca(images, components=4, overwrite=True)

    assert kept and not np.array_equal(images, before)


def test_squared_errors_summed_by_batch_equal_the_whole_arrays_mean():
    rng = np.random.default_rng(0)
    images = rng.random((50, 4, 4, 3), dtype="float32")
    guesses = rng.random((50, 4, 4, 3), dtype="float32")
    errors = SquaredErrors()

    for start in range(0, 50, 16):
        errors.add("guess", guesses[start : start + 16], images[start : start + 16])

    expected = np.mean((guesses.astype("float64") - images) ** 2)
    assert errors.means() == {"guess": pytest.approx(expected, rel=1e-12)}


def test_example_rows_keep_the_chosen_positions_in_their_order():
    images = np.arange(50).reshape(50, 1)
    rows = ExampleRows([17, 3, 49])

    for start, batch in enumerate_batches(
        (images[i : i + 16], -images[i : i + 16]) for i in range(0, 50, 16)
    ):
        rows.keep(start, images=batch[0], negated=batch[1])

    np.testing.assert_array_equal(rows.stacked("images")[:, 0], [17, 3, 49])
    np.testing.assert_array_equal(rows.stacked("negated")[:, 0], [-17, -3, -49])
