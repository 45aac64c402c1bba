"""The rendered letters: digits' format, deterministic, fast, every font drawn."""

import time

import numpy as np
import pytest

from keras_recipes.data.digits import load_digits
from keras_recipes.data.glyphs import (
    GLYPH_CLASSES,
    GLYPH_FONTS,
    font_directory,
    pool_bitmaps,
    render_glyphs,
)


def test_images_have_the_digits_format():
    images, labels, names = render_glyphs(samples_per_class=4, seed=0)
    (digits, _), _, _ = load_digits()
    assert images.shape == (4 * 52, 8, 8, 1) and images.dtype == np.float32
    assert names == list(GLYPH_CLASSES) and len(names) == 52
    # Like the digits: ink counts of 4x4 blocks, 0..16, scaled to 0..255.
    levels = np.arange(17) * 255.0 / 16.0
    assert np.isin(np.unique(images), levels).all()
    assert np.isin(np.unique(digits), levels).all()
    assert np.bincount(labels).tolist() == [4] * 52
    assert labels.dtype == np.int32


def test_same_seed_same_images_other_seed_other_images():
    first = render_glyphs(samples_per_class=3, seed=5)
    again = render_glyphs(samples_per_class=3, seed=5)
    other = render_glyphs(samples_per_class=3, seed=6)
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("font", GLYPH_FONTS)
def test_every_font_draws_every_letter(font):
    # A font without Latin letters (such as DejaVuSansDisplay) draws blanks.
    images, labels, _ = render_glyphs(
        samples_per_class=1, fonts=(font,), font_size=(30, 30), seed=1
    )
    assert (images.reshape(len(images), -1).max(axis=1) > 0).all()
    # Different letters give different images.
    assert len({image.tobytes() for image in images}) >= 45


def test_fit_height_fills_the_box_like_the_digits():
    plain, _, _ = render_glyphs(samples_per_class=10, seed=0, max_offset=0)
    fitted, _, _ = render_glyphs(
        samples_per_class=10, seed=0, max_offset=0, fit_height=(32, 32)
    )

    def rows_with_ink(images):
        return (images[..., 0].max(axis=2) > 0).sum(axis=1)

    # Size-normalised letters span the whole height, as the digits do.
    assert np.median(rows_with_ink(fitted)) == 8
    assert np.median(rows_with_ink(plain)) < 8


def test_pool_bitmaps_counts_ink_per_block():
    rng = np.random.default_rng(0)
    bitmaps = rng.random((3, 32, 32)) > 0.6
    pooled = pool_bitmaps(bitmaps)
    for n in range(3):
        for row in range(8):
            for column in range(8):
                block = bitmaps[n, 4 * row : 4 * row + 4, 4 * column : 4 * column + 4]
                assert pooled[n, row, column, 0] == pytest.approx(
                    block.sum() * 255.0 / 16.0
                )
    assert render_glyphs(2, seed=0, image_size=32)[0].shape == (104, 32, 32, 1)


def test_thousands_of_images_in_seconds():
    start = time.perf_counter()
    images, _, _ = render_glyphs(samples_per_class=60, seed=0)
    elapsed = time.perf_counter() - start
    assert len(images) == 3120
    assert elapsed < 15, f"{elapsed:.1f} s for 3,120 images"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"samples_per_class": 0},
        {"classes": "AA"},
        {"fonts": ()},
        {"fonts": ("NoSuchFont.ttf",)},
        {"image_size": 12},
        {"font_size": (20, 10)},
        {"stroke_width": (2, 1)},
        {"fit_height": (10, 40)},
    ],
)
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError, match="Received"):
        render_glyphs(**kwargs)


def test_fonts_come_from_matplotlib():
    assert all((font_directory() / font).is_file() for font in GLYPH_FONTS)
    assert len(GLYPH_FONTS) == 22
