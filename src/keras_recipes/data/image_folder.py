"""Image folders with one subfolder per class, checked before use."""

import dataclasses
import os
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image

from keras_recipes.errors import DataError
from keras_recipes.saving import write_text_atomic

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
# What Pillow reports for the files `tf.io.decode_image` reads too (MPO is the
# multi-picture JPEG some cameras write).
IMAGE_FORMATS = ("BMP", "GIF", "JPEG", "MPO", "PNG")
# Pillow raises any of these for a damaged or disguised file.
IMAGE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    TypeError,
    IndexError,
    EOFError,
    struct.error,
    Image.DecompressionBombError,
)
SPLITS = ("train", "validation", "test")
# What operating systems and archivers leave in folders; never a user's data.
SYSTEM_FILES = ("thumbs.db", "ehthumbs.db", "desktop.ini", "__macosx")
SKIPPED_FILE = "skipped_files.txt"


@dataclasses.dataclass
class SkippedFiles:
    """The files a folder scan left out, for the run to report.

    Hidden and system files (`.DS_Store`, `Thumbs.db`, ...) are always left
    out. A file that is not a readable image stops the scan, unless
    `skip_bad` is set: then it is left out too and kept here with the
    reason.

    Attributes:
        skip_bad: Leave out unreadable files instead of stopping.
        hidden: `Path`s of the hidden and system files left out.
        bad: `(path, reason)` pairs of the unreadable files left out.

    Example:

    ```python
    skipped = SkippedFiles(skip_bad=True)
    names, files = scan_class_folder("data/train", skipped=skipped)
    print(skipped.summary())
    ```
    """

    skip_bad: bool = False
    hidden: list = dataclasses.field(default_factory=list)
    bad: list = dataclasses.field(default_factory=list)

    def summary(self):
        """Returns one line per kind of file left out (none: an empty list).

        Returns:
            A list of strings.

        Example:

        ```python
        for line in skipped.summary():
            print(line)
        ```
        """
        lines = []
        if self.hidden:
            names = sorted({path.name for path in self.hidden})
            shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
            lines.append(
                f"skipped {len(self.hidden)} hidden or system file(s) in the "
                f"data folder ({shown})"
            )
        if self.bad:
            lines.append(
                f"skipped {len(self.bad)} unreadable file(s) (data.skip_bad_files); "
                f"listed in {SKIPPED_FILE}"
            )
        return lines

    def report(self, run_dir):
        """Prints the summary; lists the bad files in `run_dir/skipped_files.txt`.

        Args:
            run_dir: The run directory.

        Returns:
            `None`.

        Example:

        ```python
        data.skipped_files.report(recipe.run_dir)
        ```
        """
        for line in self.summary():
            print(line, flush=True)
        if self.bad:
            listing = "".join(f"{path}\t{reason}\n" for path, reason in self.bad)
            write_text_atomic(Path(run_dir) / SKIPPED_FILE, listing)

    def check(self, path):
        """Returns whether `path` is an image to use, recording it otherwise.

        Args:
            path: A file found in the data folder.

        Returns:
            `True` for a readable image; `False` for a bad file when
            `skip_bad` is set. Otherwise a bad file raises `DataError`.

        Example:

        ```python
        files = [p for p in candidates if skipped.check(p)]
        ```
        """
        return self.admit(path, image_problems([path], threads=1)[0])

    def admit(self, path, problem):
        """Returns whether a checked file is used, recording it otherwise.

        Args:
            path: A file found in the data folder.
            problem: What checking it found: `None` for a readable image,
                else the `DataError` (as `image_problems` gives them).

        Returns:
            `True` for a readable image; `False` for a bad file when
            `skip_bad` is set. Otherwise a bad file raises `DataError`.

        Example:

        ```python
        kept = [p for p, e in zip(paths, image_problems(paths)) if skipped.admit(p, e)]
        ```
        """
        if problem is None:
            return True
        if not self.skip_bad:
            raise DataError(
                f"{problem}; or set data.skip_bad_files=true to skip such files"
            ) from None
        self.bad.append((path, str(problem)))
        return False


def image_problems(paths, threads=None):
    """Checks image files in parallel; returns each one's `DataError` or `None`.

    Pillow decodes outside Python's lock, so threads check files side by
    side.

    Args:
        paths: Image files.
        threads: Files checked at once. Defaults to `None`: one per core.

    Returns:
        A list, in the order of `paths`, of `None` (a readable image) or the
        `DataError` that `check_image` raised.

    Example:

    ```python
    problems = image_problems(sorted(Path("data/cat").glob("*.jpg")))
    ```
    """

    def problem(path):
        try:
            check_image(path)
        except DataError as error:
            return error
        return None

    threads = threads or os.cpu_count() or 1
    if threads == 1 or len(paths) < 2:
        return [problem(path) for path in paths]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(problem, paths))


def is_hidden_or_system(path, root):
    """Returns whether a file under `root` is hidden or a system file.

    Hidden means its name, or a folder's between `root` and it, starts with
    a dot; system files are those of `SYSTEM_FILES` (and what they hold).

    Args:
        path: A path inside `root`.
        root: The data folder searched.

    Returns:
        A `bool`.

    Example:

    ```python
    is_hidden_or_system(Path("data/cat/.DS_Store"), Path("data"))  # True
    ```
    """
    parts = Path(path).relative_to(root).parts
    return any(p.startswith(".") or p.lower() in SYSTEM_FILES for p in parts)


def list_folder_images(folder, skipped=None):
    """Lists a folder's images at any depth, sorted, hidden files left out.

    Args:
        folder: The folder to search.
        skipped: A `SkippedFiles` that records what is left out and says
            whether unreadable files stop the scan. Defaults to `None`: a
            fresh one that stops at the first unreadable file.

    Returns:
        A sorted list of `Path`s of readable images.

    Example:

    ```python
    files = list_folder_images("data/train/cat")
    ```
    """
    skipped = SkippedFiles() if skipped is None else skipped
    folder = Path(folder)
    candidates = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if is_hidden_or_system(path, folder):
            skipped.hidden.append(path)
        else:
            candidates.append(path)
    problems = image_problems(candidates)
    return [
        path
        for path, problem in zip(candidates, problems, strict=True)
        if skipped.admit(path, problem)
    ]


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


def check_image(path, remedy="move it out of the data folder"):
    """Raises `DataError` unless `path` is an image file that decodes.

    Args:
        path: The file.
        remedy: What the message of a file that is not an image advises.
            Defaults to `"move it out of the data folder"`.

    Returns:
        `None`.

    Example:

    ```python
    check_image("data/cats/cat.1.jpg")
    ```
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"image file not found: {path}")
    if path.is_dir():
        raise DataError(f"not an image file but a folder: {path}")
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        raise DataError(
            f"not an image file: {path} (expected {', '.join(IMAGE_EXTENSIONS)}; "
            f"{remedy})"
        )
    try:
        with Image.open(path) as image:
            image.load()
            found = image.format
    except IMAGE_ERRORS as error:
        raise DataError(
            f"cannot read image {path}: {error} (replace or remove the file)"
        ) from None
    if found not in IMAGE_FORMATS:
        raise DataError(
            f"cannot read image {path}: it holds {found} data, not "
            f"{path.suffix[1:].upper()}; convert it to PNG or JPEG"
        )


def find_image_files(paths):
    """Expands image files and folders into the image files to predict.

    Folders are searched at any depth and their image files (by extension,
    hidden files aside) taken in sorted order; other files in them are
    skipped. A path that is named directly must be a readable image.

    Args:
        paths: Image files and folders.

    Returns:
        A list of `Path`s, in the order given.

    Example:

    ```python
    find_image_files(["photos/", "extra.jpg"])
    ```
    """
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.suffix.lower() in IMAGE_EXTENSIONS
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                raise DataError(
                    f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in folder {path}"
                )
            files.extend(found)
        elif path.exists():
            check_image(path, remedy="give image files or folders of them")
            files.append(path)
        else:
            raise DataError(f"no such image file or folder: {path}")
    return files


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
