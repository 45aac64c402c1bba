"""The yolo training batches with mosaics: how many, and when they stop."""

import numpy as np
import pytest

import keras_recipes
from keras_recipes.epoch_seeding import make_epoch_variable
from keras_recipes.recipes.yolo.data import build_yolo_data

SMALL = {
    "train.epochs": 3,
    "train.batch_size": 32,
    "data.image_size": [64, 64],
    "data.shapes.num_train": 80,
    "data.shapes.num_test": 4,
}


def _first_batch(**overrides):
    config = keras_recipes.load_config("yolo", {**SMALL, **overrides})
    images, targets = next(iter(build_yolo_data(config, make_epoch_variable()).train))
    return images.numpy(), targets.numpy()


@pytest.fixture(scope="module")
def plain():
    return _first_batch()


def test_closed_mosaic_gives_the_batches_without_mosaic(plain):
    closed = _first_batch(
        **{"data.augmentation.mosaic": 1.0, "data.augmentation.close_mosaic": 3}
    )
    for made, expected in zip(closed, plain, strict=True):
        np.testing.assert_array_equal(made, expected)


@pytest.mark.parametrize("probability, low, high", [(1.0, 30, 32), (0.5, 8, 24)])
def test_mosaic_probability_is_the_share_of_changed_images(
    plain, probability, low, high
):
    images, targets = _first_batch(
        **{"data.augmentation.mosaic": probability, "data.augmentation.close_mosaic": 0}
    )
    changed = [not np.array_equal(a, b) for a, b in zip(images, plain[0], strict=True)]
    assert low <= sum(changed) <= high
    # Unchanged images keep their targets; the encoding of a mosaic is
    # checked against its boxes in the detection tests.
    for index in np.flatnonzero(~np.array(changed)):
        np.testing.assert_array_equal(targets[index], plain[1][index])
