import keras
import numpy as np
import pytest
from PIL import Image, ImageDraw

from keras_recipes.detection import landmark_detector


def _triangles(count, seed):
    """Filled triangles; the landmarks are the apex, then right, then left."""
    rng = np.random.default_rng(seed)
    images = np.zeros((count, 48, 48, 3), "float32")
    points = np.zeros((count, 3, 2), "float32")
    for index in range(count):
        apex = (rng.uniform(12, 36), rng.uniform(4, 18))
        right = (rng.uniform(30, 46), rng.uniform(30, 46))
        left = (rng.uniform(2, 18), rng.uniform(30, 46))
        canvas = Image.new("RGB", (48, 48), (20, 20, 40))
        ImageDraw.Draw(canvas).polygon([apex, right, left], fill=(240, 200, 60))
        images[index] = np.asarray(canvas, "float32")
        points[index] = np.array([apex, right, left]) / 48
    return images, points


def test_learns_three_landmarks():
    keras.utils.set_random_seed(0)
    images, points = _triangles(600, seed=0)
    model = landmark_detector(
        (48, 48, 3), num_landmarks=3, filters=(8, 16, 32), dense_units=64
    )
    assert model.output_shape == (None, 3, 2)
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="mse")
    model.fit(images[:500], points[:500], epochs=20, batch_size=32, verbose=0)
    predicted = model.predict(images[500:], verbose=0)
    error = np.linalg.norm((predicted - points[500:]) * 48, axis=-1)
    # Guessing each landmark's mean position misses by about 8 pixels.
    baseline = np.linalg.norm((points[:500].mean(0) - points[500:]) * 48, axis=-1)
    assert baseline.mean() > 6
    assert error.mean() < 2.5
    assert error.mean() < baseline.mean() / 3


@pytest.mark.parametrize(
    "kwargs, message",
    [({"num_landmarks": 0}, "num_landmarks"), ({"filters": (0,)}, "filters")],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        landmark_detector(**kwargs)
