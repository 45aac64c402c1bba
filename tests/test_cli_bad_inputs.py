"""Bad inputs to every recipe that reads them: one line, status 2, no run directory.

`tests/test_cli.py` runs the classifier's folder mistakes in a subprocess;
these go through the same `main()` in this process, recipe by recipe.
"""

import json
import os
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
from PIL import Image

from keras_recipes.cli import main
from keras_recipes.data.annotations import write_voc
from keras_recipes.data.shapes import SHAPE_CLASSES, load_shapes

QUIET = ["--set", "train.verbose=0"]
CLASSIFIER = ["--set", "train.epochs=1", "--set", "data.image_size=[8, 8]"]
FOLDER = ["--set", "data.source=folder"]
VGG = ["--set", "base.weights=null", "--set", "data.image_size=[32, 32]"]
FACES = [*FOLDER, "--set", "data.unseen=held_out"]
DETECTION = [*FOLDER, "--set", "data.format=voc", "--set", "data.image_size=[64, 64]"]
STYLE = ["--set", "model.weights=null", "--set", "data.height=32"]


def _run(tmp_path, capsys, recipe, *arguments):
    """Runs `run RECIPE ARGUMENTS`; returns the exit status and stderr lines."""
    runs = tmp_path / "runs"
    status = main(
        ["run", recipe, *QUIET, *map(str, arguments), "--runs-root", str(runs)]
    )
    lines = capsys.readouterr().err.strip().splitlines()
    return status, lines, runs


def _one_line(tmp_path, capsys, recipe, *arguments):
    status, lines, runs = _run(tmp_path, capsys, recipe, *arguments)
    assert status == 2, lines
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "Traceback" not in lines[0]
    # Nothing was started: no run directory (not even the runs folder).
    assert not runs.exists(), sorted(runs.rglob("*"))
    return lines[0]


def _image(path, size, mode, seed=0):
    """Writes random pixels of `size` (width, height) in a Pillow `mode`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype="uint8")
    image = Image.fromarray(pixels)
    if mode == "I;16":  # 16-bit grayscale
        wide = np.asarray(image.convert("L"), dtype="uint16") * 257
        image = Image.fromarray(wide)
    elif mode != "RGB":
        image = image.convert(mode)
    image.save(path)
    return path


# Grayscale, 16-bit grayscale, RGBA, palette and RGB files of very different sizes.
MIXED = [
    ("gray.png", (5, 7), "L"),
    ("wide.png", (300, 40), "RGBA"),
    ("photo.jpg", (64, 64), "RGB"),
    ("tall.gif", (17, 200), "P"),
    ("deep.png", (33, 21), "I;16"),
    ("small.png", (8, 8), "RGBA"),
]


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory):
    """Four classes of six images in every mode and size of `MIXED`."""
    root = tmp_path_factory.mktemp("mixed")
    for label, name in enumerate("pqrs"):
        for index, (file_name, size, mode) in enumerate(MIXED):
            _image(root / name / file_name, size, mode, seed=10 * label + index)
    return root


@pytest.fixture(scope="module")
def voc_folder(tmp_path_factory):
    """A small Pascal VOC folder of `shapes` images, train and test splits."""
    root = tmp_path_factory.mktemp("voc")
    (x_train, y_train), (x_test, y_test), names = load_shapes(24, 8)
    write_voc(root, "train", x_train, y_train, names)
    write_voc(root, "test", x_test, y_test, names, first_id=100)
    return root


def _copy_voc(voc_folder, target):
    for path in voc_folder.rglob("*"):
        if path.is_file():
            destination = target / path.relative_to(voc_folder)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(path.read_bytes())
    return target


# Config values.


@pytest.mark.parametrize(
    "recipe, override, expected",
    [
        ("vae", "train.epochs=abc", "config key 'train.epochs' must be int"),
        ("mlp", "optimizer.learning_rate=-0.1", "must be >= 0. Received: -0.1"),
        ("small_data_classifier", "model.dropout=1", "must be < 1. Received: 1.0"),
        ("face_triplet", "model.dropout=1.5", "must be < 1. Received: 1.5"),
        ("autoencoder", "model.hidden_units=wide", "must be a list of int"),
        ("yolo", "postprocess.iou_treshold=0.4", "did you mean 'iou_threshold'"),
        ("char_rnn", "model.units=0", "must be >= 1. Received: 0"),
    ],
)
def test_wrong_types_and_out_of_range_values(
    tmp_path, capsys, recipe, override, expected
):
    line = _one_line(tmp_path, capsys, recipe, "--set", override)
    assert expected in line
    assert override.split("=")[0].split(".")[-1] in line


# Missing and empty data folders.

FOLDER_RECIPES = {
    "autoencoder": [*FOLDER],
    "vae": [*FOLDER],
    "vgg16_bottleneck": [*VGG],
    "vgg16_fine_tune": [*VGG],
    "face_triplet": [*FACES],
    "yolo": [*DETECTION],
}


@pytest.mark.parametrize("recipe", sorted(FOLDER_RECIPES))
def test_missing_data_folder(tmp_path, capsys, recipe):
    missing = tmp_path / "nowhere"
    line = _one_line(
        tmp_path,
        capsys,
        recipe,
        *FOLDER_RECIPES[recipe],
        "--set",
        f"data.directory={missing}",
    )
    assert line == f"error: data folder not found: {missing} (check data.directory)"


@pytest.mark.parametrize(
    "recipe, expected",
    [
        ("small_data_classifier", "no class subfolders in"),
        ("autoencoder", "no image files in folder"),
        ("vgg16_bottleneck", "no class subfolders in"),
        ("face_triplet", "no class subfolders in"),
        ("yolo", "not a Pascal VOC folder (no Annotations/)"),
    ],
)
def test_empty_data_folder(tmp_path, capsys, recipe, expected):
    empty = tmp_path / "empty"
    empty.mkdir()
    settings = FOLDER_RECIPES.get(recipe, [*FOLDER, *CLASSIFIER])
    line = _one_line(
        tmp_path, capsys, recipe, *settings, "--set", f"data.directory={empty}"
    )
    assert expected in line and str(empty) in line


def test_missing_or_unreadable_text_for_char_rnn(tmp_path, capsys):
    missing = tmp_path / "book.txt"
    line = _one_line(tmp_path, capsys, "char_rnn", "--set", f"data.source={missing}")
    assert f"text file not found: {missing}" in line
    missing.write_bytes("caf\xe9 au lait ".encode("latin-1") * 100)
    line = _one_line(tmp_path, capsys, "char_rnn", "--set", f"data.source={missing}")
    assert f"{missing} is not UTF-8 text" in line


# Files that are not usable images.


@pytest.mark.parametrize("recipe", ["autoencoder", "face_triplet", "vgg16_fine_tune"])
@pytest.mark.parametrize("problem", ["non_image", "truncated", "disguised"])
def test_bad_files_in_image_folders(tmp_path, capsys, mixed_folder, recipe, problem):
    data = tmp_path / "data"
    for path in mixed_folder.rglob("*.*"):
        target = data / path.relative_to(mixed_folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    bad = data / "q" / {"non_image": "notes.txt"}.get(problem, "scan.png")
    if problem == "non_image":
        bad.write_text("not a picture")
    elif problem == "truncated":
        whole = (data / "q" / "photo.jpg").read_bytes()
        bad = bad.with_suffix(".jpg")
        bad.write_bytes(whole[: len(whole) // 3])
    else:  # a TIFF under a .png name: Pillow reads it, TensorFlow would not
        Image.new("RGB", (16, 16)).save(bad, format="TIFF")
    expected = {
        "non_image": f"not an image file: {bad} (expected .bmp",
        "truncated": f"cannot read image {bad}:",
        "disguised": f"cannot read image {bad}: it holds TIFF data, not PNG",
    }[problem]
    settings = FOLDER_RECIPES[recipe]
    line = _one_line(
        tmp_path, capsys, recipe, *settings, "--set", f"data.directory={data}"
    )
    assert expected in line


@pytest.mark.parametrize(
    "setting, problem, expected",
    [
        ("content", "missing", "image file not found: {path} (give an image file"),
        ("style", "non_image", "not an image file: {path}"),
        ("content", "truncated", "cannot read image {path}:"),
    ],
)
def test_bad_style_transfer_images(tmp_path, capsys, setting, problem, expected):
    path = tmp_path / ("notes.txt" if problem == "non_image" else "photo.jpg")
    if problem == "non_image":
        path.write_text("not a picture")
    elif problem == "truncated":
        whole = _image(tmp_path / "whole.jpg", (40, 30), "RGB").read_bytes()
        path.write_bytes(whole[: len(whole) // 3])
    line = _one_line(
        tmp_path, capsys, "style_transfer", *STYLE, "--set", f"data.{setting}={path}"
    )
    assert expected.format(path=path) in line


# Annotations.


def _edit_voc(root, edit, image_id="000003"):
    path = root / "Annotations" / f"{image_id}.xml"
    tree = ElementTree.parse(path)
    edit(tree.getroot())
    tree.write(path)
    return path


@pytest.mark.parametrize(
    "problem, expected",
    [
        ("outside", "object 1 ('{name}'): box [{x1:g}, {y1:g}, 300, {y2:g}] lies "),
        ("zero_area", "object 1 ('{name}'): box [{x1:g}, {y1:g}, {x1:g}, {y2:g}] has"),
        ("unknown_class", "object 1 ('hexagon'): unknown class 'hexagon' (known: "),
        ("parent_path", "image path 'JPEGImages/../../x.jpg' points outside the "),
        ("absolute_path", "image path '/etc/hostname' points outside the data "),
        ("symlink", "image path 'JPEGImages/000003.jpg' is a link to {outside}, "),
        ("bad_xml", "not valid XML (no element found"),
    ],
)
def test_bad_annotations_name_the_file_and_object(
    tmp_path, capsys, voc_folder, problem, expected
):
    root = _copy_voc(voc_folder, tmp_path / "voc")
    box = {}

    def edit(annotation):
        first = annotation.find("object")
        coordinates = first.find("bndbox")
        box.update(
            name=first.find("name").text,
            **{tag: float(coordinates.find(tag).text) for tag in ("xmin", "ymin")},
            y2=float(coordinates.find("ymax").text),
        )
        box["x1"], box["y1"] = box.pop("xmin") - 1, box.pop("ymin") - 1
        if problem == "outside":
            coordinates.find("xmax").text = "300"
        elif problem == "zero_area":  # VOC counts from 1: xmin 5 is x1 = 4
            coordinates.find("xmax").text = str(box["x1"])
        elif problem == "unknown_class":
            first.find("name").text = "hexagon"
        elif problem == "parent_path":
            annotation.find("filename").text = "../../x.jpg"
        elif problem == "absolute_path":
            annotation.find("filename").text = "/etc/hostname"

    path = _edit_voc(root, edit)
    if problem == "symlink":
        image = root / "JPEGImages" / "000003.jpg"
        outside = tmp_path / "elsewhere.jpg"
        image.rename(outside)
        os.symlink(outside, image)
        box["outside"] = outside.resolve()
    elif problem == "bad_xml":
        path.write_text("<annotation><object>")
    arguments = [*DETECTION, "--set", f"data.directory={root}"]
    if problem == "unknown_class":
        arguments += ["--set", f"data.class_names={json.dumps(SHAPE_CLASSES)}"]
    line = _one_line(tmp_path, capsys, "yolo", *arguments)
    assert line.startswith(f"error: {path}: "), line
    assert expected.format(**box) in line, line


def test_coco_and_yolo_annotation_mistakes(tmp_path, capsys):
    coco = tmp_path / "coco"
    _image(coco / "images" / "0.png", (32, 32), "RGB")
    document = {
        "images": [{"id": 1, "file_name": "../outside.png"}],
        "annotations": [],
        "categories": [{"id": 1, "name": "a"}],
    }
    (coco / "train.json").write_text(json.dumps(document))
    arguments = [*FOLDER, "--set", "data.image_size=[64, 64]"]
    line = _one_line(
        tmp_path,
        capsys,
        "yolo",
        *arguments,
        "--set=data.format=coco",
        f"--set=data.directory={coco}",
    )
    assert f"{coco / 'train.json'}: image path '../outside.png' points outside" in line
    yolo = tmp_path / "yolo"
    for index in range(4):
        _image(yolo / "images" / "train" / f"{index}.png", (40, 30), "RGB")
        label = yolo / "labels" / "train" / f"{index}.txt"
        label.parent.mkdir(parents=True, exist_ok=True)
        label.write_text(f"{7 if index == 2 else 0} 0.5 0.5 0.2 0.2\n")
    (yolo / "classes.txt").write_text("a\nb\n")
    line = _one_line(
        tmp_path,
        capsys,
        "yolo",
        *arguments,
        "--set=data.format=yolo",
        f"--set=data.directory={yolo}",
    )
    label = yolo / "labels" / "train" / "2.txt"
    assert f"{label}: line 1 (class 7): unknown class id 7 (known: 0 to 1: a, b)" in (
        line
    )


# Mixed colour modes and sizes are converted and resized, not refused.


def _metrics(runs):
    (path,) = runs.glob("*/*/metrics.json")
    return json.loads(path.read_text())


@pytest.mark.parametrize("color_mode", ["rgb", "grayscale"])
def test_mixed_modes_and_sizes_train_the_classifier(
    tmp_path, capsys, mixed_folder, color_mode
):
    status, lines, runs = _run(
        tmp_path,
        capsys,
        "small_data_classifier",
        *FOLDER,
        *CLASSIFIER,
        "--set",
        f"data.directory={mixed_folder}",
        "--set",
        f"data.color_mode={color_mode}",
        "--set",
        "model.filters=[8]",
    )
    assert (status, lines) == (0, [])
    metrics = _metrics(runs)
    assert 0 <= metrics["val_accuracy"] <= 1 and np.isfinite(metrics["val_loss"])


def test_mixed_modes_and_sizes_train_the_autoencoder(tmp_path, capsys, mixed_folder):
    status, lines, runs = _run(
        tmp_path,
        capsys,
        "autoencoder",
        *FOLDER,
        "--set",
        f"data.directory={mixed_folder}",
        "--set=data.color_mode=rgb",
        "--set=model.kind=dense",
        "--set=train.epochs=1",
    )
    assert (status, lines) == (0, [])
    # 24 images, 20% held out for testing: the 16-bit ones are not white.
    metrics = _metrics(runs)
    assert 0 < metrics["test_reconstruction_mse"] < 0.5


def test_mixed_modes_and_sizes_train_the_detector(tmp_path, capsys, voc_folder):
    root = _copy_voc(voc_folder, tmp_path / "voc")
    for index, (mode, size) in {3: ("L", (200, 60)), 5: ("RGBA", (40, 150))}.items():
        image_id = f"{index:06d}"
        old = root / "JPEGImages" / f"{image_id}.jpg"
        with Image.open(old) as image:
            image.convert(mode).resize(size).save(old.with_suffix(".png"))
        old.unlink()
        scale = (size[0] / 96, size[1] / 96, size[0] / 96, size[1] / 96)

        def edit(annotation, size=size, scale=scale, image_id=image_id):
            annotation.find("filename").text = f"{image_id}.png"
            annotation.find("size/width").text = str(size[0])
            annotation.find("size/height").text = str(size[1])
            for box in annotation.iter("bndbox"):
                for tag, factor in zip(
                    ("xmin", "ymin", "xmax", "ymax"), scale, strict=True
                ):
                    value = float(box.find(tag).text)
                    if tag in ("xmin", "ymin"):  # 1-based: scale the 0-based edge
                        value = (value - 1) * factor + 1
                    else:
                        value *= factor
                    box.find(tag).text = f"{value:.2f}"

        _edit_voc(root, edit, image_id)
    status, lines, runs = _run(
        tmp_path,
        capsys,
        "yolo",
        *DETECTION,
        "--set",
        f"data.directory={root}",
        "--set=train.epochs=1",
        "--set=model.head_filters=16",
        "--set=model.filters=[8, 8, 8, 8]",
    )
    assert (status, lines) == (0, [])
    assert 0 <= _metrics(runs)["map50"] <= 1
