"""Detection annotations: Pascal VOC, COCO JSON and YOLO txt, checked on reading."""

from pathlib import Path

from keras_recipes.data.annotations.coco import read_coco
from keras_recipes.data.annotations.common import AnnotatedImage
from keras_recipes.data.annotations.images import annotated_image_set
from keras_recipes.data.annotations.voc import (
    read_voc,
    voc_class_names,
    voc_splits,
    write_voc,
)
from keras_recipes.data.annotations.yolo_txt import read_yolo_txt, yolo_class_names
from keras_recipes.errors import DataError

ANNOTATION_FORMATS = ("voc", "coco", "yolo")
_SPLIT_ALIASES = {"train": ("train",), "val": ("val", "validation"), "test": ("test",)}

__all__ = [
    "ANNOTATION_FORMATS",
    "AnnotatedImage",
    "find_annotation_splits",
    "annotated_image_set",
    "read_annotations",
    "read_coco",
    "read_voc",
    "read_yolo_txt",
    "voc_class_names",
    "write_voc",
    "yolo_class_names",
]


def _coco_file(directory, split):
    for alias in _SPLIT_ALIASES[split]:
        for pattern in (
            f"annotations/{alias}.json",
            f"{alias}.json",
            f"annotations/instances_{alias}*.json",
        ):
            found = sorted(directory.glob(pattern))
            if found:
                return found[0]
    return None


def _yolo_folders(directory, split):
    for alias in _SPLIT_ALIASES[split]:
        if (directory / "images" / alias).is_dir():
            return directory / "images" / alias, directory / "labels" / alias
    if split == "train" and (directory / "images").is_dir():
        if not any(p.is_dir() for p in (directory / "images").iterdir()):
            return directory / "images", directory / "labels"
    return None


def find_annotation_splits(directory, annotation_format):
    """Returns which of `"train"`, `"val"` and `"test"` a detection folder has.

    Args:
        directory: The data folder.
        annotation_format: `"voc"`, `"coco"` or `"yolo"`.

    Returns:
        The list of split names present, in that order.

    Example:

    ```python
    find_annotation_splits("data/VOC2007", "voc")  # ['train', 'val', 'test']
    ```
    """
    directory = _check_folder(directory, annotation_format)
    if annotation_format == "voc":
        listed = voc_splits(directory)
        if not listed:
            return ["train"]
        return [s for s in _SPLIT_ALIASES if s in listed]
    if annotation_format == "coco":
        return [s for s in _SPLIT_ALIASES if _coco_file(directory, s)]
    return [s for s in _SPLIT_ALIASES if _yolo_folders(directory, s)]


def _check_folder(directory, annotation_format):
    if annotation_format not in ANNOTATION_FORMATS:
        raise ValueError(
            f"`annotation_format` must be one of {ANNOTATION_FORMATS}. "
            f"Received: annotation_format={annotation_format!r}"
        )
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"data folder not found: {directory} (check data.directory)")
    return directory


def read_annotations(directory, annotation_format, split="train", class_names=None):
    """Reads one split of a detection folder in any of the three formats.

    Layouts:

    - `"voc"`: `Annotations/*.xml`, `JPEGImages/`,
      `ImageSets/Main/{train,val,test}.txt`; class names from the
      annotations, sorted.
    - `"coco"`: `annotations/{train,val,test}.json` (or `{split}.json`, or
      `annotations/instances_{split}*.json`) with `file_name`s relative to
      the folder; class names from `categories`.
    - `"yolo"`: `images/{train,val,test}/` with `labels/{train,val,test}/`
      (or flat `images/` and `labels/` for training only), class names
      from `classes.txt` or `data.yaml`.

    Args:
        directory: The data folder.
        annotation_format: `"voc"`, `"coco"` or `"yolo"`.
        split: `"train"`, `"val"` or `"test"`. Defaults to `"train"`.
        class_names: The classes, in id order; an object of another class
            is an error. Defaults to `None`, which takes them from the
            folder.

    Returns:
        `(records, class_names)`: a list of `AnnotatedImage` (boxes in the
        pixels of each image) and the class names.

    Example:

    ```python
    records, names = read_annotations("data/VOC2007", "voc", "train")
    ```
    """
    directory = _check_folder(directory, annotation_format)
    if split not in _SPLIT_ALIASES:
        raise ValueError(
            f"`split` must be one of {tuple(_SPLIT_ALIASES)}. Received: split={split!r}"
        )
    if annotation_format == "voc":
        return read_voc(directory, split, class_names)
    if annotation_format == "coco":
        json_path = _coco_file(directory, split)
        if json_path is None:
            raise DataError(
                f"no COCO annotation file for split '{split}' in {directory} "
                f"(expected annotations/{split}.json)"
            )
        return read_coco(json_path, directory, class_names)
    folders = _yolo_folders(directory, split)
    if folders is None:
        raise DataError(
            f"no YOLO images for split '{split}' in {directory} "
            f"(expected images/{split}/ and labels/{split}/)"
        )
    names = list(class_names) if class_names else yolo_class_names(directory)
    return read_yolo_txt(*folders, names, directory)
