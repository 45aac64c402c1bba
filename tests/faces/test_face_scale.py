"""Face evaluation that stays linear in the data: chunks, capped queries, uint8."""

import dataclasses

import keras
import numpy as np
import pytest
from PIL import Image

import keras_recipes
from keras_recipes.data.image_stream import decode_pixels
from keras_recipes.data.pixel_file import PixelFile
from keras_recipes.faces.recognition import one_shot_accuracy
from keras_recipes.faces.verification import pair_distances, roc_auc
from keras_recipes.recipes.face_triplet.callbacks import VerificationCallback
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

    stored = {split[0].pixels.dtype for split in data.splits.values()}
    assert stored == {np.dtype("uint8")}
    assert images.dtype == "float32"
    seen = data.splits["train"][0][:]
    # Every image of the batch is one of the stored training images.
    flat = seen.reshape(len(seen), -1)
    for image in images.numpy().reshape(len(images), -1)[:8]:
        assert np.min(np.abs(flat - image).max(axis=1)) == 0


def _identity_folder(root, identities=12, per_identity=10):
    rng = np.random.default_rng(3)
    for identity in range(identities):
        tint = rng.integers(0, 256, 3)
        folder = root / f"person_{identity}"
        folder.mkdir(parents=True)
        for index in range(per_identity):
            noise = rng.integers(-40, 41, (20, 24, 3))
            pixels = np.clip(tint + noise, 0, 255).astype("uint8")
            Image.fromarray(pixels).save(folder / f"{index}.png")
    return root


def test_a_folder_is_decoded_once_to_disk_and_batches_read_from_there(tmp_path):
    folder = _identity_folder(tmp_path / "people")
    overrides = {
        "data.directory": str(folder),
        "data.image_size": [16, 16],
        "data.unseen": "held_out",
        "data.unseen_fraction": 0.25,
        "train.validation_split": 0.3,
        "sampler.identities_per_batch": 3,
        "sampler.images_per_identity": 2,
        "train.epochs": 1,
    }
    config = keras_recipes.load_config("face_triplet", overrides)
    recipe = keras_recipes.get_recipe("face_triplet")(config, runs_root=tmp_path)

    data = recipe.build_data()

    assert all(isinstance(s[0].pixels, PixelFile) for s in data.splits.values())
    assert len(list((tmp_path / "image_cache").glob("*.npy"))) == 1
    everything = np.concatenate([s[0].read_uint8() for s in data.splits.values()])
    paths = sorted(folder.rglob("*.png"))
    expected = np.stack([decode_pixels(str(p), (16, 16), 3).numpy() for p in paths])
    # The splits hold every image once, decoded as the pipelines decode.
    assert sorted(map(bytes, everything)) == sorted(map(bytes, expected))
    images, labels = next(iter(data.train))
    train = data.splits["train"][0][:].reshape(len(data.splits["train"][0]), -1)
    for image in images.numpy().reshape(len(images), -1):
        assert np.min(np.abs(train - image).max(axis=1)) == 0
    streamed = dataclasses.replace(config.data.cache, enabled=False)
    uncached = dataclasses.replace(
        config, data=dataclasses.replace(config.data, cache=streamed)
    )
    files = build_face_datasets(uncached).splits["unseen"][0]
    assert files.pixels is None
    np.testing.assert_array_equal(
        files.read_uint8(), data.splits["unseen"][0].read_uint8()
    )


def test_verification_embeds_only_the_paired_images_and_scores_alike():
    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, (50, 6, 6, 1), dtype="uint8")
    model = keras.Sequential(
        [keras.Input((6, 6, 1)), keras.layers.Flatten(), keras.layers.Dense(4)]
    )
    first, second = rng.integers(0, 40, (2, 30))
    same = rng.random(30) < 0.5
    callback = VerificationCallback(images, first, second, same, "euclidean")
    callback.set_model(model)

    logs = {}
    callback.on_epoch_end(0, logs)

    every = model.predict(images.astype("float32"), verbose=0)
    distances = np.sqrt(np.sum((every[first] - every[second]) ** 2, axis=1))
    assert logs["val_auc"] == pytest.approx(roc_auc(distances, same), abs=1e-9)
    assert len(callback.images) == len(np.unique([first, second])) < 50


def test_validation_steps_cap_the_pairs_scored_each_epoch(tmp_path):
    overrides = {"data.glyphs_per_class": 30, "train.validation_steps": 1}
    config = keras_recipes.load_config("face_triplet", overrides)
    recipe = keras_recipes.get_recipe("face_triplet")(config, run_dir=tmp_path)
    data = recipe.build_data()
    callbacks = recipe.build_callbacks(data)
    verification = next(c for c in callbacks if isinstance(c, VerificationCallback))
    sampler = config.sampler
    batch = sampler.identities_per_batch * sampler.images_per_identity

    assert len(data.pairs["validation"][0]) > batch
    assert len(verification.first) == batch
    assert len(verification.images) <= 2 * batch
