import json
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
from PIL import Image

from keras_recipes.data.annotations import (
    annotated_image_set,
    find_annotation_splits,
    read_annotations,
    write_voc,
)
from keras_recipes.data.shapes import load_shapes
from keras_recipes.errors import DataError

NAMES = ["ellipse", "rectangle", "triangle"]


@pytest.fixture(scope="module")
def shapes():
    """Twelve shapes images, the last four stretched to 120 x 80 pixels."""
    (images, annotations), _, _ = load_shapes(12, 1)
    images = [np.asarray(image) for image in images]
    for index in range(8, 12):
        images[index] = np.asarray(Image.fromarray(images[index]).resize((120, 80)))
        annotations[index] = {
            "boxes": annotations[index]["boxes"] * np.array([120 / 96, 80 / 96] * 2),
            "classes": annotations[index]["classes"],
        }
    return images, annotations


def _write_voc(root, shapes):
    images, annotations = shapes
    write_voc(root, "train", images[:8], annotations[:8], NAMES)
    write_voc(root, "test", images[8:], annotations[8:], NAMES, first_id=8)
    return root


def _write_coco(root, shapes, split="train", indices=range(12)):
    images, annotations = shapes
    (root / "images").mkdir(parents=True, exist_ok=True)
    data = {
        "images": [],
        "annotations": [],
        "categories": [{"id": 7 + i, "name": n} for i, n in enumerate(NAMES)],
    }
    for index in indices:
        name = f"images/{index:03d}.png"
        Image.fromarray(images[index]).save(root / name)
        height, width = images[index].shape[:2]
        data["images"].append(
            {"id": 100 + index, "file_name": name, "width": width, "height": height}
        )
        for box, label in zip(*annotations[index].values(), strict=True):
            x1, y1, x2, y2 = (float(v) for v in box)
            data["annotations"].append(
                {
                    "id": len(data["annotations"]),
                    "image_id": 100 + index,
                    "category_id": 7 + int(label),
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "iscrowd": 0,
                }
            )
    (root / "annotations").mkdir(exist_ok=True)
    path = root / "annotations" / f"{split}.json"
    path.write_text(json.dumps(data))
    return path


def _write_yolo(root, shapes, split="train", indices=range(12)):
    images, annotations = shapes
    for folder in ("images", "labels"):
        (root / folder / split).mkdir(parents=True, exist_ok=True)
    (root / "classes.txt").write_text("\n".join(NAMES) + "\n")
    for index in indices:
        Image.fromarray(images[index]).save(
            root / "images" / split / f"{index:03d}.png"
        )
        height, width = images[index].shape[:2]
        lines = []
        for box, label in zip(*annotations[index].values(), strict=True):
            x1, y1, x2, y2 = (float(v) for v in box)
            lines.append(
                f"{label} {(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f} "
                f"{(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}"
            )
        (root / "labels" / split / f"{index:03d}.txt").write_text("\n".join(lines))
    return root


def _assert_same(records, shapes, indices, atol):
    images, annotations = shapes
    assert len(records) == len(indices)
    for record, index in zip(records, indices, strict=True):
        assert (record.height, record.width) == images[index].shape[:2]
        np.testing.assert_allclose(record.boxes, annotations[index]["boxes"], atol=atol)
        assert record.classes.tolist() == annotations[index]["classes"].tolist()


def test_voc_reads_back_what_was_written(tmp_path, shapes):
    root = _write_voc(tmp_path / "voc", shapes)
    assert find_annotation_splits(root, "voc") == ["train", "test"]
    records, names = read_annotations(root, "voc", "train")
    assert names == NAMES  # taken from the annotations, sorted
    _assert_same(records, shapes, range(8), atol=0.051)
    records, _ = read_annotations(root, "voc", "test")
    _assert_same(records, shapes, range(8, 12), atol=0.051)


def test_voc_folder_given_relative_to_the_working_directory(
    tmp_path, shapes, monkeypatch
):
    _write_voc(tmp_path / "voc", shapes)
    monkeypatch.chdir(tmp_path)
    records, names = read_annotations("voc", "voc", "train")
    assert names == NAMES
    _assert_same(records, shapes, range(8), atol=0.051)


def test_coco_reads_back_what_was_written(tmp_path, shapes):
    _write_coco(tmp_path / "coco", shapes)
    assert find_annotation_splits(tmp_path / "coco", "coco") == ["train"]
    records, names = read_annotations(tmp_path / "coco", "coco", "train")
    assert names == NAMES
    _assert_same(records, shapes, range(12), atol=1e-4)


def test_yolo_txt_reads_back_what_was_written(tmp_path, shapes):
    root = _write_yolo(tmp_path / "yolo", shapes, "train", range(8))
    _write_yolo(root, shapes, "val", range(8, 12))
    assert find_annotation_splits(root, "yolo") == ["train", "val"]
    records, names = read_annotations(root, "yolo", "val")
    assert names == NAMES
    _assert_same(records, shapes, range(8, 12), atol=1e-3)


def test_images_are_resized_with_their_boxes(tmp_path, shapes):
    root = _write_voc(tmp_path / "voc", shapes)
    records, _ = read_annotations(root, "voc", "test")  # 120 x 80 images
    image_set, annotations = annotated_image_set(records, (48, 64))
    images = image_set[:]
    assert images.shape == (4, 48, 64, 3) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 255 and images.max() > 1
    np.testing.assert_array_equal(images, np.round(images))
    for record, annotation in zip(records, annotations, strict=True):
        np.testing.assert_allclose(
            annotation["boxes"],
            record.boxes * np.array([64 / 120, 48 / 80] * 2),
            rtol=1e-6,
        )
        # The resized box still frames its object: its centre differs from the
        # background far more than the border pixels do.
        x1, y1, x2, y2 = annotation["boxes"][0]
        assert 0 <= x1 < x2 <= 64 and 0 <= y1 < y2 <= 48


def _one_line_error(excinfo, *fragments):
    message = str(excinfo.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def _edit_voc(path, edit):
    tree = ElementTree.parse(path)
    edit(tree.getroot())
    tree.write(path)


@pytest.mark.parametrize(
    "case, fragments",
    [
        ("outside", ["000002.xml", "object 1 (", "outside the 96x96 image"]),
        ("zero_area", ["000002.xml", "object 1 (", "zero area"]),
        ("unknown_class", ["000002.xml", "object 1 ('dog')", "unknown class 'dog'"]),
        ("missing_image", ["000002.xml", "image not found", "000002.jpg"]),
        (
            "escaping_path",
            ["000002.xml", "outside the data folder", "../../secret.jpg"],
        ),
    ],
)
def test_voc_bad_annotation_names_file_and_object(tmp_path, shapes, case, fragments):
    root = _write_voc(tmp_path / "voc", shapes)
    path = root / "Annotations" / "000002.xml"

    def edit(annotation):
        first = annotation.find("object")
        box = first.find("bndbox")
        if case == "outside":
            box.find("xmax").text = "140"
        elif case == "zero_area":
            # VOC counts pixels from 1: ymax = ymin - 1 spans no pixel.
            box.find("ymax").text = str(float(box.find("ymin").text) - 1)
        elif case == "unknown_class":
            first.find("name").text = "dog"
        elif case == "escaping_path":
            annotation.find("filename").text = "../../secret.jpg"

    _edit_voc(path, edit)
    if case == "missing_image":
        (root / "JPEGImages" / "000002.jpg").unlink()
    names = NAMES if case == "unknown_class" else None
    with pytest.raises(DataError) as excinfo:
        read_annotations(root, "voc", "train", names)
    _one_line_error(excinfo, *fragments)


@pytest.mark.parametrize(
    "case, fragments",
    [
        ("outside", ["train.json", "annotation 0", "outside the 96x96 image"]),
        ("zero_area", ["train.json", "annotation 0", "zero area"]),
        ("unknown_class", ["train.json", "annotation 0", "unknown class"]),
        ("missing_image", ["train.json", "image not found", "000.png"]),
        ("escaping_path", ["train.json", "outside the data folder", "../x.png"]),
        ("orphan", ["train.json", "image_id 999", "missing image"]),
    ],
)
def test_coco_bad_annotation_names_file_and_object(tmp_path, shapes, case, fragments):
    path = _write_coco(tmp_path / "coco", shapes, indices=range(3))
    data = json.loads(path.read_text())
    first = data["annotations"][0]
    if case == "outside":
        first["bbox"][0] = -20.0
    elif case == "zero_area":
        first["bbox"][2] = 0.0
    elif case == "unknown_class":
        first["category_id"] = 99
    elif case == "missing_image":
        (tmp_path / "coco" / "images" / "000.png").unlink()
    elif case == "escaping_path":
        data["images"][0]["file_name"] = "../x.png"
    elif case == "orphan":
        first["image_id"] = 999
    path.write_text(json.dumps(data))
    with pytest.raises(DataError) as excinfo:
        read_annotations(tmp_path / "coco", "coco", "train")
    _one_line_error(excinfo, *fragments)


@pytest.mark.parametrize(
    "case, fragments",
    [
        ("outside", ["001.txt", "line 1", "outside the 96x96 image"]),
        ("zero_area", ["001.txt", "line 1", "zero area"]),
        ("unknown_class", ["001.txt", "line 1 (class 5", "unknown class"]),
        ("missing_image", ["001.txt", "image not found"]),
        ("malformed", ["001.txt", "line 1", "class_id cx cy w h"]),
    ],
)
def test_yolo_bad_annotation_names_file_and_object(tmp_path, shapes, case, fragments):
    root = _write_yolo(tmp_path / "yolo", shapes, indices=range(3))
    label = root / "labels" / "train" / "001.txt"
    lines = label.read_text().splitlines()
    fields = lines[0].split()
    if case == "outside":
        fields[1] = "1.3"
    elif case == "zero_area":
        fields[3] = "0"
    elif case == "unknown_class":
        fields[0] = "5"
    elif case == "malformed":
        fields = fields[:3]
    elif case == "missing_image":
        (root / "images" / "train" / "001.png").unlink()
    label.write_text("\n".join([" ".join(fields), *lines[1:]]))
    with pytest.raises(DataError) as excinfo:
        read_annotations(root, "yolo", "train")
    _one_line_error(excinfo, *fragments)


def test_border_rounding_is_clipped_not_refused(tmp_path, shapes):
    root = _write_voc(tmp_path / "voc", shapes)

    def edit(annotation):
        box = annotation.find("object").find("bndbox")
        box.find("xmin").text = "0"  # one pixel left of VOC's first pixel
        box.find("xmax").text = "96.8"

    _edit_voc(root / "Annotations" / "000000.xml", edit)
    records, _ = read_annotations(root, "voc", "train")
    assert records[0].boxes[0, 0] == 0 and records[0].boxes[0, 2] == 96


def test_missing_folder_and_split(tmp_path):
    with pytest.raises(DataError, match="data folder not found"):
        read_annotations(tmp_path / "nothing", "voc")
    (tmp_path / "Annotations").mkdir()
    with pytest.raises(DataError, match="no split list"):
        read_annotations(tmp_path, "voc", "test")
