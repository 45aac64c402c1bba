"""YOLO txt labels: one `class cx cy w h` line per object, relative units."""

from pathlib import Path

import yaml

from keras_recipes.data.annotations.common import (
    check_box,
    class_id,
    image_size,
    make_record,
    resolve_inside,
)
from keras_recipes.data.image_folder import IMAGE_EXTENSIONS
from keras_recipes.errors import DataError


def yolo_class_names(directory):
    """Reads the class names of a YOLO folder from `classes.txt` or `data.yaml`.

    Args:
        directory: The YOLO data folder.

    Returns:
        The list of class names, in id order.

    Example:

    ```python
    yolo_class_names("data/shapes_yolo")  # ['ellipse', 'rectangle', ...]
    ```
    """
    directory = Path(directory)
    text_file = directory / "classes.txt"
    if text_file.is_file():
        return [
            line.strip() for line in text_file.read_text().splitlines() if line.strip()
        ]
    yaml_file = directory / "data.yaml"
    if yaml_file.is_file():
        names = (yaml.safe_load(yaml_file.read_text()) or {}).get("names")
        if isinstance(names, dict):
            return [str(names[key]) for key in sorted(names)]
        if isinstance(names, list):
            return [str(name) for name in names]
    raise DataError(
        f"no class names in {directory}: add classes.txt (one name per line) or "
        f"data.yaml with a 'names:' list"
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
        width, height = image_size(path, label_file)
        boxes, classes = [], []
        lines = label_file.read_text().splitlines() if label_file.is_file() else []
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
            name = class_names[index] if 0 <= index < len(class_names) else index
            label = f"line {number} (class {index} '{name}')"
            if not 0 <= index < len(class_names):
                class_id(f"id {index}", class_names, label_file, label)
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
