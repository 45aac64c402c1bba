"""Letterboxed images and their boxes, checked against the pixels themselves."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from keras_recipes.data.annotations.common import AnnotatedImage
from keras_recipes.data.annotations.images import annotated_image_set
from keras_recipes.data.image_stream import ImageSet, cache_decoded
from keras_recipes.data.letterbox import (
    LETTERBOX_FILL,
    letterbox_boxes,
    letterbox_placement,
    unletterbox_boxes,
)

SIZE = (96, 128)


def _extent(mask):
    """`xyxy` pixel-edge box around the True pixels of a mask."""
    rows, columns = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return np.array([columns[0], rows[0], columns[-1] + 1, rows[-1] + 1], "float64")


@pytest.mark.parametrize(
    "height, width", [(150, 500), (500, 150), (233, 311), (96, 128), (40, 41)]
)
def test_letterboxed_pixels_and_boxes_agree(tmp_path, height, width):
    rng = np.random.default_rng(height * width)
    # A white image with one black rectangle whose edges lie on pixel edges.
    x1, y1 = int(rng.integers(0, width // 2)), int(rng.integers(0, height // 2))
    x2 = int(rng.integers(x1 + width // 4, width + 1))
    y2 = int(rng.integers(y1 + height // 4, height + 1))
    image = Image.new("RGB", (width, height), (255, 255, 255))
    ImageDraw.Draw(image).rectangle([x1, y1, x2 - 1, y2 - 1], fill=(0, 0, 0))
    path = tmp_path / "photo.png"
    image.save(path)
    record = AnnotatedImage(
        path=path,
        width=width,
        height=height,
        boxes=np.array([[x1, y1, x2, y2]], "float32"),
        classes=np.array([0], "int32"),
        source=tmp_path / "photo.xml",
    )
    images, annotations = annotated_image_set([record], SIZE, letterbox=True)
    pixels = images[:1][0]
    assert pixels.shape == (*SIZE, 3)
    # The image fills the placement; the rest is the padding grey.
    new_height, new_width, top, left = letterbox_placement(height, width, SIZE)
    assert (new_height == SIZE[0]) or (new_width == SIZE[1])
    inside = np.zeros(SIZE, bool)
    inside[top : top + new_height, left : left + new_width] = True
    assert np.all(pixels[~inside] == LETTERBOX_FILL)
    assert np.all(pixels[inside] != LETTERBOX_FILL)
    # The dark pixels are where the box says, to within a resampled pixel.
    dark = _extent(inside & (pixels.mean(-1) < 127.5))
    np.testing.assert_allclose(annotations[0]["boxes"][0], dark, atol=1.0)
    np.testing.assert_allclose(
        unletterbox_boxes(annotations[0]["boxes"], height, width, SIZE),
        [[x1, y1, x2, y2]],
        atol=1e-3,
    )
    # The aspect ratio of the rectangle survives to within a pixel's rounding.
    w, h = dark[2] - dark[0], dark[3] - dark[1]
    assert w / h == pytest.approx((x2 - x1) / (y2 - y1), rel=2.5 / min(w, h))


def test_placement_is_centred_and_boxes_round_trip():
    assert letterbox_placement(100, 200, (96, 96)) == (48, 96, 24, 0)
    assert letterbox_placement(300, 100, (96, 96)) == (96, 32, 0, 32)
    rng = np.random.default_rng(0)
    boxes = rng.uniform(0, 300, (50, 4))
    again = unletterbox_boxes(letterbox_boxes(boxes, 300, 200, SIZE), 300, 200, SIZE)
    np.testing.assert_allclose(again, boxes, rtol=1e-5, atol=1e-3)


def test_stretched_and_letterboxed_sets_are_cached_apart(tmp_path):
    path = tmp_path / "wide.png"
    Image.new("RGB", (200, 50), (10, 200, 30)).save(path)

    def image_set(letterbox):
        return ImageSet(
            labels=[-1],
            image_size=(64, 64),
            channels=3,
            files=[path],
            value_range=(0, 255),
            letterbox=letterbox,
        )

    stretched = cache_decoded(image_set(False), tmp_path / "cache", verbose=False)
    boxed = cache_decoded(image_set(True), tmp_path / "cache", verbose=False)
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 2
    assert np.all(stretched[:1][0] != LETTERBOX_FILL)
    assert np.all(boxed[:1][0][:24] == LETTERBOX_FILL)
    np.testing.assert_array_equal(boxed[:1], image_set(True)[:1])
