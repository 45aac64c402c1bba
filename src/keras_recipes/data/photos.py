"""Real photographs shipped with scikit-image and scikit-learn, by name."""

import difflib

import numpy as np

from keras_recipes.errors import DataError

# Name -> (package, loader name). Every file is installed with its package, so
# nothing is downloaded; grayscale photographs are repeated over RGB.
_PHOTOS = {
    "astronaut": ("skimage", "astronaut"),
    "brick": ("skimage", "brick"),
    "camera": ("skimage", "camera"),
    "chelsea": ("skimage", "chelsea"),
    "china": ("sklearn", "china.jpg"),
    "coffee": ("skimage", "coffee"),
    "coins": ("skimage", "coins"),
    "flower": ("sklearn", "flower.jpg"),
    "grass": ("skimage", "grass"),
    "gravel": ("skimage", "gravel"),
    "hubble_deep_field": ("skimage", "hubble_deep_field"),
    "immunohistochemistry": ("skimage", "immunohistochemistry"),
    "moon": ("skimage", "moon"),
    "retina": ("skimage", "retina"),
    "rocket": ("skimage", "rocket"),
}


def photo_names():
    """Returns the names of the embedded photographs.

    Returns:
        A sorted list of names such as `"astronaut"` and `"china"`.

    Example:

    ```python
    "chelsea" in photo_names()  # True
    ```
    """
    return sorted(_PHOTOS)


def unknown_photo_error(name):
    """Returns the `DataError` for a photo name that does not exist.

    Args:
        name: The name that was asked for.

    Returns:
        A `DataError` naming the nearest photo and listing them all.

    Example:

    ```python
    raise unknown_photo_error("chelsae")
    ```
    """
    match = difflib.get_close_matches(str(name), photo_names(), n=1, cutoff=0.6)
    hint = f"; did you mean '{match[0]}'?" if match else ""
    return DataError(
        f"unknown photo '{name}'{hint} (embedded photos: {', '.join(photo_names())})"
    )


def load_photo(name):
    """Loads an embedded photograph as an RGB array.

    Args:
        name: One of `photo_names()`, e.g. `"chelsea"` (scikit-image's cat)
            or `"china"` (scikit-learn's Summer Palace).

    Returns:
        A float32 array `[height, width, 3]` with values in [0, 255], at the
        photograph's own size.

    Example:

    ```python
    cat = load_photo("chelsea")  # shape (300, 451, 3)
    ```
    """
    if name not in _PHOTOS:
        raise unknown_photo_error(name)
    package, loader = _PHOTOS[name]
    if package == "sklearn":
        from sklearn.datasets import load_sample_image

        pixels = load_sample_image(loader)
    else:
        import skimage.data

        pixels = getattr(skimage.data, loader)()
    pixels = np.asarray(pixels, dtype="float32")
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=-1)
    return pixels[..., :3]
