"""Face evaluation that stays linear in the data: chunks, capped queries, uint8."""

import numpy as np

import keras_recipes
from keras_recipes.faces.recognition import one_shot_accuracy
from keras_recipes.faces.verification import pair_distances
from keras_recipes.recipes.face_triplet.data import build_face_datasets


def test_pair_distances_in_chunks_equal_the_direct_sum():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (300, 6, 5, 3), dtype="uint8")
    first, second = rng.integers(0, 300, (2, 2500))
    flat = pixels.reshape(300, -1).astype("float64")
    expected = np.sum((flat[first] - flat[second]) ** 2, axis=1)

    squared = pair_distances(pixels, first, second)
    plain = pair_distances(pixels, first, second, "euclidean")

    np.testing.assert_array_equal(squared, expected)
    np.testing.assert_allclose(plain, np.sqrt(expected), rtol=1e-12)


def test_one_shot_queries_are_capped_per_trial():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(40), 25)
    embeddings = rng.normal(size=(40, 8))[labels] + rng.normal(size=(1000, 8))

    every = one_shot_accuracy(embeddings, labels, trials=3, seed=5)
    all_of_them = one_shot_accuracy(
        embeddings, labels, trials=3, seed=5, max_queries=960
    )
    capped = one_shot_accuracy(embeddings, labels, trials=1, seed=5, max_queries=7)

    assert all_of_them == every
    # One trial of 7 queries: a whole number of sevenths.
    assert abs(capped * 7 - round(capped * 7)) < 1e-9


def test_face_splits_hold_uint8_and_batches_come_out_float32():
    config = keras_recipes.load_config(
        "face_triplet", {"data.glyphs_per_class": 30, "train.epochs": 1}
    )

    data = build_face_datasets(config)
    images, labels = next(iter(data.train))

    assert {split[0].dtype for split in data.splits.values()} == {np.dtype("uint8")}
    assert images.dtype == "float32"
    seen = data.splits["train"][0].astype("float32")
    # Every image of the batch is one of the stored training images.
    flat = seen.reshape(len(seen), -1)
    for image in images.numpy().reshape(len(images), -1)[:8]:
        assert np.min(np.abs(flat - image).max(axis=1)) == 0
