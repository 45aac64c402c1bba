"""Final detections of a trained `yolo` model, and the run's `detection.json`."""

import json

import numpy as np
import tensorflow as tf

from keras_recipes.data.image_stream import ImageSet
from keras_recipes.detection.decode import detections_to_list, yolo_detections
from keras_recipes.detection.targets import xy_scale
from keras_recipes.errors import UserError

DETECTION_FILE = "detection.json"
PREDICT_BATCH = 64


def detect(
    model, images, anchors, image_size, postprocess, score_threshold, xy_scale=1.0
):
    """Returns one dict of boxes, scores and classes per image.

    Args:
        model: The trained detector.
        images: Array `[N, height, width, 3]` of the model's input size, or
            an `ImageSet` giving out `[0, 255]`, read batch by batch.
        anchors: Array `[B, 2]` of the model's anchors in pixels.
        image_size: `(height, width)` of the model input.
        postprocess: The `postprocess` section (`iou_threshold`,
            `max_detections`).
        score_threshold: Smallest score kept.
        xy_scale: How far past its cell a centre reaches, as the model was
            trained (see `detection.targets.xy_scale`). Defaults to `1.0`.

    Returns:
        A list of dicts (`"boxes"` in `"xyxy"` pixels of the input,
        `"scores"`, `"classes"`), best score first.

    Example:

    ```python
    found = detect(model, x_test, data.anchors, (96, 96), config.postprocess, 0.6)
    ```
    """
    if isinstance(images, ImageSet):
        inputs = images.batches(PREDICT_BATCH).prefetch(tf.data.AUTOTUNE)
    else:
        inputs = np.asarray(images, "float32")
    outputs = model.predict(inputs, verbose=0, batch_size=PREDICT_BATCH)
    detections = yolo_detections(
        outputs,
        anchors,
        tuple(image_size),
        score_threshold=score_threshold,
        iou_threshold=postprocess.iou_threshold,
        max_detections=postprocess.max_detections,
        xy_scale=xy_scale,
    )
    return detections_to_list(detections)


def keep_scores(detections, score_threshold):
    """Keeps the detections whose score is at least `score_threshold`.

    Non-max suppression lets a box be suppressed only by a better box of its
    class, so the detections found with a low threshold, cut at a higher
    one, are those the higher threshold finds.

    Args:
        detections: One dict of `"boxes"`, `"scores"` and `"classes"` per
            image, as `detect` returns.
        score_threshold: Smallest score kept.

    Returns:
        The same list with fewer boxes.

    Example:

    ```python
    shown = keep_scores(evaluation.detections[:12], 0.6)
    ```
    """
    threshold = np.float32(score_threshold)
    kept = []
    for found in detections:
        mask = np.asarray(found["scores"], "float32") >= threshold
        kept.append({key: np.asarray(value)[mask] for key, value in found.items()})
    return kept


def detection_info(data, config):
    """Returns what `detection.json` holds: classes, anchors, sizes, thresholds.

    Args:
        data: The run's `YoloData`.
        config: The resolved `YoloConfig`.

    Returns:
        A JSON-ready dict.

    Example:

    ```python
    write_json_atomic(run_dir / DETECTION_FILE, detection_info(data, config))
    ```
    """
    post = config.postprocess
    return {
        "class_names": list(data.class_names),
        "anchors": np.asarray(data.anchors).tolist(),
        "image_size": list(config.data.image_size),
        "grid": list(data.grid),
        "xy_scale": xy_scale(config.model.assignment),
        "letterbox": config.data.letterbox,
        "score_threshold": post.score_threshold,
        "iou_threshold": post.iou_threshold,
        "max_detections": post.max_detections,
    }


def read_detection_info(run_dir):
    """Reads a finished run's `detection.json`.

    Args:
        run_dir: The run directory.

    Returns:
        The dict `detection_info` wrote.

    Example:

    ```python
    anchors = read_detection_info(run_dir)["anchors"]
    ```
    """
    info_file = run_dir / DETECTION_FILE if run_dir else None
    if info_file is None or not info_file.is_file():
        raise UserError(f"{run_dir} has no {DETECTION_FILE}; was the run finished?")
    return json.loads(info_file.read_text())
