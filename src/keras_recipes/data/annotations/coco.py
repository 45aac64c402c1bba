"""COCO-style JSON: `images`, `annotations` and `categories` in one file."""

import json
from pathlib import Path

from keras_recipes.data.annotations.common import (
    check_box,
    class_id,
    image_size,
    make_record,
    resolve_inside,
)
from keras_recipes.errors import DataError


def _load(json_path):
    try:
        data = json.loads(Path(json_path).read_text())
    except FileNotFoundError:
        raise DataError(f"COCO annotation file not found: {json_path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(f"{json_path}: not valid JSON ({error})") from None
    if not isinstance(data, dict) or "images" not in data:
        raise DataError(f"{json_path}: not a COCO file (no 'images' list)")
    return data


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
    categories = {}
    for category in data.get("categories", []):
        categories[category.get("id")] = str(category.get("name"))
    if class_names:
        class_names = list(class_names)
    else:
        class_names = [categories[key] for key in sorted(categories)]
    by_image = {}
    for index, annotation in enumerate(data.get("annotations", [])):
        by_image.setdefault(annotation.get("image_id"), []).append((index, annotation))
    records = []
    for image in data["images"]:
        file_name = image.get("file_name")
        if not file_name:
            raise DataError(f"{json_path}: image id {image.get('id')} has no file_name")
        path = resolve_inside(root, file_name, json_path, "image")
        width, height = image_size(path, json_path)
        written = (image.get("width"), image.get("height"))
        if all(written) and tuple(written) != (width, height):
            raise DataError(
                f"{json_path}: image '{file_name}' is listed as {written[0]}x"
                f"{written[1]} but the file is {width}x{height}; fix the JSON"
            )
        boxes, classes = [], []
        for index, annotation in by_image.pop(image.get("id"), []):
            if annotation.get("iscrowd"):
                continue
            category = annotation.get("category_id")
            name = categories.get(category, f"category_id {category}")
            label = f"annotation {index} (id {annotation.get('id')}, '{name}')"
            bbox = annotation.get("bbox")
            if not isinstance(bbox, list) or len(bbox) != 4:
                raise DataError(f"{json_path}: {label}: bbox must be [x, y, w, h]")
            x, y, w, h = (float(v) for v in bbox)
            classes.append(class_id(name, class_names, json_path, label))
            boxes.append(
                check_box((x, y, x + w, y + h), width, height, json_path, label)
            )
        records.append(make_record(path, width, height, boxes, classes, json_path))
    for image_id, annotations in by_image.items():
        index = annotations[0][0]
        raise DataError(
            f"{json_path}: annotation {index}: image_id {image_id} is not in 'images' "
            f"(missing image); add the image or remove the annotation"
        )
    return records, class_names
