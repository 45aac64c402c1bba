"""Decoding plus per-class NMS: `yolo_detections` against plain NumPy.

Both turn the same raw YOLO outputs (a 12x12 grid, 3 anchors, 3 classes, as
the `yolo` recipe's shipped config) into final detections with the same
steps: decode boxes, score = Pc x class probability, drop scores below the
threshold, greedy non-max suppression within each class, best 100 kept. The
NumPy side is the straightforward implementation: vectorised decoding, then
a Python loop per image and class over the sorted candidates. The outputs
are those of a detector part way through training (most slots confident
background, a few objects found by several anchors), drawn at random. The
two results are checked to agree, then images per second and their ratio
are printed for the evaluation threshold (0.01, many candidates) and the
deployment one (0.6).

    python benchmarks/detection_decode_nms.py [--images 512] [--repeats 5] [--quick]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_recipes.detection import detections_to_list, yolo_detections  # noqa: E402

ANCHORS = np.array([[15.5, 15.8], [34.6, 18.0], [18.2, 34.4]], "float32")
SIZE = (96, 96)
MAX_DETECTIONS = 100
IOU_THRESHOLD = 0.5


def random_outputs(count, seed=0):
    rng = np.random.default_rng(seed)
    outputs = rng.normal(0, 1, size=(count, 12, 12, 3, 8)).astype("float32")
    outputs[..., 0] = rng.normal(-5, 2, size=outputs.shape[:-1])
    objects = rng.uniform(size=outputs.shape[:-1]) < 0.04
    outputs[..., 0][objects] = rng.normal(3, 1.5, size=objects.sum())
    outputs[..., 5:] *= 3
    return outputs


def numpy_detections(outputs, score_threshold):
    """The same steps in NumPy, one image and one class at a time."""
    batch, rows, columns, count, _ = outputs.shape
    sigmoid = 1 / (1 + np.exp(-outputs[..., :3]))
    x = (np.arange(columns)[None, None, :, None] + sigmoid[..., 1]) / columns * SIZE[1]
    y = (np.arange(rows)[None, :, None, None] + sigmoid[..., 2]) / rows * SIZE[0]
    wh = np.exp(np.clip(outputs[..., 3:5], -10, 10)) * ANCHORS
    boxes = np.stack(
        [
            x - wh[..., 0] / 2,
            y - wh[..., 1] / 2,
            x + wh[..., 0] / 2,
            y + wh[..., 1] / 2,
        ],
        -1,
    )
    boxes = np.clip(boxes, 0, [SIZE[1], SIZE[0]] * 2).reshape(batch, -1, 4)
    logits = outputs[..., 5:] - outputs[..., 5:].max(-1, keepdims=True)
    probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    scores = (sigmoid[..., :1] * probabilities).reshape(
        batch, -1, outputs.shape[-1] - 5
    )
    results = []
    for image_boxes, image_scores in zip(boxes, scores, strict=True):
        areas = np.prod(image_boxes[:, 2:] - image_boxes[:, :2], axis=1)
        found = []
        for label in range(image_scores.shape[1]):
            candidates = np.flatnonzero(image_scores[:, label] >= score_threshold)
            order = candidates[
                np.argsort(-image_scores[candidates, label], kind="stable")
            ]
            kept = []
            while len(order) and len(kept) < MAX_DETECTIONS:
                best, order = order[0], order[1:]
                kept.append(best)
                top_left = np.maximum(image_boxes[best, :2], image_boxes[order, :2])
                bottom_right = np.minimum(image_boxes[best, 2:], image_boxes[order, 2:])
                inter = np.prod(np.maximum(bottom_right - top_left, 0), axis=1)
                iou = inter / (areas[best] + areas[order] - inter)
                order = order[iou < IOU_THRESHOLD]
            found += [(image_scores[i, label], label, i) for i in kept]
        found.sort(key=lambda item: -item[0])
        found = found[:MAX_DETECTIONS]
        results.append(
            {
                "boxes": image_boxes[[i for _, _, i in found]].reshape(-1, 4),
                "scores": np.array([s for s, _, _ in found], "float32"),
                "classes": np.array([c for _, c, _ in found], "int32"),
            }
        )
    return results


def best_time(function, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="128 images, 2 runs")
    args = parser.parse_args()
    if args.quick:
        args.images, args.repeats = 128, 2
    outputs = random_outputs(args.images)
    print(
        f"{args.images} images, grid 12x12, 3 anchors, 3 classes; best of "
        f"{args.repeats} runs"
    )
    for threshold in (0.01, 0.6):
        detect = tf.function(
            lambda batch, threshold=threshold: yolo_detections(
                batch, ANCHORS, SIZE, threshold, IOU_THRESHOLD, MAX_DETECTIONS
            )
        )
        batch = tf.constant(outputs)
        ours = detections_to_list(detect(batch))  # also traces the graph
        plain = numpy_detections(outputs, threshold)
        for a, b in zip(ours, plain, strict=True):
            assert len(a["scores"]) == len(b["scores"])
            np.testing.assert_allclose(a["scores"], b["scores"], rtol=1e-4, atol=1e-6)
        seconds_tf = best_time(
            lambda detect=detect, batch=batch: detections_to_list(detect(batch)),
            args.repeats,
        )
        seconds_np = best_time(
            lambda threshold=threshold: numpy_detections(outputs, threshold),
            args.repeats,
        )
        count = sum(len(a["scores"]) for a in ours) / len(ours)
        print(
            f"score >= {threshold}: {count:.1f} detections per image; "
            f"yolo_detections {args.images / seconds_tf:,.0f} images/s, NumPy "
            f"{args.images / seconds_np:,.0f} images/s, ratio "
            f"{seconds_np / seconds_tf:.1f}x"
        )
        print(
            f"RESULT name=detection_decode_nms_score_{threshold} "
            f"ratio={seconds_np / seconds_tf:.1f} target=>1"
        )


if __name__ == "__main__":
    main()
