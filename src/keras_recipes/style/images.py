"""Images for style transfer: loading at a size that keeps the aspect ratio."""

from pathlib import Path

import numpy as np
from PIL import Image

from keras_recipes.data.image_files import check_image
from keras_recipes.data.image_folder import convert_image
from keras_recipes.data.photos import load_photo, photo_names, unknown_photo_error
from keras_recipes.errors import DataError

INIT_METHODS = ("content", "noise", "mix")


def read_image(source):
    """Reads an image file or an embedded photograph as RGB pixels.

    Args:
        source: The path of an image file, or the name of an embedded photo
            (see `keras_recipes.data.photos.photo_names()`).

    Returns:
        A float32 array `[height, width, 3]` with values in [0, 255].

    Example:

    ```python
    read_image("chelsea").shape  # (300, 451, 3)
    ```
    """
    text = str(source)
    path = Path(text).expanduser()
    if path.is_file():
        check_image(path)
        with Image.open(path) as image:
            return np.asarray(convert_image(image, 3), dtype="float32")
    if text in photo_names():
        return load_photo(text)
    if "/" in text or "." in text:
        raise DataError(
            f"image file not found: {path} (give an image file or one of the "
            f"embedded photos: {', '.join(photo_names())})"
        )
    raise unknown_photo_error(text)


def fit_size(pixels, height, width=None):
    """Resizes an image to a height (and width), never stretching it.

    With `width=None` the width follows the image's aspect ratio. With both
    sizes given, the largest centred crop of that aspect ratio is cut first,
    so the picture is cropped rather than distorted.

    Args:
        pixels: Array `[H, W, 3]` with values in [0, 255].
        height: Output height in pixels.
        width: Output width in pixels, or `None` to keep the aspect ratio.
            Defaults to `None`.

    Returns:
        A float32 array `[height, width, 3]`.

    Example:

    ```python
    fit_size(read_image("chelsea"), 64).shape  # (64, 96, 3)
    ```
    """
    if height < 1 or (width is not None and width < 1):
        raise ValueError(
            f"height and width must be positive. Received: height={height}, "
            f"width={width}"
        )
    source_height, source_width = pixels.shape[:2]
    if width is None:
        width = max(1, round(height * source_width / source_height))
    else:
        # The largest centred box of the target aspect ratio.
        scale = min(source_height / height, source_width / width)
        crop_height = min(source_height, round(height * scale))
        crop_width = min(source_width, round(width * scale))
        top = (source_height - crop_height) // 2
        left = (source_width - crop_width) // 2
        pixels = pixels[top : top + crop_height, left : left + crop_width]
    image = Image.fromarray(np.clip(pixels, 0, 255).astype("uint8"))
    resized = image.resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(resized, dtype="float32")


def load_image(source, height, width=None):
    """Reads an image file or embedded photo and fits it to a size.

    Args:
        source: An image path or an embedded photo name.
        height: Output height in pixels.
        width: Output width, or `None` to keep the aspect ratio.
            Defaults to `None`.

    Returns:
        A float32 array `[height, width, 3]` with values in [0, 255].

    Example:

    ```python
    content = load_image("chelsea", 256)  # (256, 385, 3)
    style = load_image("my_painting.jpg", *content.shape[:2])
    ```
    """
    return fit_size(read_image(source), height, width)


def save_image(pixels, path):
    """Writes an RGB array as an 8-bit image file.

    Args:
        pixels: Array `[H, W, 3]` with values in [0, 255]; rounded and
            clipped.
        path: The file to write, e.g. `figures/result.png`.

    Returns:
        `path`.

    Example:

    ```python
    save_image(content, "content.png")
    ```
    """
    image = np.clip(np.round(np.asarray(pixels)), 0, 255).astype("uint8")
    Image.fromarray(image).save(path)
    return path


def initial_image(content, method="content", noise_ratio=0.6, seed=0):
    """Returns the image the optimisation starts from.

    Args:
        content: The content image, `[H, W, 3]` in [0, 255].
        method: `"content"` (a copy of the content image), `"noise"`
            (uniform noise over [0, 255]) or `"mix"` (noise blended into the
            content image, as in the deeplearning.ai course). Defaults to
            `"content"`.
        noise_ratio: For `"mix"`, the weight of the noise in [0, 1].
            Defaults to `0.6`.
        seed: Seed of the noise. Defaults to `0`.

    Returns:
        A float32 array of the shape of `content`, in [0, 255].

    Example:

    ```python
    start = initial_image(content, "mix", noise_ratio=0.3)
    ```
    """
    if method not in INIT_METHODS:
        raise ValueError(f"method must be one of {INIT_METHODS}. Received: {method}")
    if not 0 <= noise_ratio <= 1:
        raise ValueError(
            f"noise_ratio must be in [0, 1]. Received: noise_ratio={noise_ratio}"
        )
    content = np.asarray(content, dtype="float32")
    if method == "content":
        return content.copy()
    noise = np.random.default_rng(seed).uniform(0, 255, content.shape)
    if method == "noise":
        return noise.astype("float32")
    mixed = noise_ratio * noise + (1 - noise_ratio) * content
    return mixed.astype("float32")
