"""YOLO txt labels: one `class cx cy w h` line per object, relative units."""

from pathlib import Path

import yaml

from keras_recipes.data.annotations.common import (
    check_box,
    check_class_names,
    image_size,
    make_record,
    read_text_file,
    resolve_inside,
)
from keras_recipes.data.image_files import IMAGE_EXTENSIONS
from keras_recipes.errors import DataError


def yolo_class_names(directory):
    """Reads the class names of a YOLO folder from `classes.txt` or `data.yaml`.

    Args:
        directory: The YOLO data folder.

    Returns:
        The list of class names, in id order. A file that is not UTF-8 or
        not valid YAML, or that lists no name, an empty name or one name
        twice, raises `DataError` naming it.

    Example:

    ```python
    yolo_class_names("data/shapes_yolo")  # ['ellipse', 'rectangle', ...]
    ```
    """
    directory = Path(directory)
    text_file = directory / "classes.txt"
    if text_file.is_file():
        lines = read_text_file(text_file).splitlines()
        return check_class_names(
            [line.strip() for line in lines if line.strip()], text_file
        )
    yaml_file = directory / "data.yaml"
    if yaml_file.is_file():
        return check_class_names(_yaml_names(yaml_file), yaml_file)
    raise DataError(
        f"no class names in {directory}: add classes.txt (one name per line) or "
        f"data.yaml with a 'names:' list"
    )


def _yaml_names(yaml_file):
    try:
        data = yaml.safe_load(read_text_file(yaml_file))
    except (yaml.YAMLError, RecursionError) as error:
        problem = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataError(f"{yaml_file}: not valid YAML ({problem})") from None
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, dict):
        if not all(isinstance(k, int) and not isinstance(k, bool) for k in names):
            raise DataError(
                f"{yaml_file}: the keys of 'names' must be class ids 0, 1, ... "
                f"Received: {list(names)!r}"
            )
        if sorted(names) != list(range(len(names))):
            raise DataError(
                f"{yaml_file}: the class ids of 'names' must be 0 to "
                f"{len(names) - 1}. Received: {sorted(names)}"
            )
        return [names[key] for key in sorted(names)]
    if isinstance(names, list):
        return names
    raise DataError(
        f"{yaml_file}: no 'names:' list of class names (e.g. names: [cat, dog])"
    )


def read_yolo_txt(images, labels, class_names, root):
    """Reads images and their YOLO txt label files and checks every box.

    Each image `images/<name>.<ext>` has its labels in `labels/<name>.txt`,
    one line `class_id center_x center_y width height` per object with the
    coordinates relative to the image (0 to 1). An image without a label
    file has no objects; a label file without an image is an error.

    Args:
        images: Folder of the images.
        labels: Folder of the label files.
        class_names: The class names, in id order.
        root: The data folder, which every path must stay inside.

    Returns:
        `(records, class_names)`: a list of `AnnotatedImage` and the class
        names. A box outside the image, a box with zero area, an unknown
        class id, a missing image or a path outside `root` raises
        `DataError` naming the file and the line.

    Example:

    ```python
    records, names = read_yolo_txt("d/images/train", "d/labels/train", names, "d")
    ```
    """
    images = resolve_inside(root, Path(images).resolve(), images, "images folder")
    labels = resolve_inside(root, Path(labels).resolve(), labels, "labels folder")
    if not images.is_dir():
        raise DataError(f"images folder not found: {images}")
    files = sorted(p for p in images.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
    by_stem = {p.stem: p for p in files}
    if labels.is_dir():
        for label_file in sorted(labels.glob("*.txt")):
            if label_file.stem not in by_stem:
                raise DataError(
                    f"{label_file}: image not found: no {label_file.stem}.* in "
                    f"{images}; add the image or remove the label file"
                )
    records = []
    for path in files:
        label_file = labels / f"{path.stem}.txt"
        # Links out of the data folder are refused like `../` paths.
        path = resolve_inside(root, path, label_file, "image")
        label_file = resolve_inside(root, label_file, label_file, "label file")
        width, height = image_size(path, label_file)
        boxes, classes = [], []
        lines = read_text_file(label_file).splitlines() if label_file.is_file() else []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            fields = line.split()
            label = f"line {number}"
            try:
                index = int(fields[0])
                cx, cy, w, h = (float(v) for v in fields[1:5])
            except (ValueError, IndexError):
                raise DataError(
                    f"{label_file}: {label}: expected 'class_id cx cy w h'. "
                    f"Received: '{line.strip()}'"
                ) from None
            if not 0 <= index < len(class_names):
                raise DataError(
                    f"{label_file}: line {number} (class {index}): unknown class "
                    f"id {index} (known: 0 to {len(class_names) - 1}: "
                    f"{', '.join(map(str, class_names))}); fix the id or add the "
                    f"class to classes.txt (or the names in data.yaml)"
                )
            label = f"line {number} (class {index} '{class_names[index]}')"
            box = (
                (cx - w / 2) * width,
                (cy - h / 2) * height,
                (cx + w / 2) * width,
                (cy + h / 2) * height,
            )
            written = f"cx={cx:g} cy={cy:g} w={w:g} h={h:g}"
            boxes.append(check_box(box, width, height, label_file, label, written))
            classes.append(index)
        records.append(make_record(path, width, height, boxes, classes, label_file))
    return records, list(class_names)
