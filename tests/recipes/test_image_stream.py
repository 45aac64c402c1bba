"""Folder images stream from disk: the same numbers as arrays, bounded memory."""

import dataclasses
import math
import tracemalloc

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import keras_recipes
from keras_recipes.data.image_arrays import load_image_arrays, read_images
from keras_recipes.data.image_stream import (
    ImageSet,
    cache_decoded,
    decode_pixels,
    sample_indices,
)
from keras_recipes.data.noise import add_gaussian_noise
from keras_recipes.data.pixel_file import PixelFile
from keras_recipes.epoch_seeding import epoch_shuffled_indices
from keras_recipes.recipes import AutoencoderRecipe, VAERecipe
from keras_recipes.recipes.autoencoder.data import TEST_NOISE_SEED
from keras_recipes.recipes.reconstruction import EXAMPLES, class_examples

SEED = 7
NOISE = 0.3
BATCH = 8


def write_folder(root, count, size=16, classes=("a", "b", "c")):
    """Writes `count` random RGB images, PNGs and JPEGs, in class folders."""
    rng = np.random.default_rng(0)
    for index in range(count):
        folder = root / classes[index % len(classes)]
        folder.mkdir(parents=True, exist_ok=True)
        coarse = rng.integers(0, 256, (4, 4, 3), dtype="uint8")
        image = Image.fromarray(coarse).resize((size, size), Image.Resampling.BICUBIC)
        if index % 2:
            image.save(folder / f"{index:04d}.jpg", quality=90)
        else:
            image.save(folder / f"{index:04d}.png")
    return root


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_folder(tmp_path_factory.mktemp("photos"), 60)


def _overrides(folder, **more):
    return {
        "data.source": "folder",
        "data.directory": str(folder),
        "data.image_size": [16, 16],
        "data.color_mode": "rgb",
        "data.test_split": 0.2,
        "train.batch_size": BATCH,
        "seed": SEED,
        "model.hidden_units": [16],
        **more,
    }


def _recipe(cls, folder, tmp_path, **more):
    config = keras_recipes.load_config(cls.name, _overrides(folder, **more))
    return cls(config, run_dir=tmp_path)


def _old_arrays(recipe):
    config = recipe.config
    return load_image_arrays(config.data, config.train.validation_split, config.seed)


def _epoch_batches(dataset, steps, epochs):
    iterator = iter(dataset)
    return [[next(iterator) for _ in range(steps)] for _ in range(epochs)]


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size, levels", [((16, 16), 0), ((10, 12), 1), ((24, 20), 1)])
def test_decoded_pixels_are_pillows_within_one_level_when_resized(
    folder, channels, size, levels
):
    files = sorted(folder.rglob("*.*"))[:6]

    decoded = [decode_pixels(tf.constant(str(f)), size, channels) for f in files]

    expected = np.round(read_images(files, size, channels) * 255)
    difference = np.abs(np.stack(decoded).astype("float32") - expected)
    assert difference.max() <= levels


def test_streamed_training_pairs_and_noise_equal_the_array_path(folder, tmp_path):
    recipe = _recipe(
        AutoencoderRecipe, folder, tmp_path, **{"data.noise_factor": NOISE}
    )
    data = recipe.build_data()
    arrays = _old_arrays(recipe)
    train = arrays.train
    steps = math.ceil(len(train) / BATCH)

    epochs = _epoch_batches(data.train, steps, epochs=2)

    assert data.steps_per_epoch == steps and data.images.train.files is not None
    for epoch, batches in enumerate(epochs):
        order = np.array(list(epoch_shuffled_indices(len(train), SEED, epoch)))
        noisy = [
            add_gaussian_noise(train[i], NOISE, (SEED, epoch * len(train) + i))
            for i in order
        ]
        inputs = np.concatenate([np.asarray(x) for x, _ in batches])
        targets = np.concatenate([np.asarray(y) for _, y in batches])
        np.testing.assert_allclose(targets, train[order], atol=1e-6)
        np.testing.assert_allclose(inputs, np.stack(noisy), atol=1e-6)


def test_streamed_vae_batches_follow_the_epoch_order(folder, tmp_path):
    recipe = _recipe(VAERecipe, folder, tmp_path)
    data = recipe.build_data()
    train = _old_arrays(recipe).train

    epochs = _epoch_batches(data.train, data.steps_per_epoch, epochs=2)

    for epoch, batches in enumerate(epochs):
        order = np.array(list(epoch_shuffled_indices(len(train), SEED, epoch)))
        np.testing.assert_allclose(np.concatenate(batches), train[order], atol=1e-6)


def _svd_pca_mse(train, test, components):
    flat_train = train.reshape(len(train), -1).astype("float64")
    flat_test = test.reshape(len(test), -1).astype("float64")
    mean = flat_train.mean(axis=0)
    basis = np.linalg.svd(flat_train - mean, full_matrices=False)[2][:components]
    restored = (flat_test - mean) @ basis.T @ basis + mean
    return np.mean((restored - flat_test) ** 2)


def test_streamed_autoencoder_evaluation_equals_the_array_computation(folder, tmp_path):
    recipe = _recipe(
        AutoencoderRecipe, folder, tmp_path, **{"data.noise_factor": NOISE}
    )
    data = recipe.build_data()
    model = recipe.build_model(data)
    arrays = _old_arrays(recipe)
    test = arrays.test
    noisy = np.stack(
        [
            add_gaussian_noise(image, NOISE, _folded(TEST_NOISE_SEED, index))
            for index, image in enumerate(test)
        ]
    )
    denoised = model.predict(noisy, verbose=0)

    evaluation = recipe.evaluate(model, data)

    metrics = evaluation.metrics
    expected_mse = np.mean((model.predict(test, verbose=0) - test) ** 2)
    assert metrics["test_reconstruction_mse"] == pytest.approx(expected_mse, rel=1e-5)
    assert metrics["pca_mse"] == pytest.approx(
        _svd_pca_mse(arrays.train, test, 8), rel=1e-5
    )
    assert metrics["pca_fit_images"] == len(arrays.train)
    assert metrics["test_noisy_mse"] == pytest.approx(
        np.mean((noisy - test) ** 2), rel=1e-5
    )
    assert metrics["test_denoised_mse"] == pytest.approx(
        np.mean((denoised - test) ** 2), rel=1e-5
    )
    chosen = class_examples(arrays.test_labels)
    assert len(chosen) == EXAMPLES
    np.testing.assert_allclose(evaluation.examples, test[chosen], atol=1e-6)
    np.testing.assert_allclose(evaluation.noisy_examples, noisy[chosen], atol=1e-6)


def _folded(seed, index):
    # A folder's fixed noise: one draw per image, from the seed and its position.
    return tf.random.experimental.stateless_fold_in(
        tf.constant(seed, tf.int64), tf.constant(index, tf.int64)
    )


def test_streamed_vae_evaluation_equals_the_array_computation(folder, tmp_path):
    recipe = _recipe(VAERecipe, folder, tmp_path)
    data = recipe.build_data()
    model = recipe.build_model(data)
    arrays = _old_arrays(recipe)
    test = arrays.test

    metrics = recipe.evaluate(model, data).metrics

    losses = model.per_image_losses(test, batch_size=BATCH)
    expected_mse = np.mean((model.predict(test, verbose=0) - test) ** 2)
    assert metrics["test_negative_elbo"] == pytest.approx(
        losses["negative_elbo"].mean(), rel=1e-5
    )
    assert metrics["test_kl_loss"] == pytest.approx(losses["kl_loss"].mean(), rel=1e-5)
    assert metrics["test_reconstruction_mse"] == pytest.approx(expected_mse, rel=1e-5)
    assert metrics["pca_mse"] == pytest.approx(
        _svd_pca_mse(arrays.train, test, 2), rel=1e-5
    )


@pytest.mark.parametrize("cls", [AutoencoderRecipe, VAERecipe])
def test_pca_is_fitted_on_a_fixed_sample_of_at_most_pca_max_images(
    cls, folder, tmp_path
):
    recipe = _recipe(cls, folder, tmp_path, **{"data.pca_max_images": 10})
    data = recipe.build_data()
    model = recipe.build_model(data)
    train = _old_arrays(recipe).train
    sample = train[sample_indices(len(train), 10, SEED)]

    evaluation = recipe.evaluate(model, data)

    assert evaluation.metrics["pca_fit_images"] == evaluation.pca.n_samples_ == 10
    np.testing.assert_allclose(
        evaluation.pca.mean_, sample.reshape(10, -1).mean(axis=0), atol=1e-6
    )


def _arrays_in(value, seen=None):
    """Every NumPy array a dataclass holds, through its fields, lists and dicts."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return []
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        return [value]
    if dataclasses.is_dataclass(value):
        values = [getattr(value, f.name) for f in dataclasses.fields(value)]
    elif isinstance(value, dict):
        values = list(value.values())
    elif isinstance(value, (list, tuple)):
        values = list(value)
    else:
        return []
    return [array for item in values for array in _arrays_in(item, seen)]


@pytest.mark.parametrize("cls", [AutoencoderRecipe, VAERecipe])
def test_folder_data_and_evaluation_hold_no_split_as_an_array(cls, folder, tmp_path):
    noise = {"data.noise_factor": NOISE} if cls is AutoencoderRecipe else {}
    recipe = _recipe(cls, folder, tmp_path, **noise)
    data = recipe.build_data()
    evaluation = recipe.evaluate(recipe.build_model(data), data)
    test_size = len(data.images.test)
    image_values = 16 * 16 * 3

    held = _arrays_in(data)
    kept = _arrays_in(evaluation)

    assert held and all(a.dtype == np.int32 and a.ndim == 1 for a in held)
    images = [a for a in kept if a.ndim == 4]
    assert images and all(len(a) <= EXAMPLES for a in images)
    # Besides the example images, only one latent mean per test image.
    others = [a for a in kept if a.ndim != 4]
    assert all(a.size < test_size * image_values for a in others)


def _traced_peak(step):
    tracemalloc.start()
    try:
        result = step()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _peak_bytes(folder, tmp_path):
    """Peak bytes NumPy and Python allocate in `build_data` and in `evaluate`."""
    overrides = {"data.image_size": [32, 32], "data.pca_max_images": 100}
    recipe = _recipe(AutoencoderRecipe, folder, tmp_path, **overrides)
    data, data_peak = _traced_peak(recipe.build_data)
    model = recipe.build_model(data)
    _, evaluate_peak = _traced_peak(lambda: recipe.evaluate(model, data))
    return np.array([data_peak, evaluate_peak])


def test_memory_does_not_grow_with_the_folder(tmp_path):
    small = write_folder(tmp_path / "small", 150, size=32)
    large = write_folder(tmp_path / "large", 600, size=32)

    # The first run also takes TensorFlow's one-time allocations.
    small_peaks = _peak_bytes(small, tmp_path / "a")
    large_peaks = _peak_bytes(large, tmp_path / "b")

    # As float32 arrays, the 450 more images would add 5.5 MB.
    assert all(large_peaks - small_peaks < 1.5 * 1024 * 1024), (
        small_peaks,
        large_peaks,
    )


def test_image_set_indexes_like_an_array(folder):
    files = sorted(folder.rglob("*.*"))[:5]
    images = ImageSet([-1] * 5, (16, 16), 3, files=files)
    expected = read_images(files, (16, 16), 3)

    np.testing.assert_allclose(images[1:4], expected[1:4], atol=1e-6)
    np.testing.assert_allclose(images[[4, 0]], expected[[4, 0]], atol=1e-6)
    np.testing.assert_allclose(images[-1], expected[-1], atol=1e-6)
    np.testing.assert_allclose(np.stack(list(images)), expected, atol=1e-6)
    assert images.shape == (5, 16, 16, 3)
    with pytest.raises(IndexError):
        images.read([5])


def test_sample_indices_are_fixed_sorted_and_distinct():
    first = sample_indices(1000, 50, seed=3)

    assert len(set(first)) == 50 and list(first) == sorted(first)
    np.testing.assert_array_equal(first, sample_indices(1000, 50, seed=3))
    assert not np.array_equal(first, sample_indices(1000, 50, seed=4))
    np.testing.assert_array_equal(sample_indices(20, 50, seed=3), np.arange(20))


def test_value_range_and_subsets_give_the_same_pixels(folder):
    files = sorted(folder.rglob("*.*"))[:6]
    unit = ImageSet([-1] * 6, (16, 16), 3, files=files)
    wide = ImageSet([-1] * 6, (16, 16), 3, files=files, value_range=(0, 255))
    as_uint8 = np.round(unit[:] * 255).astype("uint8")
    in_memory = ImageSet([-1] * 6, (16, 16), 3, pixels=as_uint8, value_range=(0, 255))

    np.testing.assert_allclose(wide[:], unit[:] * 255, atol=1e-3)
    np.testing.assert_array_equal(in_memory[:], as_uint8.astype("float32"))
    np.testing.assert_allclose(
        ImageSet([-1] * 6, (16, 16), 3, pixels=as_uint8)[:], as_uint8 / 255, atol=1e-6
    )
    batches = np.concatenate(list(in_memory.batches(4).as_numpy_iterator()))
    np.testing.assert_array_equal(batches, as_uint8.astype("float32"))

    part = wide.subset([4, 1])
    assert part.files == [files[4], files[1]] and part.value_range == (0.0, 255.0)
    np.testing.assert_array_equal(part[:], wide[[4, 1]])
    np.testing.assert_array_equal(in_memory.subset([5, 0])[:], in_memory[[5, 0]])


def test_decoded_cache_gives_the_files_pixels_and_is_read_again(
    folder, tmp_path, capsys
):
    files = sorted(folder.rglob("*.*"))[:10]
    images = ImageSet(list(range(10)), (12, 12), 3, files=files, value_range=(0, 255))

    cached = cache_decoded(images, tmp_path / "cache")
    assert "image cache miss" in capsys.readouterr().out
    again = cache_decoded(images, tmp_path / "cache")
    assert "image cache hit" in capsys.readouterr().out

    assert isinstance(cached.pixels, PixelFile) and cached.files is None
    np.testing.assert_array_equal(cached.labels, images.labels)
    np.testing.assert_array_equal(cached[:], images[:])
    np.testing.assert_array_equal(again[[7, 2]], images[[7, 2]])
    streamed = np.concatenate(list(cached.batches(4).as_numpy_iterator()))
    np.testing.assert_array_equal(streamed, images[:])
    order = tf.data.Dataset.from_tensor_slices(np.array([9, 0, 4], "int64"))
    one_by_one = np.stack(list(order.map(cached.reader()).as_numpy_iterator()))
    np.testing.assert_array_equal(one_by_one, images[[9, 0, 4]])
    part = cached.subset([8, 3, 5]).subset([2, 0])
    np.testing.assert_array_equal(part[:], images[[5, 8]])
    np.testing.assert_array_equal(part.labels, [5, 8])

    # Another size, or a changed file, is another entry.
    cache_decoded(dataclasses.replace(images, image_size=(8, 8)), tmp_path / "cache")
    assert "image cache miss" in capsys.readouterr().out
    Image.new("RGB", (12, 12), (255, 0, 0)).save(files[0])
    changed = cache_decoded(images, tmp_path / "cache")
    assert "image cache miss" in capsys.readouterr().out
    assert changed[0][..., 0].min() == 255
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 3
    assert not list((tmp_path / "cache").glob("*.partial"))
