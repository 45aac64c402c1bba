"""COCO-style JSON: `images`, `annotations` and `categories` in one file."""

import json
import math
from pathlib import Path

from keras_recipes.data.annotations.common import (
    check_box,
    check_class_names,
    class_id,
    image_size,
    make_record,
    read_text_file,
    resolve_inside,
)
from keras_recipes.errors import DataError


def _load(json_path):
    if not Path(json_path).is_file():
        raise DataError(f"COCO annotation file not found: {json_path}")
    text = read_text_file(json_path)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:  # ValueError: JSON, huge ints
        problem = str(error).splitlines()[0] if str(error) else "nested too deep"
        raise DataError(f"{json_path}: not valid JSON ({problem})") from None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise DataError(f"{json_path}: not a COCO file (no 'images' list)")
    return data


def _shown(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _entries(data, key, json_path):
    """Returns the list of objects under `key` (none when it is missing)."""
    entries = data.get(key, [])
    if not isinstance(entries, list):
        raise DataError(
            f"{json_path}: '{key}' must be a list of objects. Received: "
            f"{_shown(entries)}"
        )
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise DataError(
                f"{json_path}: {key}[{index}] must be an object with keys. "
                f"Received: {_shown(entry)}"
            )
    return entries


def _identifier(entry, key, json_path, where):
    """Returns `entry[key]`, an id that is a number or a string (or missing)."""
    value = entry.get(key)
    if isinstance(value, (list, dict)):
        raise DataError(
            f"{json_path}: {where}: '{key}' must be a number or a string. "
            f"Received: {_shown(value)}"
        )
    return value


def _categories(data, json_path):
    """Returns `{id: name}` of the `categories` list."""
    categories = {}
    for index, category in enumerate(_entries(data, "categories", json_path)):
        where = f"categories[{index}]"
        key = category.get("id")
        if isinstance(key, bool) or not isinstance(key, (int, str)):
            raise DataError(
                f"{json_path}: {where}: 'id' must be an integer or a string. "
                f"Received: {_shown(key)}"
            )
        if key in categories:
            raise DataError(f"{json_path}: {where}: category id {key!r} is repeated")
        # Refuses a missing, empty or repeated name.
        *_, name = check_class_names(
            [*categories.values(), category.get("name")], json_path
        )
        categories[key] = name
    return categories


def _box(annotation, json_path, label):
    bbox = annotation.get("bbox")
    if (
        not isinstance(bbox, list)
        or len(bbox) != 4
        or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in bbox
        )
    ):
        raise DataError(
            f"{json_path}: {label}: bbox must be [x, y, w, h] numbers. "
            f"Received: {_shown(bbox)}"
        )
    try:
        x, y, w, h = (float(v) for v in bbox)
    except OverflowError:  # an integer too large for a float
        x = y = w = h = math.inf
    return x, y, x + w, y + h


def read_coco(json_path, root, class_names=None):
    """Reads a COCO JSON annotation file and checks every box.

    Each `images` entry gives `id`, `file_name` (relative to `root`), `width`
    and `height`; each `annotations` entry gives `image_id`, `category_id`
    and `bbox` as `[x, y, width, height]` in pixels; `categories` map ids to
    names. Crowd annotations (`iscrowd: 1`) are skipped. Images without
    annotations are kept, with no boxes.

    Args:
        json_path: The JSON file.
        root: The data folder; image paths are relative to it and must stay
            inside it.
        class_names: The classes, in id order. Defaults to `None`, which
            takes the category names in the order of their ids.

    Returns:
        `(records, class_names)`: a list of `AnnotatedImage` and the list of
        class names. A box outside the image, a box with zero area, an
        unknown category, a missing image or a path that leaves the folder
        raises `DataError` naming the file and the annotation.

    Example:

    ```python
    records, names = read_coco("data/annotations/train.json", "data/images")
    ```
    """
    json_path = Path(json_path)
    data = _load(json_path)
    categories = _categories(data, json_path)
    if class_names:
        class_names = list(class_names)
    else:
        # Integer ids first, in order, then any string ids.
        order = sorted(categories, key=lambda key: (isinstance(key, str), key))
        class_names = [categories[key] for key in order]
    by_image = {}
    for index, annotation in enumerate(_entries(data, "annotations", json_path)):
        image_id = _identifier(annotation, "image_id", json_path, f"annotation {index}")
        _identifier(annotation, "category_id", json_path, f"annotation {index}")
        by_image.setdefault(image_id, []).append((index, annotation))
    records = []
    for number, image in enumerate(_entries(data, "images", json_path)):
        image_id = _identifier(image, "id", json_path, f"images[{number}]")
        file_name = image.get("file_name")
        if not file_name or not isinstance(file_name, str):
            raise DataError(
                f"{json_path}: images[{number}] (id {image_id!r}) needs a "
                f"'file_name' string. Received: {_shown(file_name)}"
            )
        path = resolve_inside(root, file_name, json_path, "image")
        width, height = image_size(path, json_path)
        written = (image.get("width"), image.get("height"))
        if all(written) and tuple(written) != (width, height):
            raise DataError(
                f"{json_path}: image '{file_name}' is listed as {_shown(written[0])}x"
                f"{_shown(written[1])} but the file is {width}x{height}; fix the JSON"
            )
        boxes, classes = [], []
        for index, annotation in by_image.pop(image_id, []):
            if annotation.get("iscrowd"):
                continue
            category = annotation.get("category_id")
            name = categories.get(category, f"category_id {category}")
            label = f"annotation {index} (id {_shown(annotation.get('id'))}, '{name}')"
            box = _box(annotation, json_path, label)
            classes.append(class_id(name, class_names, json_path, label))
            boxes.append(check_box(box, width, height, json_path, label))
        records.append(make_record(path, width, height, boxes, classes, json_path))
    for image_id, annotations in by_image.items():
        index = annotations[0][0]
        raise DataError(
            f"{json_path}: annotation {index}: image_id {image_id} is not in 'images' "
            f"(missing image); add the image or remove the annotation"
        )
    return records, class_names
