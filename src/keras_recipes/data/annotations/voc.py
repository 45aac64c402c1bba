"""Pascal VOC folders: `Annotations/*.xml`, `JPEGImages/`, `ImageSets/Main/`."""

import xml.etree.ElementTree as ElementTree
from pathlib import Path

from keras_recipes.data.annotations.common import (
    check_box,
    class_id,
    image_size,
    make_record,
    read_text_file,
    resolve_inside,
)
from keras_recipes.errors import DataError


def voc_splits(directory):
    """Returns the split names listed in `ImageSets/Main/` of a VOC folder.

    Args:
        directory: The VOC folder.

    Returns:
        A sorted list such as `["test", "train", "val"]`; empty when there is
        no `ImageSets/Main/` (then every annotation is in `"train"`).

    Example:

    ```python
    voc_splits("VOCdevkit/VOC2007")
    ```
    """
    folder = Path(directory) / "ImageSets" / "Main"
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.txt") if "_" not in p.stem)


def _parse(path):
    try:
        return ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        raise DataError(f"{path}: not valid XML ({error})") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read it ({error})") from None


def _text(element, tag, source, label):
    child = element.find(tag)
    if child is None or child.text is None or not child.text.strip():
        raise DataError(f"{source}: {label}: missing <{tag}>")
    return child.text.strip()


def _number(element, tag, source, label):
    text = _text(element, tag, source, label)
    try:
        return float(text)
    except ValueError:
        raise DataError(
            f"{source}: {label}: <{tag}> is not a number: '{text}'"
        ) from None


def _size_number(written, source):
    try:
        return float(written[0]), float(written[1])
    except ValueError:
        raise DataError(
            f"{source}: <size> is not a number: width '{written[0]}', height "
            f"'{written[1]}'"
        ) from None


def voc_class_names(directory):
    """Returns the sorted class names used anywhere in `Annotations/`.

    Args:
        directory: The VOC folder.

    Returns:
        A sorted list of names.

    Example:

    ```python
    voc_class_names("VOCdevkit/VOC2007")  # ['aeroplane', 'bicycle', ...]
    ```
    """
    names = set()
    folder = Path(directory) / "Annotations"
    for path in sorted(folder.glob("*.xml")):
        relative = path.relative_to(directory)
        path = resolve_inside(directory, relative, folder, "annotation")
        for index, element in enumerate(_parse(path).iter("object"), start=1):
            names.add(_text(element, "name", path, f"object {index}"))
    return sorted(names)


def read_voc(directory, split="train", class_names=None):
    """Reads one split of a Pascal VOC folder and checks every box.

    The layout is VOC's own: `Annotations/<id>.xml`, the images in
    `JPEGImages/`, and the ids of each split in
    `ImageSets/Main/{train,val,test}.txt`. Without `ImageSets/Main/`, the
    `"train"` split is every annotation. VOC pixel coordinates start at 1,
    so a box is read as `[xmin - 1, ymin - 1, xmax, ymax]`. "difficult"
    objects are read like the others.

    Args:
        directory: The VOC folder.
        split: `"train"`, `"val"`, `"test"` or any list in `ImageSets/Main`.
            Defaults to `"train"`.
        class_names: The classes, in id order. Defaults to `None`, which
            takes the sorted names used in `Annotations/`.

    Returns:
        `(records, class_names)`: a list of `AnnotatedImage` and the list of
        class names. A box outside the image, a box with zero area, an
        unknown class, a missing image or an image path that leaves the
        folder raises `DataError` naming the file and the object.

    Example:

    ```python
    records, names = read_voc("VOCdevkit/VOC2007", "train")
    ```
    """
    directory = Path(directory)
    annotations = directory / "Annotations"
    if not annotations.is_dir():
        raise DataError(
            f"not a Pascal VOC folder (no Annotations/): {directory}; check "
            f"data.directory and data.format"
        )
    class_names = list(class_names) if class_names else voc_class_names(directory)
    split_file = directory / "ImageSets" / "Main" / f"{split}.txt"
    if split_file.is_file():
        ids = [
            line.split()[0]
            for line in read_text_file(split_file).splitlines()
            if line.strip()
        ]
        source = split_file
        files = [Path("Annotations") / f"{i}.xml" for i in ids]
    elif split == "train" and not voc_splits(directory):
        source = annotations
        files = [p.relative_to(directory) for p in sorted(annotations.glob("*.xml"))]
    else:
        raise DataError(f"no split list {split_file} in the VOC folder {directory}")
    records = []
    for file in files:
        path = resolve_inside(directory, file, source, "annotation")
        if not path.is_file():
            raise DataError(f"{source}: annotation not found: {path}")
        records.append(_read_file(path, directory, class_names))
    return records, class_names


def _read_file(path, directory, class_names):
    root = _parse(path)
    filename = root.findtext("filename") or f"{path.stem}.jpg"
    image_path = resolve_inside(
        directory, Path("JPEGImages") / filename.strip(), path, "image"
    )
    width, height = image_size(image_path, path)
    size = root.find("size")
    if size is not None:
        written = (size.findtext("width"), size.findtext("height"))
        if all(written) and _size_number(written, path) not in (
            (0.0, 0.0),
            (float(width), float(height)),
        ):
            raise DataError(
                f"{path}: <size> says {written[0]}x{written[1]} but {image_path.name} "
                f"is {width}x{height}; fix <size> or the image"
            )
    boxes, classes = [], []
    for index, element in enumerate(root.iter("object"), start=1):
        name = _text(element, "name", path, f"object {index}")
        label = f"object {index} ('{name}')"
        box = element.find("bndbox")
        if box is None:
            raise DataError(f"{path}: {label}: missing <bndbox>")
        xmin, ymin, xmax, ymax = (
            _number(box, tag, path, label) for tag in ("xmin", "ymin", "xmax", "ymax")
        )
        classes.append(class_id(name, class_names, path, label))
        boxes.append(
            check_box((xmin - 1, ymin - 1, xmax, ymax), width, height, path, label)
        )
    return make_record(image_path, width, height, boxes, classes, path)


def write_voc(directory, split, images, annotations, class_names, first_id=0):
    """Writes images and boxes as a Pascal VOC folder (JPEGs and XML files).

    Appends the new ids to `ImageSets/Main/<split>.txt`, so calling it once
    per split builds the whole layout that `read_voc` reads. Boxes are
    written in VOC's 1-based pixel coordinates.

    Args:
        directory: The VOC folder; created if needed.
        split: The split list to append to, e.g. `"train"`.
        images: uint8 array `[N, height, width, 3]` (or a list of arrays).
        annotations: One dict per image with `"boxes"` (`"xyxy"` pixels)
            and `"classes"`.
        class_names: Names of the class ids.
        first_id: Number of the first image; ids are 6-digit numbers.
            Defaults to `0`.

    Returns:
        The list of ids written.

    Example:

    ```python
    write_voc("data/shapes_voc", "train", x_train, y_train, class_names)
    ```
    """
    from PIL import Image

    directory = Path(directory)
    for folder in ("Annotations", "JPEGImages", "ImageSets/Main"):
        (directory / folder).mkdir(parents=True, exist_ok=True)
    ids = []
    for offset, (image, annotation) in enumerate(zip(images, annotations, strict=True)):
        image_id = f"{first_id + offset:06d}"
        height, width = image.shape[:2]
        Image.fromarray(image).save(
            directory / "JPEGImages" / f"{image_id}.jpg", quality=95
        )
        root = ElementTree.Element("annotation")
        ElementTree.SubElement(root, "filename").text = f"{image_id}.jpg"
        size = ElementTree.SubElement(root, "size")
        for tag, value in (("width", width), ("height", height), ("depth", 3)):
            ElementTree.SubElement(size, tag).text = str(value)
        for box, label in zip(annotation["boxes"], annotation["classes"], strict=True):
            element = ElementTree.SubElement(root, "object")
            ElementTree.SubElement(element, "name").text = class_names[int(label)]
            ElementTree.SubElement(element, "difficult").text = "0"
            bndbox = ElementTree.SubElement(element, "bndbox")
            x1, y1, x2, y2 = (float(v) for v in box)
            for tag, value in (
                ("xmin", x1 + 1),
                ("ymin", y1 + 1),
                ("xmax", x2),
                ("ymax", y2),
            ):
                ElementTree.SubElement(bndbox, tag).text = f"{value:.1f}"
        ElementTree.indent(root)
        ElementTree.ElementTree(root).write(
            directory / "Annotations" / f"{image_id}.xml"
        )
        ids.append(image_id)
    with (directory / "ImageSets" / "Main" / f"{split}.txt").open("a") as file:
        file.writelines(f"{i}\n" for i in ids)
    return ids
