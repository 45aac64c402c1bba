import numpy as np
import pytest
from sklearn.datasets import load_sample_image

from keras_recipes.data.photos import load_photo, photo_names
from keras_recipes.errors import DataError


def test_the_issue_s_photos_are_there():
    names = photo_names()
    for name in ("astronaut", "chelsea", "coffee", "rocket", "china", "flower"):
        assert name in names


@pytest.mark.parametrize("name", photo_names())
def test_every_photo_is_a_real_rgb_image(name):
    pixels = load_photo(name)
    assert pixels.dtype == np.float32 and pixels.ndim == 3 and pixels.shape[2] == 3
    assert min(pixels.shape[:2]) >= 256
    assert 0 <= pixels.min() and pixels.max() <= 255
    # A photograph, not a flat or synthetic image: many distinct grey levels.
    assert len(np.unique(pixels[..., 0])) > 100


def test_sklearn_photos_are_the_sample_images():
    np.testing.assert_array_equal(load_photo("china"), load_sample_image("china.jpg"))
    assert load_photo("flower").shape == (427, 640, 3)


def test_grayscale_photos_repeat_over_rgb_and_colour_ones_do_not():
    camera = load_photo("camera")
    np.testing.assert_array_equal(camera[..., 0], camera[..., 2])
    chelsea = load_photo("chelsea")
    assert chelsea.shape == (300, 451, 3)
    assert np.abs(chelsea[..., 0] - chelsea[..., 2]).mean() > 10


def test_unknown_name_suggests_the_nearest():
    with pytest.raises(DataError, match="did you mean 'chelsea'") as error:
        load_photo("chelsae")
    assert "astronaut" in str(error.value)
