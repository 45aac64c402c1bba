"""Fuzzing the annotation readers: a faithful result or one clear `DataError`.

Every reader is fed random bytes and random documents of its own shape
(anything else it raises is a bug), and random valid documents, which it must
read back exactly as written.
"""

import contextlib
import io
import json
import os
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from keras_recipes.data.annotations import (
    find_annotation_splits,
    read_annotations,
    read_coco,
    read_voc,
    read_yolo_txt,
    voc_class_names,
    yolo_class_names,
)
from keras_recipes.data.annotations.common import image_size
from keras_recipes.data.image_files import check_image
from keras_recipes.errors import DataError

# Few examples each: every one writes and reads files.
FUZZ = settings(max_examples=120, deadline=None)
ROUND_TRIP = settings(max_examples=60, deadline=None)
BAD = settings(max_examples=40, deadline=None)

IMAGE_SIZE = (16, 12)  # width, height of the image the fuzzed files annotate


@contextlib.contextmanager
def _folder():
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def _write_image(path, width=IMAGE_SIZE[0], height=IMAGE_SIZE[1]):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (width, height), (90, 120, 150)).save(path)
    return path


def _write_bytes(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _read_or_clean_error(read, file_name):
    """Calls `read()`; a `DataError` must be one line naming `file_name`."""
    try:
        return read()
    except DataError as error:
        message = str(error)
        assert "\n" not in message, message
        assert file_name in message, message
        return None


def _check_records(result):
    """A successful read gives boxes inside their images with known classes."""
    records, class_names = result
    for record in records:
        assert record.boxes.shape == (len(record.classes), 4)
        assert np.all(np.isfinite(record.boxes))
        x1, y1, x2, y2 = record.boxes.T
        assert np.all((0 <= x1) & (x1 < x2) & (x2 <= record.width))
        assert np.all((0 <= y1) & (y1 < y2) & (y2 <= record.height))
        assert np.all((0 <= record.classes) & (record.classes < len(class_names)))


# Random text of the readers' own vocabulary reaches further than random bytes.
VOC_TAGS = [
    "annotation",
    "filename",
    "size",
    "width",
    "height",
    "depth",
    "object",
    "name",
    "bndbox",
    "xmin",
    "ymin",
    "xmax",
    "ymax",
    "difficult",
]
number_texts = st.one_of(
    st.integers(-20, 40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "1e999", "-0", "1_0", "0x10", "٣", "12abc"]),
)
xml_texts = st.one_of(
    number_texts,
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8),
    st.sampled_from(["a.jpg", "../a.jpg", "/etc/hostname", "cat", "dog"]),
)
xml_trees = st.recursive(
    st.tuples(st.sampled_from(VOC_TAGS), xml_texts, st.just([])),
    lambda children: st.tuples(
        st.sampled_from(VOC_TAGS), xml_texts, st.lists(children, max_size=5)
    ),
    max_leaves=25,
)


def _xml(tree, parent=None):
    tag, text, children = tree
    element = (
        ElementTree.Element(tag)
        if parent is None
        else ElementTree.SubElement(parent, tag)
    )
    element.text = text
    for child in children:
        _xml(child, element)
    return element


def _voc_folder(root, annotation):
    _write_bytes(root / "Annotations" / "a.xml", annotation)
    _write_image(root / "JPEGImages" / "a.jpg")
    return root


@FUZZ
@given(st.binary(max_size=300))
def test_voc_reader_on_random_bytes(data):
    with _folder() as root:
        _voc_folder(root, data)
        result = _read_or_clean_error(lambda: read_voc(root), "a.xml")
        if result is not None:
            _check_records(result)


@FUZZ
@given(xml_trees)
def test_voc_reader_on_random_documents(tree):
    with _folder() as root:
        _voc_folder(root, ElementTree.tostring(_xml(tree), encoding="utf-8"))
        result = _read_or_clean_error(lambda: read_voc(root), "a.xml")
        if result is not None:
            _check_records(result)
            assert voc_class_names(root) == result[1]


@FUZZ
@given(st.binary(max_size=100))
def test_voc_split_list_of_random_bytes(data):
    with _folder() as root:
        _voc_folder(root, b"<annotation><filename>a.jpg</filename></annotation>")
        _write_bytes(root / "ImageSets" / "Main" / "train.txt", data)
        assert find_annotation_splits(root, "voc") == ["train"]
        result = _read_or_clean_error(lambda: read_voc(root, "train"), "train.txt")
        if result is not None:
            records, _ = result
            # Only a.xml exists: any other id listed is an error.
            assert {record.source.name for record in records} <= {"a.xml"}


COCO_KEYS = [
    "images",
    "annotations",
    "categories",
    "id",
    "file_name",
    "width",
    "height",
    "image_id",
    "category_id",
    "bbox",
    "iscrowd",
    "name",
]
json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 20),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.sampled_from(["img.png", "missing.png", "../img.png", "/etc/hostname", ""]),
)
json_values = st.recursive(
    json_leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.sampled_from(COCO_KEYS), children, max_size=6),
    ),
    max_leaves=20,
)
coco_like = st.fixed_dictionaries(
    {
        "images": st.one_of(
            st.lists(st.dictionaries(st.sampled_from(COCO_KEYS), json_values)),
            json_values,
        ),
        "annotations": st.one_of(
            st.lists(st.dictionaries(st.sampled_from(COCO_KEYS), json_values)),
            json_values,
        ),
        "categories": st.one_of(
            st.lists(st.dictionaries(st.sampled_from(COCO_KEYS), json_values)),
            json_values,
        ),
    }
)


def _coco_folder(root, document):
    _write_image(root / "img.png")
    return _write_bytes(root / "annotations" / "train.json", document)


@FUZZ
@given(st.binary(max_size=300))
def test_coco_reader_on_random_bytes(data):
    with _folder() as root:
        path = _coco_folder(root, data)
        result = _read_or_clean_error(lambda: read_coco(path, root), "train.json")
        if result is not None:
            _check_records(result)


@FUZZ
@given(st.one_of(coco_like, json_values))
def test_coco_reader_on_random_documents(document):
    with _folder() as root:
        _coco_folder(root, json.dumps(document).encode())
        result = _read_or_clean_error(
            lambda: read_annotations(root, "coco", "train"), "train.json"
        )
        if result is not None:
            _check_records(result)
            for record in result[0]:
                assert record.path == (root / "img.png").resolve()


yolo_tokens = st.one_of(
    st.integers(-3, 5).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(0, 1).map(str),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=5),
)
yolo_lines = st.lists(st.lists(yolo_tokens, max_size=7).map(" ".join), max_size=6)


def _yolo_folder(root, labels, classes=b"a\nb\nc\n"):
    _write_image(root / "images" / "train" / "img.png")
    _write_bytes(root / "labels" / "train" / "img.txt", labels)
    if classes is not None:
        _write_bytes(root / "classes.txt", classes)
    return root


@FUZZ
@given(st.one_of(st.binary(max_size=200), yolo_lines.map(lambda x: "\n".join(x))))
def test_yolo_reader_on_random_labels(labels):
    if isinstance(labels, str):
        labels = labels.encode("utf-8", "surrogatepass")
    with _folder() as root:
        _yolo_folder(root, labels)
        result = _read_or_clean_error(
            lambda: read_annotations(root, "yolo", "train"), "img.txt"
        )
        if result is not None:
            _check_records(result)
            assert result[1] == ["a", "b", "c"]


@FUZZ
@given(st.binary(max_size=120), st.sampled_from(["classes.txt", "data.yaml"]))
def test_yolo_class_names_from_random_bytes(data, file_name):
    with _folder() as root:
        _write_bytes(root / file_name, data)
        names = _read_or_clean_error(lambda: yolo_class_names(root), file_name)
        if names is not None:
            assert all(isinstance(name, str) and name for name in names)


@FUZZ
@given(
    st.one_of(
        json_values,
        st.dictionaries(st.sampled_from(["names", "nc", "path"]), json_values),
    )
)
def test_yolo_class_names_from_random_yaml(document):
    with _folder() as root:
        (root / "data.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
        names = _read_or_clean_error(lambda: yolo_class_names(root), "data.yaml")
        if names is not None:
            assert all(isinstance(name, str) and name for name in names)
            assert len(set(names)) == len(names)


def _image_bytes(image_format):
    buffer = io.BytesIO()
    Image.new("RGB", IMAGE_SIZE, (10, 200, 30)).save(buffer, image_format)
    return buffer.getvalue()


IMAGE_BYTES = {name: _image_bytes(name) for name in ("PNG", "JPEG", "GIF", "BMP")}


@FUZZ
@given(
    st.sampled_from(sorted(IMAGE_BYTES)),
    st.integers(0, 400),
    st.binary(max_size=40),
    st.booleans(),
)
def test_damaged_images_are_read_or_refused(image_format, keep, noise, cut):
    """An image cut short, or with random bytes spliced in, never crashes."""
    whole = IMAGE_BYTES[image_format]
    data = whole[:keep] + noise + (b"" if cut else whole[keep:])
    with _folder() as root:
        path = _write_bytes(root / "img.png", data)
        try:
            check_image(path)  # what every folder reader calls first
        except DataError as error:
            assert "img.png" in str(error) and "\n" not in str(error)
            assert data != whole
        try:
            size = image_size(path, "a.xml")
            assert size == IMAGE_SIZE or data != whole
        except DataError as error:
            assert str(error).startswith("a.xml: cannot read image"), error
            assert data != whole


# Valid documents: the readers must give back exactly what was written.

class_name_text = st.text(
    st.characters(categories=("L", "N")) | st.sampled_from("_-."),
    min_size=1,
    max_size=8,
)


@st.composite
def annotated_images(draw, max_images=3):
    """Class names and images of random sizes, each with random boxes."""
    names = draw(st.lists(class_name_text, min_size=1, max_size=4, unique=True))
    images = []
    for _ in range(draw(st.integers(1, max_images))):
        width, height = draw(st.integers(4, 80)), draw(st.integers(4, 80))
        boxes, classes = [], []
        for _ in range(draw(st.integers(0, 4))):
            x1 = draw(st.floats(0, width - 0.5))
            y1 = draw(st.floats(0, height - 0.5))
            x2 = draw(st.floats(x1 + 0.5, width))
            y2 = draw(st.floats(y1 + 0.5, height))
            boxes.append((x1, y1, x2, y2))
            classes.append(draw(st.integers(0, len(names) - 1)))
        images.append((width, height, boxes, classes))
    return names, images


def _assert_read_back(records, images, names, expected_names, atol):
    assert len(records) == len(images)
    for record, (width, height, boxes, classes) in zip(records, images, strict=True):
        assert (record.width, record.height) == (width, height)
        np.testing.assert_allclose(
            record.boxes, np.array(boxes).reshape(-1, 4), atol=atol, rtol=0
        )
        assert [expected_names[c] for c in record.classes] == [
            names[c] for c in classes
        ]


@ROUND_TRIP
@given(annotated_images(), st.booleans())
def test_voc_reads_back_random_documents(document, give_names):
    names, images = document
    with _folder() as root:
        for index, (width, height, boxes, classes) in enumerate(images):
            _write_image(root / "JPEGImages" / f"{index}.png", width, height)
            annotation = ElementTree.Element("annotation")
            ElementTree.SubElement(annotation, "filename").text = f"{index}.png"
            size = ElementTree.SubElement(annotation, "size")
            ElementTree.SubElement(size, "width").text = str(width)
            ElementTree.SubElement(size, "height").text = str(height)
            for (x1, y1, x2, y2), label in zip(boxes, classes, strict=True):
                element = ElementTree.SubElement(annotation, "object")
                ElementTree.SubElement(element, "name").text = names[label]
                box = ElementTree.SubElement(element, "bndbox")
                # VOC counts pixels from 1: xmin 1 is the left edge.
                for tag, value in zip(
                    ("xmin", "ymin", "xmax", "ymax"),
                    (x1 + 1, y1 + 1, x2, y2),
                    strict=True,
                ):
                    ElementTree.SubElement(box, tag).text = repr(value)
            ElementTree.ElementTree(annotation).write(
                _write_bytes(root / "Annotations" / f"{index}.xml", b"")
            )
        used = sorted({names[c] for _, _, _, classes in images for c in classes})
        expected_names = names if give_names else used
        records, read_names = read_annotations(
            root, "voc", "train", names if give_names else None
        )
        assert read_names == expected_names
        _assert_read_back(records, images, names, expected_names, atol=1e-4)


@ROUND_TRIP
@given(
    annotated_images(),
    st.lists(st.integers(-1000, 1000), min_size=4, max_size=4, unique=True),
)
def test_coco_reads_back_random_documents(document, category_ids):
    names, images = document
    ids = dict(zip(names, category_ids, strict=False))
    data = {"images": [], "annotations": [], "categories": []}
    for name in reversed(names):  # the order of `categories` does not matter
        data["categories"].append({"id": ids[name], "name": name})
    with _folder() as root:
        for index, (width, height, boxes, classes) in enumerate(images):
            file_name = f"images/{index}.png"
            _write_image(root / file_name, width, height)
            data["images"].append(
                {
                    "id": 7 * index,
                    "file_name": file_name,
                    "width": width,
                    "height": height,
                }
            )
            for (x1, y1, x2, y2), label in zip(boxes, classes, strict=True):
                data["annotations"].append(
                    {
                        "id": len(data["annotations"]),
                        "image_id": 7 * index,
                        "category_id": ids[names[label]],
                        "bbox": [x1, y1, x2 - x1, y2 - y1],
                    }
                )
        _write_bytes(root / "annotations" / "train.json", json.dumps(data).encode())
        records, read_names = read_annotations(root, "coco", "train")
        expected_names = sorted(names, key=ids.get)  # in the order of their ids
        assert read_names == expected_names
        _assert_read_back(records, images, names, expected_names, atol=1e-4)


@ROUND_TRIP
@given(annotated_images(), st.sampled_from(["classes.txt", "list", "dict"]))
def test_yolo_reads_back_random_documents(document, names_file):
    names, images = document
    with _folder() as root:
        for index, (width, height, boxes, classes) in enumerate(images):
            _write_image(root / "images" / "val" / f"{index}.png", width, height)
            lines = [
                f"{label} {(x1 + x2) / 2 / width!r} {(y1 + y2) / 2 / height!r} "
                f"{(x2 - x1) / width!r} {(y2 - y1) / height!r}"
                for (x1, y1, x2, y2), label in zip(boxes, classes, strict=True)
            ]
            label_file = root / "labels" / "val" / f"{index}.txt"
            _write_bytes(label_file, "\n".join(lines).encode())
        if names_file == "classes.txt":
            (root / "classes.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
        else:
            listed = names if names_file == "list" else dict(enumerate(names))
            (root / "data.yaml").write_text(
                yaml.safe_dump({"names": listed}), encoding="utf-8"
            )
        assert find_annotation_splits(root, "yolo") == ["val"]
        records, read_names = read_annotations(root, "yolo", "val")
        assert read_names == names
        _assert_read_back(records, images, names, names, atol=1e-3)


# Bad annotations: refused in one line that names the file.


@st.composite
def bad_boxes(draw):
    """A box, in pixels of a 16 x 12 image, outside it or of zero area.

    Coordinates are in quarter pixels, which VOC's 1-based numbers and
    YOLO's fractions hold exactly, so a zero width stays exactly zero.
    """
    width, height = IMAGE_SIZE
    kind = draw(st.sampled_from(["outside", "zero_area"]))
    x1 = draw(st.integers(0, 4 * width - 4)) / 4
    y1 = draw(st.integers(0, 4 * height - 4)) / 4
    x2 = draw(st.integers(int(4 * x1) + 1, 4 * width)) / 4
    y2 = draw(st.integers(int(4 * y1) + 1, 4 * height)) / 4
    if kind == "outside":
        # Past the one-pixel tolerance on one side.
        side = draw(st.integers(0, 3))
        beyond = draw(st.floats(1.01, 1e6))
        if side == 0:
            x1 = -beyond
        elif side == 1:
            y1 = -beyond
        elif side == 2:
            x2 = width + beyond
        else:
            y2 = height + beyond
    elif draw(st.booleans()):
        x2 = x1 - draw(st.integers(0, 20)) / 4  # zero or negative width
    else:
        y2 = y1 - draw(st.integers(0, 20)) / 4
    return kind, (x1, y1, x2, y2)


def _bad_voc(root, box, name="a"):
    x1, y1, x2, y2 = box
    text = (
        f"<annotation><filename>a.jpg</filename><object><name>{name}</name>"
        f"<bndbox><xmin>{x1 + 1!r}</xmin><ymin>{y1 + 1!r}</ymin><xmax>{x2!r}</xmax>"
        f"<ymax>{y2!r}</ymax></bndbox></object></annotation>"
    )
    _voc_folder(root, text.encode())
    return "a.xml", "object 1"


def _bad_coco(root, box, name="a"):
    x1, y1, x2, y2 = box
    data = {
        "images": [{"id": 1, "file_name": "img.png"}],
        "annotations": [
            {
                "id": 5,
                "image_id": 1,
                "category_id": 3,
                "bbox": [x1, y1, x2 - x1, y2 - y1],
            }
        ],
        "categories": [{"id": 3, "name": name}],
    }
    _coco_folder(root, json.dumps(data).encode())
    return "train.json", "annotation 0 (id 5"


def _bad_yolo(root, box, label=0):
    x1, y1, x2, y2 = box
    width, height = IMAGE_SIZE
    line = (
        f"{label} {(x1 + x2) / 2 / width!r} {(y1 + y2) / 2 / height!r} "
        f"{(x2 - x1) / width!r} {(y2 - y1) / height!r}"
    )
    _yolo_folder(root, line.encode())
    return "img.txt", "line 1"


BAD_WRITERS = {"voc": _bad_voc, "coco": _bad_coco, "yolo": _bad_yolo}


@BAD
@given(st.sampled_from(sorted(BAD_WRITERS)), bad_boxes())
def test_boxes_outside_or_of_zero_area_are_refused(annotation_format, bad_box):
    kind, box = bad_box
    with _folder() as root:
        file_name, label = BAD_WRITERS[annotation_format](root, box)
        with pytest.raises(DataError) as excinfo:
            read_annotations(root, annotation_format, "train")
    message = str(excinfo.value)
    assert "\n" not in message
    assert file_name in message and label in message, message
    expected = "outside the 16x12 image" if kind == "outside" else "zero area"
    assert expected in message, message


@BAD
@given(st.sampled_from(sorted(BAD_WRITERS)), class_name_text, st.integers(-5, 50))
def test_unknown_classes_are_refused(annotation_format, name, class_index):
    box = (2.0, 2.0, 10.0, 8.0)
    with _folder() as root:
        if annotation_format == "yolo":
            class_index = class_index if not 0 <= class_index < 3 else class_index + 3
            file_name, _ = _bad_yolo(root, box, label=class_index)
            unknown = f"unknown class id {class_index} "
        else:
            file_name, _ = BAD_WRITERS[annotation_format](root, box, name=name)
            unknown = f"unknown class '{name}'"
        known = ["cat", "dog"] if annotation_format != "yolo" else None
        if annotation_format != "yolo" and name in known:
            return
        with pytest.raises(DataError) as excinfo:
            read_annotations(root, annotation_format, "train", known)
    message = str(excinfo.value)
    assert "\n" not in message
    assert file_name in message and unknown in message, message


ESCAPES = ["../outside.png", "../../outside.png", "sub/../../outside.png", "ABSOLUTE"]


def _escaping_name(root, written):
    """Puts an image beside the data folder and returns how to name it."""
    outside = _write_image(root.parent / "outside.png")
    return str(outside) if written == "ABSOLUTE" else written


@pytest.mark.parametrize("written", ESCAPES)
def test_voc_image_paths_outside_the_folder_are_refused(tmp_path, written):
    root = tmp_path / "data"
    (root / "JPEGImages" / "sub").mkdir(parents=True)
    name = _escaping_name(root, written)
    if written != "ABSOLUTE":
        name = "../" + name  # VOC file names are relative to JPEGImages/
    text = f"<annotation><filename>{name}</filename></annotation>"
    _write_bytes(root / "Annotations" / "a.xml", text.encode())
    with pytest.raises(DataError) as excinfo:
        read_annotations(root, "voc")
    message = str(excinfo.value)
    assert "a.xml" in message and "outside the data folder" in message, message
    assert name in message


@pytest.mark.parametrize("written", ESCAPES)
def test_coco_image_paths_outside_the_folder_are_refused(tmp_path, written):
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    name = _escaping_name(root, written)
    document = {"images": [{"id": 1, "file_name": name}], "annotations": []}
    _write_bytes(root / "annotations" / "train.json", json.dumps(document).encode())
    with pytest.raises(DataError) as excinfo:
        read_annotations(root, "coco")
    message = str(excinfo.value)
    assert "train.json" in message and "outside the data folder" in message, message
    assert name in message


@pytest.mark.parametrize("annotation_format", ["voc", "coco", "yolo"])
def test_symlinks_leaving_the_folder_are_refused(tmp_path, annotation_format):
    root = tmp_path / "data"
    outside = _write_image(tmp_path / "elsewhere" / "secret.png")
    link = {
        "voc": root / "JPEGImages" / "a.jpg",
        "coco": root / "img.png",
        "yolo": root / "images" / "train" / "img.png",
    }[annotation_format]
    if annotation_format == "voc":
        _write_bytes(root / "Annotations" / "a.xml", b"<annotation/>")
    elif annotation_format == "coco":
        document = {"images": [{"id": 1, "file_name": "img.png"}]}
        _write_bytes(root / "annotations" / "train.json", json.dumps(document).encode())
    else:
        _write_bytes(root / "labels" / "train" / "img.txt", b"0 0.5 0.5 0.2 0.2")
        _write_bytes(root / "classes.txt", b"a\n")
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(outside, link)
    with pytest.raises(DataError) as excinfo:
        read_annotations(root, annotation_format)
    message = str(excinfo.value)
    assert "outside the data folder" in message and "\n" not in message, message
    source = {"voc": "a.xml", "coco": "train.json", "yolo": "img.txt"}
    assert source[annotation_format] in message, message


def test_yolo_folders_linked_from_outside_are_refused(tmp_path):
    root = tmp_path / "data"
    elsewhere = tmp_path / "elsewhere"
    _write_image(elsewhere / "img.png")
    _write_bytes(root / "labels" / "train" / "img.txt", b"0 0.5 0.5 0.2 0.2")
    _write_bytes(root / "classes.txt", b"a\n")
    (root / "images").mkdir()
    os.symlink(elsewhere, root / "images" / "train", target_is_directory=True)
    with pytest.raises(DataError, match="outside the data folder"):
        read_yolo_txt(root / "images" / "train", root / "labels" / "train", ["a"], root)


def test_voc_split_ids_cannot_leave_the_folder(tmp_path):
    root = tmp_path / "data"
    _voc_folder(root, b"<annotation/>")
    _write_bytes(tmp_path / "secret.xml", b"<annotation/>")
    _write_bytes(root / "ImageSets" / "Main" / "train.txt", b"../../secret\n")
    with pytest.raises(DataError) as excinfo:
        read_annotations(root, "voc", "train")
    message = str(excinfo.value)
    assert "train.txt" in message and "outside the data folder" in message, message
