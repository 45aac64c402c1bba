import contextlib
import io
import math

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from keras_recipes.detection import evaluate_detections, metrics

NUM_CLASSES = 5
KEYS = ("boxes", "classes", "scores")


def rows(image, *keys):
    return zip(*(image[key] for key in keys), strict=True)


def random_boxes(rng, count):
    corners = rng.uniform(0, 200, size=(count, 2))
    return np.concatenate([corners, corners + rng.uniform(8, 80, (count, 2))], 1)


def random_images(seed, num_images=8, crowded=False):
    """Ground truth and detections with hits, misses, duplicates and clutter."""
    rng = np.random.default_rng(seed)
    noise = rng.uniform(1, 6)
    ground_truth, predictions = [], []
    for image in range(num_images):
        count = rng.integers(0, 7)
        boxes = random_boxes(rng, count)
        classes = rng.integers(NUM_CLASSES - 1, size=count)
        ground_truth.append({"boxes": boxes, "classes": classes})

        copies = np.tile(np.arange(count), 2)
        copies = copies[rng.uniform(size=len(copies)) < 0.6]
        found = boxes[copies] + rng.normal(0, noise, size=(len(copies), 4))
        found[:, 2:] = np.maximum(found[:, 2:], found[:, :2] + 1)
        relabel = rng.uniform(size=len(copies)) < 0.1
        random_classes = rng.integers(NUM_CLASSES, size=len(copies))
        found_classes = np.where(relabel, random_classes, classes[copies])
        if crowded and image == 0:
            # Confident false positives of class 0 go past the 100
            # detections per image and class that COCO counts.
            clutter_classes = np.zeros(130, dtype=int)
            clutter_scores = rng.uniform(0.6, 1, 130)
        else:
            clutter_classes = rng.integers(NUM_CLASSES, size=rng.integers(0, 4))
            clutter_scores = rng.uniform(0, 0.7, len(clutter_classes))
        clutter = random_boxes(rng, len(clutter_classes))
        predictions.append(
            {
                "boxes": np.concatenate([found, clutter]),
                "classes": np.concatenate([found_classes, clutter_classes]),
                "scores": np.concatenate(
                    [rng.uniform(0.3, 1, len(found)), clutter_scores]
                ),
            }
        )
    return ground_truth, predictions


def pycocotools_eval(ground_truth, predictions):
    """pycocotools' COCOeval after `summarize`, class id c as category c + 1."""
    annotations, results = [], []
    images = enumerate(zip(ground_truth, predictions, strict=True), 1)
    for image_id, (truth, predicted) in images:
        for (x1, y1, x2, y2), c in rows(truth, "boxes", "classes"):
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": int(c) + 1,
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "area": (x2 - x1) * (y2 - y1),
                    "iscrowd": 0,
                }
            )
        for (x1, y1, x2, y2), c, score in rows(predicted, *KEYS):
            results.append(
                {
                    "image_id": image_id,
                    "category_id": int(c) + 1,
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "score": float(score),
                }
            )
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = {
            "images": [{"id": i + 1} for i in range(len(ground_truth))],
            "annotations": annotations,
            "categories": [{"id": c + 1} for c in range(NUM_CLASSES)],
        }
        coco.createIndex()
        evaluator = COCOeval(coco, coco.loadRes(results), iouType="bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


def pycocotools_ap(ground_truth, predictions):
    """COCO AP overall and per class id, from pycocotools' COCOeval."""
    evaluator = pycocotools_eval(ground_truth, predictions)
    # precision has axes [iou, recall, class, area range, max detections].
    precision = evaluator.eval["precision"][:, :, :, 0, 2]
    per_class = {
        c: precision[:, :, c].mean()
        for c in range(NUM_CLASSES)
        if np.all(precision[:, :, c] > -1)
    }
    return evaluator.stats[0], per_class


def reference_iou(a, b):
    width = max(min(a[2], b[2]) - max(a[0], b[0]), 0.0)
    height = max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)
    intersection = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    return intersection / (union - intersection)


def reference_voc_points(ground_truth, predictions):
    """Recall and precision after each detection in score order, per class.

    Pascal VOC matching at IoU 0.5, written with plain loops.
    """
    class_ids = sorted({int(c) for truth in ground_truth for c in truth["classes"]})
    points = {}
    for c in class_ids:
        truths, detections = [], []
        images = enumerate(zip(ground_truth, predictions, strict=True))
        for image, (truth, predicted) in images:
            pairs = rows(truth, "boxes", "classes")
            truths.append([list(box) for box, k in pairs if k == c])
            triples = rows(predicted, *KEYS)
            detections += [(s, image, list(box)) for box, k, s in triples if k == c]
        detections.sort(key=lambda detection: -detection[0])
        claimed = [[False] * len(boxes) for boxes in truths]
        total = sum(len(boxes) for boxes in truths)
        recall, precision, hits = [], [], 0
        for rank, (_, image, box) in enumerate(detections, 1):
            best, best_index = -1.0, -1
            for index, truth_box in enumerate(truths[image]):
                overlap = reference_iou(box, truth_box)
                if overlap > best:
                    best, best_index = overlap, index
            if best >= 0.5 and not claimed[image][best_index]:
                claimed[image][best_index] = True
                hits += 1
            recall.append(hits / total)
            precision.append(hits / rank)
        points[c] = recall, precision
    return points


def reference_voc_ap(ground_truth, predictions):
    """Pascal VOC all-point AP at IoU 0.5 per class, written with plain loops."""
    aps = {}
    for c, (recall, precision) in reference_voc_points(
        ground_truth, predictions
    ).items():
        recall = [0.0] + recall + [1.0]
        precision = [0.0] + precision + [0.0]
        for i in range(len(precision) - 2, -1, -1):
            precision[i] = max(precision[i], precision[i + 1])
        aps[c] = sum(
            (recall[i + 1] - recall[i]) * precision[i + 1]
            for i in range(len(recall) - 1)
        )
    return aps


@pytest.mark.parametrize(
    "seed, crowded", [(0, False), (1, False), (2, False), (3, False), (4, True)]
)
def test_map_matches_pycocotools(seed, crowded):
    ground_truth, predictions = random_images(seed, crowded=crowded)
    expected, expected_per_class = pycocotools_ap(ground_truth, predictions)
    result = evaluate_detections(ground_truth, predictions)
    assert 0.05 < expected < 0.95
    assert result["map"] == pytest.approx(expected, abs=1e-3)
    assert result["ap_per_class"].keys() == expected_per_class.keys()
    for c, ap in expected_per_class.items():
        assert result["ap_per_class"][c] == pytest.approx(ap, abs=1e-3)


@pytest.mark.parametrize(
    "seed, crowded", [(0, False), (1, False), (2, False), (3, False), (4, True)]
)
def test_map75_and_ar100_match_pycocotools(seed, crowded):
    ground_truth, predictions = random_images(seed, crowded=crowded)
    stats = pycocotools_eval(ground_truth, predictions).stats
    result = evaluate_detections(ground_truth, predictions)
    assert 0.05 < stats[2] < 0.95 and 0.05 < stats[8] < 0.95
    assert result["map75"] == pytest.approx(stats[2], abs=1e-9)
    assert result["ar100"] == pytest.approx(stats[8], abs=1e-9)


def test_random_cases_cover_crowds_and_classes_without_ground_truth(monkeypatch):
    ground_truth, predictions = random_images(4, crowded=True)
    assert np.sum(predictions[0]["classes"] == 0) > 100
    capped = evaluate_detections(ground_truth, predictions)
    monkeypatch.setattr(metrics, "COCO_MAX_DETECTIONS", 1000)
    uncapped = evaluate_detections(ground_truth, predictions)
    assert uncapped["map"] != capped["map"]
    assert uncapped["map75"] != capped["map75"]
    assert metrics.COCO_IOU_THRESHOLDS[metrics.COCO_AP75_INDEX] == 0.75
    # The last class never has ground truth, but it has detections.
    _, predictions = random_images(0)
    assert any(np.any(predicted["classes"] == 4) for predicted in predictions)


def test_ar100_counts_the_first_100_detections_per_image_and_class(monkeypatch):
    # 100 confident false positives push the one hit of image 0 out of
    # COCO's count; in image 1 the hit comes first.
    clutter = [[100 + i, 100, 110 + i, 110] for i in range(100)]
    truth = [{"boxes": [[0, 0, 10, 10]], "classes": [0]}] * 2
    predicted = [
        {
            "boxes": clutter + [[0, 0, 10, 10]],
            "classes": [0] * 101,
            "scores": [0.9] * 100 + [0.5],
        },
        {"boxes": [[0, 0, 10, 10]], "classes": [0], "scores": [0.5]},
    ]
    result = evaluate_detections(truth, predicted)
    assert result["ar100"] == pytest.approx(0.5)
    assert result["ar100"] == pytest.approx(
        pycocotools_eval(truth, predicted).stats[8], abs=1e-12
    )
    monkeypatch.setattr(metrics, "COCO_MAX_DETECTIONS", 1000)
    assert evaluate_detections(truth, predicted)["ar100"] == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(5, 10))
def test_map50_matches_voc_reference(seed):
    ground_truth, predictions = random_images(seed)
    expected = reference_voc_ap(ground_truth, predictions)
    result = evaluate_detections(ground_truth, predictions)
    assert result["ap50_per_class"].keys() == expected.keys()
    for c, ap in expected.items():
        assert result["ap50_per_class"][c] == pytest.approx(ap, abs=1e-9)
    assert result["map50"] == pytest.approx(np.mean(list(expected.values())))


def interpolated_precision(recall, precision, at):
    """The highest precision at recall `at` or beyond, 0 when out of reach."""
    reached = [p for r, p in zip(recall, precision, strict=True) if r >= at - 1e-12]
    return max(reached, default=0.0)


@pytest.mark.parametrize("seed, crowded", [(5, False), (6, False), (4, True)])
def test_pr_curves_match_a_brute_force_reference(seed, crowded):
    ground_truth, predictions = random_images(seed, crowded=crowded)
    expected = reference_voc_points(ground_truth, predictions)
    result = evaluate_detections(ground_truth, predictions)
    curves = result["pr_curves"]
    assert curves.keys() == expected.keys()
    for c, (recall, precision) in expected.items():
        curve = curves[c]
        assert curve["ap50"] == result["ap50_per_class"][c]
        # One point at recall 0, then one per recall reached, in order.
        reached = sorted(set(recall) - {0.0})
        np.testing.assert_allclose(curve["recall"], [0.0] + reached, atol=1e-12)
        np.testing.assert_allclose(
            curve["precision"],
            [interpolated_precision(recall, precision, r) for r in [0.0] + reached],
            atol=1e-12,
        )
        # Drawn as steps that hold each precision back to the previous recall,
        # the curve is the interpolated precision everywhere.
        for at in np.linspace(0, 1, 201):
            index = np.searchsorted(curve["recall"], at - 1e-12)
            drawn = curve["precision"][index] if index < len(curve["recall"]) else 0
            assert drawn == pytest.approx(
                interpolated_precision(recall, precision, at), abs=1e-12
            )
        area = np.sum(np.diff(curve["recall"]) * curve["precision"][1:])
        assert area == pytest.approx(reference_voc_ap(ground_truth, predictions)[c])


def test_tiny_case_by_hand():
    ground_truth = [
        {"boxes": [[0, 0, 10, 10], [20, 0, 30, 10]], "classes": [0, 0]},
        {"boxes": [[0, 0, 10, 10], [50, 50, 60, 60]], "classes": [0, 1]},
    ]
    predictions = [
        {
            "boxes": [[0, 0, 10, 10], [0, 0, 10, 10], [20, 0, 30, 5]],
            "classes": [0, 0, 0],
            "scores": [0.9, 0.8, 0.6],
        },
        {
            "boxes": [[100, 100, 110, 110], [50, 50, 60, 60], [0, 0, 10, 10]],
            "classes": [0, 1, 2],
            "scores": [0.7, 0.5, 0.95],
        },
    ]
    result = evaluate_detections(ground_truth, predictions)
    # Class 0 in score order: hit, duplicate, clutter, hit at IoU exactly 0.5,
    # one of three boxes missed. Precision 1 up to recall 1/3, then 1/2 up to
    # 2/3, so AP50 = 1/3 + 1/6. Class 2 has no ground truth and is skipped.
    assert result["ap50_per_class"] == pytest.approx({0: 0.5, 1: 1.0})
    assert result["map50"] == pytest.approx(0.75)
    # COCO: 34 of 101 recall points reach precision 1 at every threshold, and
    # at IoU 0.5 also 33 points reach 1/2; class 1 is a perfect match.
    class_0 = (50.5 / 101 + 9 * 34 / 101) / 10
    assert result["ap_per_class"] == pytest.approx({0: class_0, 1: 1.0})
    assert result["map"] == pytest.approx((class_0 + 1) / 2)
    expected, _ = pycocotools_ap(ground_truth, predictions)
    assert result["map"] == pytest.approx(expected, abs=1e-12)
    # At IoU 0.75 the box at IoU 0.5 misses; it is found only at 0.5, so class
    # 0 recalls 2/3 at one threshold and 1/3 at the nine others.
    assert result["map75"] == pytest.approx((34 / 101 + 1) / 2)
    assert result["ar100"] == pytest.approx(((2 + 9) / 30 + 1) / 2)
    stats = pycocotools_eval(ground_truth, predictions).stats
    assert result["map75"] == pytest.approx(stats[2], abs=1e-12)
    assert result["ar100"] == pytest.approx(stats[8], abs=1e-12)
    # Class 0 in score order reaches recall 1/3 at precision 1 and 2/3 at 1/2.
    curves = result["pr_curves"]
    assert curves.keys() == {0, 1}
    np.testing.assert_allclose(curves[0]["recall"], [0, 1 / 3, 2 / 3])
    np.testing.assert_allclose(curves[0]["precision"], [1, 1, 1 / 2])
    np.testing.assert_allclose(curves[1]["recall"], [0, 1])
    np.testing.assert_allclose(curves[1]["precision"], [1, 1])
    assert curves[0]["ap50"] == pytest.approx(0.5)


def test_voc_and_coco_match_a_second_detection_differently():
    # The second detection overlaps the claimed box most (IoU 0.905) and the
    # other box by 0.739. VOC counts it as a duplicate; COCO matches it to the
    # other box at thresholds up to 0.70.
    truth = [{"boxes": [[0, 0, 10, 10], [2, 0, 12, 10]], "classes": [0, 0]}]
    predicted = [
        {
            "boxes": [[0, 0, 10, 10], [0.5, 0, 10.5, 10]],
            "classes": [0, 0],
            "scores": [0.9, 0.8],
        }
    ]
    result = evaluate_detections(truth, predicted)
    assert result["map50"] == pytest.approx(0.5)
    assert result["map"] == pytest.approx((5 + 5 * 51 / 101) / 10)
    assert result["map"] == pytest.approx(pycocotools_ap(truth, predicted)[0])


def test_missing_predictions_score_zero_and_missing_truth_is_nan():
    truth = [{"boxes": [[0, 0, 5, 5]], "classes": [3]}]
    nothing = [{"boxes": np.zeros((0, 4)), "classes": [], "scores": []}]
    result = evaluate_detections(truth, nothing)
    curve = result.pop("pr_curves")[3]
    assert result == {
        "map50": 0.0,
        "map": 0.0,
        "map75": 0.0,
        "ar100": 0.0,
        "ap50_per_class": {3: 0.0},
        "ap_per_class": {3: 0.0},
    }
    assert curve["recall"].tolist() == curve["precision"].tolist() == [0.0]
    assert curve["ap50"] == 0.0
    predicted = [{"boxes": [[0, 0, 5, 5]], "classes": [3], "scores": [0.5]}]
    empty = [{"boxes": [], "classes": []}]
    result = evaluate_detections(empty, predicted)
    for key in ("map50", "map", "map75", "ar100"):
        assert math.isnan(result[key])
    assert result["ap50_per_class"] == result["ap_per_class"] == {}
    assert result["pr_curves"] == {}


def test_evaluate_detections_rejects_bad_input():
    truth = [{"boxes": [[0, 0, 5, 5]], "classes": [1]}]
    predicted = [{"boxes": [[0, 0, 5, 5]], "classes": [1], "scores": [0.5]}]
    with pytest.raises(ValueError, match="len\\(predictions\\)=2"):
        evaluate_detections(truth, predicted * 2)
    with pytest.raises(ValueError, match=r"predictions\[0\] without \['scores'\]"):
        evaluate_detections(truth, truth)
    with pytest.raises(ValueError, match=r"\['boxes'\].shape=\(3,\)"):
        evaluate_detections([{"boxes": [0, 0, 5], "classes": [1]}], predicted)
    with pytest.raises(ValueError, match=r"\['scores'\].shape=\(2,\) for 1 boxes"):
        evaluate_detections(truth, [dict(predicted[0], scores=[0.5, 0.1])])
    with pytest.raises(ValueError, match="Received: ground_truth of type dict"):
        evaluate_detections(truth[0], predicted)
