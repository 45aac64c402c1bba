"""The feature cache: keys, fingerprints, atomic writes, hits and misses."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_recipes.data.feature_cache import (
    FeatureCache,
    array_fingerprint,
    extract_features,
    file_fingerprint,
    key_digest,
    weights_fingerprint,
)
from keras_recipes.data.labelled_images import LabelledImages, select_per_class

KEY = {
    "base": "vgg16",
    "weights": "imagenet",
    "input_shape": [32, 32, 3],
    "preprocessing": "VGG16",
    "cut_layer": None,
    "data": "abc",
}


def test_every_key_part_names_its_own_file(tmp_path):
    cache = FeatureCache(tmp_path)
    changes = {
        "base": "resnet50",
        "weights": "sha256:0",
        "input_shape": [64, 64, 3],
        "preprocessing": "none",
        "cut_layer": "block4_pool",
        "data": "abd",
    }
    paths = {cache.path(KEY)} | {cache.path({**KEY, k: v}) for k, v in changes.items()}
    assert len(paths) == 1 + len(changes)
    # Key order does not matter.
    assert cache.path(dict(reversed(list(KEY.items())))) == cache.path(KEY)


def test_second_call_is_a_hit_without_extraction(tmp_path, capsys):
    cache = FeatureCache(tmp_path)
    calls = []

    def extract():
        calls.append(1)
        return {"features": np.arange(12.0).reshape(3, 4)}

    first, hit = cache.get_or_extract(KEY, extract, "vgg16-train")
    assert not hit and len(calls) == 1
    assert "feature cache miss" in capsys.readouterr().out
    second, hit = cache.get_or_extract(KEY, extract, "vgg16-train")
    assert hit and len(calls) == 1
    assert "feature cache hit: vgg16-train" in capsys.readouterr().out
    np.testing.assert_array_equal(first["features"], second["features"])
    changed, hit = cache.get_or_extract({**KEY, "data": "new"}, extract, "vgg16-train")
    assert not hit and len(calls) == 2


def test_a_file_holding_another_key_is_never_read(tmp_path, capsys):
    cache = FeatureCache(tmp_path)
    cache.save(KEY, {"features": np.zeros(3)})
    other = {**KEY, "cut_layer": "block4_pool"}
    # Put the entry of KEY where OTHER's entry would be: a digest clash.
    os.replace(cache.path(KEY), cache.path(other))
    assert cache.load(other) is None
    assert "has another key" in capsys.readouterr().out
    cache.path(other).write_bytes(b"not a zip file")
    assert cache.load(other) is None


def test_interrupted_extraction_leaves_nothing(tmp_path):
    cache = FeatureCache(tmp_path)

    def broken():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache.get_or_extract(KEY, broken)
    assert not list(tmp_path.iterdir())

    class Unsavable:
        def __array__(self, *args, **kwargs):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        cache.save(KEY, {"features": Unsavable()})
    assert list(tmp_path.iterdir()) == []  # no partial file either


def test_file_fingerprint_follows_size_mtime_and_content(tmp_path):
    files = [tmp_path / "a.png", tmp_path / "b.png"]
    for path in files:
        path.write_bytes(b"12345")
    stat, content = file_fingerprint(files), file_fingerprint(files, "content")
    assert file_fingerprint(files[::-1]) != stat  # order matters
    stamp = files[0].stat().st_mtime_ns
    os.utime(files[0], ns=(stamp + 10**9, stamp + 10**9))
    assert file_fingerprint(files) != stat
    assert file_fingerprint(files, "content") == content  # same bytes
    files[0].write_bytes(b"54321")  # same size, new bytes
    os.utime(files[0], ns=(stamp, stamp))  # and the old time
    assert file_fingerprint(files) == stat
    assert file_fingerprint(files, "content") != content
    with pytest.raises(ValueError, match="mode"):
        file_fingerprint(files, "fast")


def test_weights_and_array_fingerprints(tmp_path):
    assert weights_fingerprint("imagenet") == "imagenet"
    assert weights_fingerprint(None) is None
    path = tmp_path / "w.weights.h5"
    path.write_bytes(b"one")
    first = weights_fingerprint(path)
    path.write_bytes(b"two")
    assert first.startswith("sha256:") and weights_fingerprint(path) != first
    x = np.zeros((2, 2), "float32")
    assert array_fingerprint(x) != array_fingerprint(x.astype("float64"))
    assert array_fingerprint(x) != array_fingerprint(x.reshape(4))
    assert array_fingerprint(x) == array_fingerprint(x.copy())
    assert len(key_digest(KEY)) == 24


def test_extract_features_matches_the_model_and_shows_progress(capsys):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    x = np.random.default_rng(0).normal(size=(10, 4)).astype("float32")
    y = np.arange(10)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(3)
    features, labels = extract_features(model, dataset)
    np.testing.assert_allclose(features, x @ model.get_weights()[0], rtol=1e-5)
    np.testing.assert_array_equal(labels, y)
    assert "4/4" in capsys.readouterr().out  # the Progbar's last step


def test_labelled_images_from_files_and_arrays(tmp_path):
    from PIL import Image

    arrays = np.random.default_rng(1).integers(0, 256, (4, 6, 6, 1)).astype("float32")
    files = []
    for index, image in enumerate(arrays):
        path = tmp_path / f"{index}.png"
        Image.fromarray(image[..., 0].astype("uint8"), mode="L").save(path)
        files.append(path)
    labels = [0, 1, 0, 1]
    from_files = LabelledImages(labels, files=files)
    from_arrays = LabelledImages(labels, arrays=arrays)
    for split in (from_files, from_arrays):
        images = np.stack([x.numpy() for x, _ in split.dataset((6, 6), 1)])
        np.testing.assert_allclose(images, arrays, atol=0.5)
        rgb = next(iter(split.dataset((12, 12), 3)))[0].numpy()
        assert rgb.shape == (12, 12, 3)
        np.testing.assert_array_equal(rgb[..., 0], rgb[..., 2])
    order = tf.data.Dataset.from_tensor_slices(tf.constant([3, 0], tf.int64))
    picked = [int(y) for _, y in from_files.dataset((6, 6), 1, order)]
    assert picked == [1, 0]
    assert from_files.subset([1, 2]).files == files[1:3]
    assert from_files.fingerprint() != from_files.subset([0, 1, 2]).fingerprint()


def test_select_per_class_is_nested_and_excludes():
    labels = np.repeat(np.arange(3), 10)
    three = select_per_class(labels, 3, seed=7)
    five = select_per_class(labels, 5, seed=7)
    assert np.bincount(labels[three]).tolist() == [3, 3, 3]
    assert set(three) <= set(five)
    rest = select_per_class(labels, 7, seed=7, exclude=three)
    assert not set(rest) & set(three)
    with pytest.raises(ValueError, match="fewer than count"):
        select_per_class(labels, 8, seed=7, exclude=three)
