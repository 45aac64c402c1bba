"""What every annotation reader shares: the record and the checks."""

import dataclasses
import os
from pathlib import Path

import numpy as np
from PIL import Image

from keras_recipes.data.image_files import IMAGE_ERRORS
from keras_recipes.errors import DataError

# Annotation tools often round a box edge one pixel past the border; within
# this many pixels it is clipped, beyond it the box is an error.
BORDER_TOLERANCE = 1.0


@dataclasses.dataclass
class AnnotatedImage:
    """One image file and its boxes.

    Attributes:
        path: The image file.
        width: Image width in pixels.
        height: Image height in pixels.
        boxes: Float32 array `[N, 4]` of `"xyxy"` boxes in image pixels.
        classes: Int32 array `[N]` of class ids.
        source: The annotation file the boxes come from.
    """

    path: Path
    width: int
    height: int
    boxes: np.ndarray
    classes: np.ndarray
    source: Path


def resolve_inside(root, relative, source, what):
    """Returns `root / relative`, refusing paths that leave the data folder.

    Args:
        root: The data folder.
        relative: The path written in the annotation.
        source: The annotation file, for the message.
        what: What the path names, for the message (e.g. `"image"`).

    Returns:
        The resolved `Path`. Symbolic links are followed, so a link to a
        file elsewhere is refused like a `../` path.

    Example:

    ```python
    resolve_inside("data", "JPEGImages/1.jpg", "data/Annotations/1.xml", "image")
    ```
    """
    given = Path(root)
    root = given.resolve()
    try:
        path = (root / str(relative)).resolve()
    except (OSError, ValueError) as error:  # a NUL byte, a symlink loop
        raise DataError(
            f"{source}: {what} path '{relative}' is not a usable path ({error})"
        ) from None
    if not path.is_relative_to(root):
        written = Path(os.path.normpath(given / str(relative)))
        if written.is_relative_to(given) or written.is_relative_to(root):
            raise DataError(
                f"{source}: {what} path '{relative}' is a link to {path}, outside "
                f"the data folder {root}; copy the file into the folder instead"
            )
        raise DataError(
            f"{source}: {what} path '{relative}' points outside the data folder "
            f"{root}; keep images inside it and use relative paths"
        )
    return path


def image_size(path, source):
    """Returns `(width, height)` of an image file, or raises `DataError`.

    Args:
        path: The image file.
        source: The annotation file that names it, for the message.

    Returns:
        `(width, height)` in pixels.

    Example:

    ```python
    width, height = image_size("data/JPEGImages/1.jpg", "data/Annotations/1.xml")
    ```
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"{source}: image not found: {path}; add the image or remove its annotation"
        )
    try:
        with Image.open(path) as image:
            return image.size
    except IMAGE_ERRORS as error:
        raise DataError(f"{source}: cannot read image {path}: {error}") from None


def read_text_file(path, source=None):
    """Returns the text of a UTF-8 file, or raises `DataError` naming it.

    Args:
        path: The file.
        source: What names the file, for the message. Defaults to `None`,
            which shows `path`.

    Returns:
        The text, as a `str`.

    Example:

    ```python
    read_text_file("data/labels/train/1.txt")
    ```
    """
    try:
        return Path(path).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(
            f"{source or path}: not UTF-8 text ({error.reason} at byte "
            f"{error.start}); save it as UTF-8"
        ) from None
    except OSError as error:
        raise DataError(f"{source or path}: cannot read it ({error})") from None


def check_class_names(names, source):
    """Returns class names as strings, refusing empty or repeated ones.

    Args:
        names: The names as read from a file (strings or numbers).
        source: The file they come from, for the message.

    Returns:
        The list of names as `str`, in the order given.

    Example:

    ```python
    check_class_names(["cat", "dog"], "data/classes.txt")
    ```
    """
    checked = []
    for name in names:
        if isinstance(name, bool) or not isinstance(name, (str, int, float)):
            raise DataError(f"{source}: a class name must be text. Received: {name!r}")
        text = str(name)
        if not text.strip():
            raise DataError(f"{source}: a class name is empty")
        if text in checked:
            raise DataError(
                f"{source}: class name '{text}' is listed twice; class names "
                f"must be unique"
            )
        checked.append(text)
    if not checked:
        raise DataError(f"{source}: no class names in it")
    return checked


def check_box(box, width, height, source, label, written=None):
    """Returns a box clipped to the image, or raises `DataError` naming it.

    A box more than one pixel outside the image, a box with zero or negative
    area and a box with a non-finite coordinate are errors.

    Args:
        box: `(x1, y1, x2, y2)` in pixels.
        width: Image width in pixels.
        height: Image height in pixels.
        source: The annotation file, for the message.
        label: Names the object in the message, e.g. `"object 2 ('dog')"`.
        written: The box as the annotation file writes it, for the message.
            Defaults to `None`, which shows `box`.

    Returns:
        The box as a list of 4 floats, clipped to `[0, width] x [0, height]`.

    Example:

    ```python
    check_box((10, 10, 50, 40), 64, 64, "a.xml", "object 1 ('cat')")
    ```
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    shown = written or f"[{x1:g}, {y1:g}, {x2:g}, {y2:g}]"
    if not np.all(np.isfinite([x1, y1, x2, y2])):
        raise DataError(f"{source}: {label}: box {shown} has a non-finite coordinate")
    margin = BORDER_TOLERANCE
    if x1 < -margin or y1 < -margin or x2 > width + margin or y2 > height + margin:
        raise DataError(
            f"{source}: {label}: box {shown} lies outside the {width}x{height} "
            f"image; fix its coordinates or remove the object"
        )
    x1, x2 = min(max(x1, 0.0), width), min(max(x2, 0.0), width)
    y1, y2 = min(max(y1, 0.0), height), min(max(y2, 0.0), height)
    if x2 <= x1 or y2 <= y1:
        raise DataError(
            f"{source}: {label}: box {shown} has zero area (right edge must be "
            f"right of the left, bottom below the top); fix or remove the object"
        )
    return [x1, y1, x2, y2]


def class_id(name, class_names, source, label):
    """Returns the index of a class name, or raises `DataError` naming it.

    Args:
        name: The class name in the annotation.
        class_names: The known class names.
        source: The annotation file, for the message.
        label: Names the object in the message.

    Returns:
        The int index of `name` in `class_names`.

    Example:

    ```python
    class_id("dog", ["cat", "dog"], "a.xml", "object 1")  # 1
    ```
    """
    try:
        return list(class_names).index(name)
    except ValueError:
        raise DataError(
            f"{source}: {label}: unknown class '{name}' (known: "
            f"{', '.join(map(str, class_names))}); fix the name or add the class "
            f"to data.class_names"
        ) from None


def make_record(path, width, height, boxes, classes, source):
    """Builds an `AnnotatedImage` with arrays of the right shapes and types.

    Args:
        path: The image file.
        width: Image width.
        height: Image height.
        boxes: List of checked `[x1, y1, x2, y2]` boxes.
        classes: List of class ids.
        source: The annotation file.

    Returns:
        An `AnnotatedImage`.

    Example:

    ```python
    make_record("a.jpg", 64, 48, [[1, 2, 30, 40]], [0], "a.xml")
    ```
    """
    return AnnotatedImage(
        path=Path(path),
        width=int(width),
        height=int(height),
        boxes=np.array(boxes, "float32").reshape(-1, 4),
        classes=np.array(classes, "int32").reshape(-1),
        source=Path(source),
    )
