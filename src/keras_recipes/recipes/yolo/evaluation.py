"""Measuring a trained `yolo` model: mAP on the held-out images."""

import dataclasses

from keras_recipes.detection.metrics import evaluate_detections
from keras_recipes.detection.targets import xy_scale
from keras_recipes.recipes.yolo.detect import detect, keep_scores
from keras_recipes.training import Evaluation


@dataclasses.dataclass
class YoloEvaluation(Evaluation):
    """What `yolo` evaluation measured, and the detections it measured.

    Attributes:
        detections: One dict of `"boxes"`, `"scores"` and `"classes"` per
            test image, kept from `score_threshold` up; `keep_scores` cuts
            them at any higher threshold.
        score_threshold: The smallest score in `detections`: the lower of
            `postprocess.eval_score_threshold` and `score_threshold`.
        pr_curves: Per class id, the `"recall"` and `"precision"` of the
            interpolated precision-recall curve at IoU 0.5 and its `"ap50"`.
    """

    detections: list = dataclasses.field(default_factory=list)
    score_threshold: float = 0.0
    pr_curves: dict = dataclasses.field(default_factory=dict)


def evaluate_detector(model, data, config):
    """Returns the validation loss, mAP and per-class AP on the test images.

    The test images are detected once, down to the lower of the two score
    thresholds: mAP uses those from `postprocess.eval_score_threshold` up,
    and the figures those from `postprocess.score_threshold` up.

    Args:
        model: The trained detector.
        data: The run's `YoloData`.
        config: The resolved `YoloConfig`.

    Returns:
        A `YoloEvaluation`; its `metrics` hold `map50` (Pascal VOC), `map`
        (COCO AP50:95), `map75` and `ar100` (COCO), `ap50_<class>`,
        `test_images`, `test_boxes` and, with a validation set, `val_loss`.

    Example:

    ```python
    evaluation = evaluate_detector(model, data, config)
    print(evaluation.metrics["map50"])
    ```
    """
    post = config.postprocess
    metrics = {}
    if data.validation is not None:
        metrics["val_loss"] = float(model.evaluate(data.validation, verbose=0))
    lowest = min(post.eval_score_threshold, post.score_threshold)
    detections = detect(
        model,
        data.test_images,
        data.anchors,
        config.data.image_size,
        post,
        lowest,
        xy_scale(config.model.assignment),
    )
    result = evaluate_detections(
        data.test_annotations, keep_scores(detections, post.eval_score_threshold)
    )
    for name in ("map50", "map", "map75", "ar100"):
        metrics[name] = result[name]
    for index, name in enumerate(data.class_names):
        if index in result["ap50_per_class"]:
            metrics[f"ap50_{name}"] = result["ap50_per_class"][index]
    metrics["test_images"] = len(data.test_images)
    metrics["test_boxes"] = int(sum(len(y["classes"]) for y in data.test_annotations))
    return YoloEvaluation(
        metrics,
        detections=detections,
        score_threshold=lowest,
        pr_curves=result["pr_curves"],
    )
