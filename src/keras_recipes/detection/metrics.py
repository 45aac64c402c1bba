"""Mean average precision of detections, Pascal VOC and COCO style."""

import numpy as np
from keras import ops

from keras_recipes.detection.iou import box_iou

COCO_IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
COCO_RECALL_POINTS = np.linspace(0.0, 1.0, 101)
COCO_MAX_DETECTIONS = 100
COCO_AP75_INDEX = int(np.argmin(np.abs(COCO_IOU_THRESHOLDS - 0.75)))
VOC_IOU_THRESHOLD = 0.5


def evaluate_detections(ground_truth, predictions):
    """Computes Pascal VOC and COCO mean average precision (mAP) and recall.

    `map50` is the Pascal VOC (2010 and later) AP at IoU 0.5 with all-point
    interpolation: detections are taken in decreasing score order, each is
    matched to the ground truth box of its class it overlaps most, and counts
    as a true positive when that IoU is at least 0.5 and the box was not
    matched before. There is no "difficult" flag: every box counts.

    `map` is the COCO AP, the mean over IoU thresholds 0.50:0.05:0.95 of the
    101-point interpolated AP, with the rules of pycocotools' `COCOeval` for
    boxes, area range "all" and at most 100 detections per image and class:
    each detection, in decreasing score order, takes the not yet matched
    ground truth box with the highest IoU at or above the threshold. There is
    no "crowd" flag. `map75` is that AP at the single threshold 0.75 (the
    `stats[2]` of `COCOeval`), and `ar100` the COCO average recall with at
    most 100 detections per image and class, averaged over the same ten
    thresholds (`stats[8]`).

    All are means over the classes that have ground truth boxes; detections
    of other classes are ignored. Equal scores keep their input order.

    `pr_curves` holds, per class, the curve behind `ap50_per_class`: the
    recall after each true positive in score order, starting from recall 0,
    and the interpolated precision there (the highest precision at that
    recall or beyond). Drawn as steps that hold each precision back to the
    previous recall (matplotlib's `drawstyle="steps-pre"`), the area under
    it is the class's AP50. It has at most one point more than the class has
    ground truth boxes.

    Args:
        ground_truth: List with one dict per image holding `"boxes"`, shape
            `[N, 4]` in `"xyxy"` pixels, and `"classes"`, shape `[N]`.
        predictions: List with one dict per image, in the same order, holding
            `"boxes"`, `"classes"` and `"scores"`, each with `M` rows.

    Returns:
        A dict with `"map50"`, `"map"`, `"map75"` and `"ar100"` (floats, NaN
        when there is no ground truth box at all), `"ap50_per_class"` and
        `"ap_per_class"` (dicts from class id to AP) and `"pr_curves"` (a
        dict from class id to a dict with `"recall"` and `"precision"`,
        float arrays of equal length, and `"ap50"`).

    Example:

    >>> truth = [{"boxes": [[0, 0, 10, 10], [20, 20, 30, 30]], "classes": [0, 1]}]
    >>> predicted = [{"boxes": [[0, 0, 10, 9], [50, 50, 60, 60]],
    ...               "classes": [0, 1], "scores": [0.9, 0.8]}]
    >>> result = evaluate_detections(truth, predicted)
    >>> result["map50"], result["ap50_per_class"]
    (0.5, {0: 1.0, 1: 0.0})
    >>> round(result["map75"], 6), round(result["ar100"], 6)
    (0.5, 0.45)
    >>> result["pr_curves"][0]
    {'recall': array([0., 1.]), 'precision': array([1., 1.]), 'ap50': 1.0}
    """
    ground_truth = _standardize(ground_truth, "ground_truth", ("boxes", "classes"))
    predictions = _standardize(
        predictions, "predictions", ("boxes", "classes", "scores")
    )
    if len(ground_truth) != len(predictions):
        raise ValueError(
            "`ground_truth` and `predictions` must hold one dict per image each. "
            f"Received: len(ground_truth)={len(ground_truth)}, "
            f"len(predictions)={len(predictions)}"
        )
    all_classes = [truth["classes"] for truth in ground_truth]
    class_ids = np.unique(np.concatenate(all_classes)) if all_classes else []
    class_ids = [c.item() for c in class_ids]
    num_truths = dict.fromkeys(class_ids, 0)
    voc = {c: ([], []) for c in class_ids}
    coco = {c: ([], []) for c in class_ids}

    for truth, predicted in zip(ground_truth, predictions, strict=True):
        ious = _iou_matrix(predicted["boxes"], truth["boxes"])
        for c in class_ids:
            truth_index = np.flatnonzero(truth["classes"] == c)
            index = np.flatnonzero(predicted["classes"] == c)
            index = index[np.argsort(-predicted["scores"][index], kind="stable")]
            class_ious = ious[np.ix_(index, truth_index)]
            scores = predicted["scores"][index]
            num_truths[c] += len(truth_index)
            voc[c][0].append(scores)
            voc[c][1].append(_voc_matches(class_ious))
            top = slice(COCO_MAX_DETECTIONS)
            coco[c][0].append(scores[top])
            coco[c][1].append(_coco_matches(class_ious[top]))

    ap50, ap, ap75, ar, curves = {}, {}, {}, {}, {}
    for c, n in num_truths.items():
        recall, precision, ap50[c] = _voc_curve(
            np.concatenate(voc[c][0]), np.concatenate(voc[c][1]), n
        )
        curves[c] = {"recall": recall, "precision": precision, "ap50": ap50[c]}
        scores, hits = np.concatenate(coco[c][0]), np.concatenate(coco[c][1], 1)
        sampled = _coco_precision(scores, hits, n)
        ap[c] = float(sampled.mean())
        ap75[c] = float(sampled[COCO_AP75_INDEX].mean())
        ar[c] = float(np.mean(hits.sum(axis=1) / n))
    return {
        "map50": _mean(ap50),
        "map": _mean(ap),
        "map75": _mean(ap75),
        "ar100": _mean(ar),
        "ap50_per_class": ap50,
        "ap_per_class": ap,
        "pr_curves": curves,
    }


def _mean(per_class):
    return float(np.mean(list(per_class.values()))) if per_class else float("nan")


def _standardize(images, name, keys):
    if not isinstance(images, (list, tuple)):
        raise ValueError(
            f"`{name}` must be a list with one dict per image. "
            f"Received: {name} of type {type(images).__name__}"
        )
    standardized = []
    for i, image in enumerate(images):
        missing = [key for key in keys if key not in image]
        if missing:
            raise ValueError(
                f"Each dict in `{name}` must have the keys {keys}. "
                f"Received: {name}[{i}] without {missing}"
            )
        arrays = {key: np.asarray(image[key]) for key in keys}
        arrays["boxes"] = arrays["boxes"].astype("float64")
        if arrays["classes"].size == 0:
            arrays["classes"] = arrays["classes"].astype("int64")
        if "scores" in arrays:
            arrays["scores"] = arrays["scores"].astype("float64")
        if arrays["boxes"].size == 0:
            arrays["boxes"] = arrays["boxes"].reshape(0, 4)
        if arrays["boxes"].ndim != 2 or arrays["boxes"].shape[1] != 4:
            raise ValueError(
                f"Boxes must have shape [N, 4]. "
                f"Received: {name}[{i}]['boxes'].shape={arrays['boxes'].shape}"
            )
        for key in keys[1:]:
            if arrays[key].shape != (len(arrays["boxes"]),):
                raise ValueError(
                    f"`{key}` must have one entry per box. Received: "
                    f"{name}[{i}]['{key}'].shape={arrays[key].shape} for "
                    f"{len(arrays['boxes'])} boxes"
                )
        standardized.append(arrays)
    return standardized


def _iou_matrix(boxes1, boxes2):
    if len(boxes1) == 0 or len(boxes2) == 0:
        return np.zeros((len(boxes1), len(boxes2)))
    return ops.convert_to_numpy(box_iou(boxes1, boxes2))


def _voc_matches(ious):
    """Flags the true positives among detections sorted by score (VOC rule)."""
    hits = np.zeros(len(ious), dtype=bool)
    if ious.shape[1] == 0:
        return hits
    claimed = np.zeros(ious.shape[1], dtype=bool)
    for d, t in enumerate(ious.argmax(axis=1)):
        if ious[d, t] >= VOC_IOU_THRESHOLD and not claimed[t]:
            hits[d] = claimed[t] = True
    return hits


def _coco_matches(ious):
    """Flags true positives per COCO threshold, shape `[T, D]` (COCO rule)."""
    thresholds = COCO_IOU_THRESHOLDS[:, None]
    hits = np.zeros((len(thresholds), len(ious)), dtype=bool)
    num_truths = ious.shape[1]
    if num_truths == 0:
        return hits
    claimed = np.zeros((len(thresholds), num_truths), dtype=bool)
    rows = np.arange(len(thresholds))
    for d, row in enumerate(ious):
        candidates = np.where(claimed | (row < thresholds), -1.0, row)
        # pycocotools keeps the last of several equally good ground truths.
        best = num_truths - 1 - np.argmax(candidates[:, ::-1], axis=1)
        matched = candidates[rows, best] >= 0
        hits[matched, d] = True
        claimed[rows[matched], best[matched]] = True
    return hits


def _voc_curve(scores, hits, num_truths):
    """Returns the interpolated PR curve at the true positives, and the AP."""
    hits = hits[np.argsort(-scores, kind="stable")]
    true_positives = np.cumsum(hits)
    recall = np.concatenate([[0.0], true_positives / num_truths, [1.0]])
    precision = true_positives / np.arange(1, len(hits) + 1)
    precision = np.concatenate([[0.0], precision, [0.0]])
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    ap = float(np.sum(np.diff(recall) * envelope[1:]))
    # Between true positives the recall stands still: those points add
    # nothing to the curve or its area.
    steps = np.concatenate([[0], np.flatnonzero(hits) + 1])
    return recall[steps], envelope[steps], ap


def _coco_precision(scores, hits, num_truths):
    """Interpolated precision at the 101 recall points, shape `[T, 101]`."""
    sampled = np.zeros((len(hits), len(COCO_RECALL_POINTS)))
    if len(scores) == 0:
        return sampled
    hits = hits[:, np.argsort(-scores, kind="stable")]
    true_positives = np.cumsum(hits, axis=1)
    false_positives = np.cumsum(~hits, axis=1)
    recall = true_positives / num_truths
    # The epsilon is pycocotools' own, kept so the results agree to the bit.
    precision = true_positives / (true_positives + false_positives + np.spacing(1))
    envelope = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
    for t in range(len(hits)):
        index = np.searchsorted(recall[t], COCO_RECALL_POINTS, side="left")
        found = index < len(scores)
        sampled[t, found] = envelope[t, index[found]]
    return sampled
