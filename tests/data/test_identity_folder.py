"""Identity folders (the LFW layout), identity splits, and LFW offline."""

import urllib.error

import numpy as np
import pytest
from PIL import Image

from keras_recipes.data.identity_folder import (
    load_identity_folder,
    split_identities,
    split_images,
)
from keras_recipes.data.lfw import load_lfw
from keras_recipes.errors import DataError


@pytest.fixture
def people(tmp_path):
    counts = {"Ada_Lovelace": 3, "Alan_Turing": 2, "Grace_Hopper": 1}
    for person, count in counts.items():
        (tmp_path / person).mkdir()
        for index in range(count):
            value = 40 * index + 10 * len(person)
            pixels = np.full((12, 10), value, dtype="uint8")
            path = tmp_path / person / f"{person}_{index + 1:04d}.jpg"
            Image.fromarray(pixels, mode="L").save(path)
    return tmp_path


def test_loads_identities_resized_and_filtered(people):
    images, labels, names = load_identity_folder(people, (8, 8), 1)
    assert names == ["Ada_Lovelace", "Alan_Turing", "Grace_Hopper"]
    assert images.shape == (6, 8, 8, 1)
    assert np.bincount(labels).tolist() == [3, 2, 1]
    assert images[0].mean() == pytest.approx(10 * len("Ada_Lovelace"), abs=2)
    images, labels, names = load_identity_folder(
        people, (8, 8), 3, min_images_per_identity=2
    )
    assert names == ["Ada_Lovelace", "Alan_Turing"] and images.shape[-1] == 3
    assert np.bincount(labels).tolist() == [3, 2]


def test_too_few_identities_and_bad_files_are_one_line_errors(people):
    with pytest.raises(DataError, match="min_images_per_identity"):
        load_identity_folder(people, (8, 8), 1, min_images_per_identity=3)
    (people / "Alan_Turing" / "notes.txt").write_text("not an image")
    with pytest.raises(DataError, match="notes.txt"):
        load_identity_folder(people, (8, 8), 1)


def test_split_identities_by_name_or_fraction():
    labels = np.repeat(np.arange(10), 3)
    names = [str(i) for i in range(10)]
    seen, unseen = split_identities(labels, unseen=["7", "8", "9"], names=names)
    assert unseen.tolist() == [7, 8, 9] and seen.tolist() == list(range(7))
    seen, unseen = split_identities(labels, unseen_fraction=0.3, seed=1)
    assert len(unseen) == 3 and set(seen) | set(unseen) == set(range(10))
    assert not set(seen) & set(unseen)
    with pytest.raises(DataError, match="'Z' is not in the data"):
        split_identities(labels, unseen=["Z"], names=names)
    with pytest.raises(DataError, match="at least 2"):
        split_identities(labels, unseen_fraction=0.05)


def test_split_images_per_identity():
    labels = np.repeat(np.arange(4), [20, 10, 3, 1])
    train, validation, test = split_images(labels, (0.15, 0.2), seed=0)
    assert sorted(np.r_[train, validation, test].tolist()) == list(range(34))
    for identity, count in enumerate([20, 10, 3, 1]):
        members = labels == identity
        assert members[validation].sum() == int(0.15 * count)
        assert members[test].sum() == int(0.2 * count)
    with pytest.raises(ValueError, match="sum below 1"):
        split_images(labels, (0.5, 0.5))


def test_lfw_offline_is_one_line(monkeypatch, tmp_path):
    def offline(**kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr("sklearn.datasets.fetch_lfw_people", offline)
    with pytest.raises(DataError) as error:
        load_lfw(data_home=str(tmp_path))
    message = str(error.value)
    assert "\n" not in message
    assert "cannot download LFW" in message and str(tmp_path / "lfw_home") in message


def test_lfw_images_are_scaled_to_255(monkeypatch):
    class Faces:
        images = np.full((2, 5, 4), 0.5, dtype="float32")
        target = np.array([0, 1])
        target_names = np.array(["Ada", "Bob"])

    monkeypatch.setattr("sklearn.datasets.fetch_lfw_people", lambda **kw: Faces)
    images, labels, names = load_lfw()
    assert images.shape == (2, 5, 4, 1) and images.max() == pytest.approx(127.5)
    assert names == ["Ada", "Bob"] and labels.tolist() == [0, 1]
