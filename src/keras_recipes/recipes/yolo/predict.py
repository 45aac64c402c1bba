"""Detections for image files, in each file's own pixels, drawn to PNGs."""

from pathlib import Path

import numpy as np
from PIL import Image

from keras_recipes.data.image_files import find_image_files
from keras_recipes.data.image_folder import load_images
from keras_recipes.data.image_stream import ImageSet
from keras_recipes.data.letterbox import unletterbox_boxes
from keras_recipes.detection.drawing import plot_detections
from keras_recipes.recipes.yolo.detect import detect


def predict_files(model, paths, info, postprocess, folder):
    """Returns `(path, text)` per file and draws its detections.

    Each file is resized (or letterboxed, as the run was trained) to the
    model's input, detected, and its boxes are moved back to the file's
    pixels.

    Args:
        model: The trained detector.
        paths: Image files, and folders searched at any depth for them.
        info: The run's `detection.json` (`image_size`, `anchors`,
            `class_names`, `xy_scale` and `letterbox`).
        postprocess: The `postprocess` section (`score_threshold`,
            `iou_threshold`, `max_detections`).
        folder: Where `<file stem>.png` drawings go; created if missing.

    Returns:
        A list of `(path, text)`; the text lists `class score [x1 y1 x2 y2]`
        per detection, best first, or says `no detections`.

    Example:

    ```python
    rows = predict_files(model, ["a.jpg"], info, config.postprocess, out)
    ```
    """
    height, width = info["image_size"]
    paths = find_image_files(paths)
    letterbox = info.get("letterbox", False)
    if letterbox:
        images = ImageSet(
            labels=np.full(len(paths), -1),
            image_size=(height, width),
            channels=3,
            files=paths,
            value_range=(0, 255),
            letterbox=True,
        )
    else:
        images = load_images(paths, (height, width), 3)
    detections = detect(
        model,
        images,
        np.asarray(info["anchors"], "float32"),
        (height, width),
        postprocess,
        postprocess.score_threshold,
        # Runs from before the option decode as YOLOv2 did.
        info.get("xy_scale", 1.0),
    )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = info["class_names"]
    rows = []
    for path, found in zip(paths, detections, strict=True):
        with Image.open(path) as original:
            pixels = np.asarray(original.convert("RGB"))
        if letterbox:
            boxes = unletterbox_boxes(
                found["boxes"], pixels.shape[0], pixels.shape[1], (height, width)
            )
        else:
            scale = np.array([pixels.shape[1] / width, pixels.shape[0] / height] * 2)
            boxes = found["boxes"] * scale
        found = {**found, "boxes": boxes}
        plot_detections(
            pixels[None],
            folder / f"{Path(path).stem}.png",
            predictions=[found],
            class_names=names,
            columns=1,
        )
        items = [
            f"{names[label]} {score:.2f} [{' '.join(f'{v:.0f}' for v in box)}]"
            for box, score, label in zip(
                found["boxes"], found["scores"], found["classes"], strict=True
            )
        ]
        rows.append((str(path), "; ".join(items) or "no detections"))
    return rows
