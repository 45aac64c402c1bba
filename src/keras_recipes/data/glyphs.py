"""Letters rendered from the fonts matplotlib ships, in the digits' 8x8 format.

Each image is made the way scikit-learn's digits were (the UCI "optdigits"
preprocessing of NIST forms): a binary 32x32 bitmap of one character, cut into
non-overlapping 4x4 blocks, each block's count of ink pixels (0 to 16) becoming
one pixel. The counts are scaled to 0 to 255 as `load_digits` does. The
bitmaps are drawn here rather than scanned:

1. pick a letter (52 classes: `A`-`Z`, then `a`-`z`) and one of the 22 text
   fonts in `matplotlib/mpl-data/fonts/ttf` (DejaVu Sans, Sans Mono and Serif
   and STIX General in four styles each, and six Computer Modern faces);
2. draw it in white on a black 32x32 canvas with Pillow at a random font
   size, centred by the font's metrics (so a lowercase `o` stays smaller than
   an `O`) and shifted by a random offset, with a random extra stroke width
   that thickens the line;
3. rotate the grey image by a random angle about the canvas centre;
4. optionally (`fit_height`), size-normalise it as the digits were: crop it
   to its ink and scale it to a random height (at most 32 wide, keeping its
   aspect ratio), centred and shifted by the random offset. Capital and
   lowercase letters of one shape (`O` and `o`) then look alike, as they
   would handwritten;
5. binarise at half intensity and pool the 4x4 blocks.

Every random choice comes from one `numpy.random.Generator` seeded by `seed`,
so the same arguments give the same images.
"""

import functools
import string
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

GLYPH_CLASSES = tuple(string.ascii_uppercase + string.ascii_lowercase)
GLYPH_FONTS = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSansMono-Oblique.ttf",
    "DejaVuSansMono-BoldOblique.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf",
    "DejaVuSerif-BoldItalic.ttf",
    "STIXGeneral.ttf",
    "STIXGeneralBol.ttf",
    "STIXGeneralItalic.ttf",
    "STIXGeneralBolIta.ttf",
    "cmr10.ttf",
    "cmss10.ttf",
    "cmtt10.ttf",
    "cmti10.ttf",
    "cmb10.ttf",
    "cmmi10.ttf",
)
CANVAS = 32


def font_directory():
    """Returns the folder of the TrueType fonts matplotlib ships.

    Returns:
        A `Path` ending in `mpl-data/fonts/ttf`.

    Example:

    ```python
    sorted(p.name for p in font_directory().glob("DejaVuSans*.ttf"))
    ```
    """
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@functools.lru_cache(maxsize=1024)
def _font(name, size):
    return ImageFont.truetype(str(font_directory() / name), size)


def _draw(letter, font_name, size, offset, stroke, angle, height=None):
    # With `height`, the letter is drawn on a larger canvas, cropped to its
    # ink and scaled to that height (as the digits were size-normalised).
    side = CANVAS if height is None else 2 * CANVAS
    canvas = Image.new("L", (side, side), 0)
    shift = (0.0, 0.0) if height is not None else offset
    ImageDraw.Draw(canvas).text(
        (side / 2 + shift[0], side / 2 + shift[1]),
        letter,
        font=_font(font_name, size),
        fill=255,
        anchor="mm",
        stroke_width=stroke,
        stroke_fill=255,
    )
    canvas = canvas.rotate(angle, resample=Image.Resampling.BILINEAR)
    if height is not None:
        canvas = _fit(canvas, height, offset)
    return np.asarray(canvas) >= 128


def _fit(canvas, height, offset):
    box = canvas.point(lambda v: 255 if v >= 128 else 0).getbbox()
    result = Image.new("L", (CANVAS, CANVAS), 0)
    if box is None:
        return result
    ink = canvas.crop(box)
    scale = min(height / ink.height, CANVAS / ink.width)
    size = (max(1, round(ink.width * scale)), max(1, round(ink.height * scale)))
    ink = ink.resize(size, Image.Resampling.BILINEAR)
    left = round((CANVAS - size[0]) / 2 + offset[0])
    top = round((CANVAS - size[1]) / 2 + offset[1])
    result.paste(ink, (left, top))
    return result


def render_glyphs(
    samples_per_class=100,
    seed=0,
    classes=GLYPH_CLASSES,
    fonts=GLYPH_FONTS,
    font_size=(26, 38),
    max_offset=3,
    max_rotation=15.0,
    stroke_width=(0, 1),
    fit_height=None,
    image_size=8,
):
    """Renders random letters as digits-like images with integer labels.

    See the module docstring for how an image is made. Each class gets
    exactly `samples_per_class` images, in shuffled order. About 5,000 images
    take a few seconds.

    Args:
        samples_per_class: Images per letter. Defaults to `100`.
        seed: Seed of every random choice. Defaults to `0`.
        classes: The characters to draw, one class each, labelled in this
            order. Defaults to `GLYPH_CLASSES` (`A`-`Z`, `a`-`z`).
        fonts: File names in `font_directory()` to draw from, uniformly.
            Defaults to `GLYPH_FONTS` (22 fonts).
        font_size: Inclusive range `(low, high)` of font sizes in pixels of
            the 32x32 canvas. Defaults to `(26, 38)`.
        max_offset: Largest shift of the centre, in canvas pixels, along each
            axis. Defaults to `3`.
        max_rotation: Largest rotation in degrees, either way.
            Defaults to `15.0`.
        stroke_width: Inclusive range `(low, high)` of the extra stroke
            width in canvas pixels, drawn around the letter's outline to
            thicken it. Defaults to `(0, 1)`.
        fit_height: Inclusive range `(low, high)` of letter heights in
            canvas pixels: each letter is cropped to its ink and scaled to a
            random height in it (keeping its aspect ratio, at most the canvas
            wide), as the digits were size-normalised. Lowercase and capital
            letters of the same shape (`o` and `O`) then look alike. `None`
            keeps the font's own proportions. Defaults to `None`.
        image_size: Side of the output images: 8 (the digits' format), 16 or
            32 (the binary canvas itself). Defaults to `8`.

    Returns:
        `(images, labels, class_names)`: images float32 `[N, image_size,
        image_size, 1]` in [0, 255], labels int32 `[N]`, and the list of
        class names (the characters).

    Example:

    ```python
    images, labels, names = render_glyphs(samples_per_class=20, seed=1)
    images.shape  # (1040, 8, 8, 1)
    ```
    """
    if samples_per_class < 1:
        raise ValueError(
            f"samples_per_class must be at least 1. "
            f"Received: samples_per_class={samples_per_class}"
        )
    if not classes or len(set(classes)) != len(classes):
        raise ValueError(f"classes must be distinct characters. Received: {classes}")
    if not fonts:
        raise ValueError(f"fonts must name at least one font. Received: {fonts}")
    missing = [f for f in fonts if not (font_directory() / f).is_file()]
    if missing:
        raise ValueError(
            f"fonts not found in {font_directory()}. Received: fonts={missing}"
        )
    if image_size not in (8, 16, 32):
        raise ValueError(
            f"image_size must be 8, 16 or 32. Received: image_size={image_size}"
        )
    low, high = font_size
    if not 1 <= low <= high:
        raise ValueError(
            f"font_size must be (low, high) with 1 <= low <= high. "
            f"Received: font_size={font_size}"
        )
    if not 0 <= stroke_width[0] <= stroke_width[1]:
        raise ValueError(
            f"stroke_width must be (low, high) with 0 <= low <= high. "
            f"Received: stroke_width={stroke_width}"
        )
    if fit_height is not None and not 1 <= fit_height[0] <= fit_height[1] <= CANVAS:
        raise ValueError(
            f"fit_height must be (low, high) with 1 <= low <= high <= {CANVAS}. "
            f"Received: fit_height={fit_height}"
        )
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.arange(len(classes)), samples_per_class))
    count = len(labels)
    font_index = rng.integers(0, len(fonts), count)
    sizes = rng.integers(low, high + 1, count)
    offsets = rng.uniform(-max_offset, max_offset, (count, 2))
    angles = rng.uniform(-max_rotation, max_rotation, count)
    strokes = rng.integers(stroke_width[0], stroke_width[1] + 1, count)
    heights = (
        rng.integers(fit_height[0], fit_height[1] + 1, count)
        if fit_height is not None
        else [None] * count
    )
    bitmaps = np.stack(
        [
            _draw(
                classes[labels[i]],
                fonts[font_index[i]],
                int(sizes[i]),
                offsets[i],
                int(strokes[i]),
                float(angles[i]),
                None if heights[i] is None else int(heights[i]),
            )
            for i in range(count)
        ]
    )
    return pool_bitmaps(bitmaps, image_size), labels.astype("int32"), list(classes)


def pool_bitmaps(bitmaps, image_size=8):
    """Pools binary square bitmaps into ink counts scaled to [0, 255].

    Args:
        bitmaps: Boolean or 0/1 array `[N, S, S]` with `S` a multiple of
            `image_size`.
        image_size: Side of the pooled images. Defaults to `8`.

    Returns:
        float32 array `[N, image_size, image_size, 1]`: the fraction of ink
        in each block, times 255.

    Example:

    ```python
    pool_bitmaps(np.ones((1, 32, 32), bool))[0, 0, 0, 0]  # 255.0
    ```
    """
    bitmaps = np.asarray(bitmaps, dtype="float32")
    count, side = bitmaps.shape[0], bitmaps.shape[1]
    if side % image_size or bitmaps.shape[2] != side:
        raise ValueError(
            f"bitmaps must be square with a side that is a multiple of "
            f"image_size={image_size}. Received: shape={bitmaps.shape}"
        )
    block = side // image_size
    blocks = bitmaps.reshape(count, image_size, block, image_size, block)
    return (blocks.mean(axis=(2, 4)) * 255.0)[..., None].astype("float32")
