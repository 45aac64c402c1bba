"""Image folders with one subfolder per class, checked before use."""

from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image

from keras_recipes.data.image_files import (
    SkippedFiles,
    check_image,
    is_hidden_or_system,
    list_folder_images,
)
from keras_recipes.errors import DataError

SPLITS = ("train", "validation", "test")


def find_splits(directory):
    """Returns the split folders of a classification data folder.

    Two layouts are understood: `train/`, `validation/` and optional `test/`
    each holding one subfolder per class (the cats-vs-dogs layout), or the
    class subfolders directly in `directory`, which is then the training set.

    Args:
        directory: The data folder.

    Returns:
        A `dict` mapping `"train"` (and `"validation"`, `"test"` when present)
        to folders.

    Example:

    ```python
    find_splits("data/cats_and_dogs")["train"]
    ```
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"data folder not found: {directory} (check data.directory)")
    if (directory / "train").is_dir():
        return {s: directory / s for s in SPLITS if (directory / s).is_dir()}
    return {"train": directory}


def scan_class_folder(folder, class_names=None, skipped=None):
    """Lists and checks the images of a folder with one subfolder per class.

    Hidden and system files and folders (`.DS_Store`, `Thumbs.db`) are left
    out and counted in `skipped`. Every other file must be a readable
    image: a file with another extension, or one that does not decode (or
    is another format under an image extension), is reported with its
    path, since silently skipping it would train on less data than the user
    thinks, unless `skipped.skip_bad` allows it.

    Args:
        folder: Folder whose subfolders are the classes.
        class_names: Expected class names (e.g. those of `train/`), or `None`
            to take them from the subfolders. Defaults to `None`.
        skipped: A `SkippedFiles` recording what is left out. Defaults to
            `None`: unreadable files stop the scan.

    Returns:
        `(class_names, files)` with `files` a list of `(path, label)`.

    Example:

    ```python
    names, files = scan_class_folder("data/cats_and_dogs/train")
    ```
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"data folder not found: {folder} (check data.directory)")
    skipped = SkippedFiles() if skipped is None else skipped
    found = sorted(
        p.name
        for p in folder.iterdir()
        if p.is_dir() and not is_hidden_or_system(p, folder)
    )
    if not found:
        raise DataError(
            f"no class subfolders in {folder}; put each class's images in "
            f"a subfolder named after the class"
        )
    if class_names is not None and found != list(class_names):
        raise DataError(
            f"class folders of {folder} are {found} but the training set has "
            f"{list(class_names)}; use the same class subfolders in every split"
        )
    files = []
    for label, name in enumerate(found):
        images = list_folder_images(folder / name, skipped)
        if not images:
            raise DataError(f"class folder is empty: {folder / name}")
        files.extend((path, label) for path in images)
    return found, files


def load_images(paths, image_size, channels, dtype="float32"):
    """Loads image files as one array, resized and colour-converted.

    Grayscale, palette and RGBA images are converted to the requested number
    of channels, so mixed folders work.

    Args:
        paths: Image files.
        image_size: `(height, width)` to resize to.
        channels: 1 for grayscale, 3 for RGB.
        dtype: `"float32"`, or `"uint8"` for a quarter of the memory.
            Defaults to `"float32"`.

    Returns:
        Array `[N, height, width, channels]` of `dtype`, values in [0, 255].

    Example:

    ```python
    x = load_images(["a.png", "b.jpg"], (150, 150), 3)
    ```
    """
    arrays = []
    for path in paths:
        check_image(path)
        with Image.open(path) as image:
            image = convert_image(image, channels).resize(
                (image_size[1], image_size[0]), Image.Resampling.BILINEAR
            )
            array = np.asarray(image, dtype=dtype)
        arrays.append(array.reshape(image_size[0], image_size[1], channels))
    if not arrays:
        return np.zeros((0, *image_size, channels), dtype=dtype)
    return np.stack(arrays)


def convert_image(image, channels):
    """Converts a Pillow image of any mode to 8-bit grayscale or RGB.

    Palette, RGBA, CMYK and 1-bit images convert as Pillow converts them.
    16-bit grayscale is scaled down to 8 bits (Pillow alone would clip
    everything above 255 to white), as `tf.io.decode_image` does.

    Args:
        image: A `PIL.Image.Image`.
        channels: 1 for grayscale (`"L"`), 3 for RGB.

    Returns:
        A `PIL.Image.Image` in mode `"L"` or `"RGB"`.

    Example:

    ```python
    with Image.open("scan.png") as image:
        pixels = np.asarray(convert_image(image, 3))
    ```
    """
    if image.mode.startswith("I"):  # 16- or 32-bit integer grayscale
        wide = np.asarray(image, dtype="float64")
        image = Image.fromarray(np.clip(wide / 257, 0, 255).round().astype("uint8"))
    return image.convert("L" if channels == 1 else "RGB")


def decode_image_file(path, image_size, channels):
    """Reads and decodes one image file inside a `tf.data` pipeline.

    Every image is decoded to RGB first, so grayscale, palette, RGBA and GIF
    files all work, then converted to grayscale when `channels` is 1 and
    resized with bilinear interpolation, as `keras.utils.load_img` does.

    Args:
        path: Scalar string tensor, the file path.
        image_size: `(height, width)` to resize to.
        channels: 1 for grayscale, 3 for RGB.

    Returns:
        A float32 tensor `[height, width, channels]` with values in [0, 255].

    Example:

    ```python
    images = paths.map(lambda p: decode_image_file(p, (150, 150), 3))
    ```
    """
    data = tf.io.read_file(path)
    image = tf.image.decode_image(data, channels=3, expand_animations=False)
    if channels == 1:
        image = tf.image.rgb_to_grayscale(image)
    image = tf.image.resize(tf.cast(image, "float32"), tuple(image_size))
    image.set_shape((*image_size, channels))
    return image


def files_dataset(files, image_size, channels, order=None):
    """Returns an unbatched dataset of `(image, label)` read from files.

    Args:
        files: `(path, label)` pairs, as `scan_class_folder` returns.
        image_size: `(height, width)` the images are resized to.
        channels: 1 for grayscale, 3 for RGB.
        order: A dataset of indices into `files` giving the order to read
            them in (e.g. from `epoch_shuffled_indices`), or `None` for the
            order given. Defaults to `None`.

    Returns:
        A `tf.data.Dataset` of `(image, label)`, images float32 in [0, 255].

    Example:

    ```python
    names, files = scan_class_folder("data/train")
    train = files_dataset(files, (150, 150), 3)
    ```
    """
    paths = tf.constant([str(path) for path, _ in files])
    labels = tf.constant([label for _, label in files], dtype=tf.int32)
    if order is None:
        order = tf.data.Dataset.range(len(files))
    return order.map(
        lambda i: (decode_image_file(paths[i], image_size, channels), labels[i]),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
