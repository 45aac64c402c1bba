"""The vectorized `TripletLoss` against loop implementations, at batch 256.

For each mining mode and distance, the same batch (256 unit embeddings of 128
dimensions, 32 identities x 8 images, as a P x K sampler gives) is scored by:

- python loop: loops over anchors, positives and negatives, one triplet at a
  time (how the loss reads in the FaceNet paper, and the tests' reference);
- anchor loop: a loop over anchors, NumPy over that anchor's negatives;
- dense: every (a, p, n) triplet as one [B, B, B] tensor, the textbook
  vectorization, compiled with `tf.function`;
- package: `keras_recipes.losses.TripletLoss`, which sorts each anchor's
  negatives and binary-searches them, O(B^2 log B), compiled with
  `tf.function`.

The ratios compare the loss value alone, the same work for all four; the
last column is the package's value and gradient, what a training step runs
(the loops have no gradient). All give the same value (checked to 1e-5). It
prints milliseconds per call and the ratios to the package's time, measured
in this one run, and as its result the smallest ratio of the fastest other
implementation to the package over the six settings.

    python benchmarks/triplet_loss_vectorized.py [--batch 256] [--repeats 20]
        [--quick]
"""

import argparse
import functools
import itertools
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_recipes.losses import TripletLoss, pairwise_distances  # noqa: E402

MINING_MODES = ("batch_all", "batch_hard", "semi_hard")
DISTANCES = ("squared_euclidean", "euclidean")
MARGIN = 0.2


def _distance_matrix(embeddings, distance):
    squared = np.sum((embeddings[:, None] - embeddings[None]) ** 2, axis=-1)
    return squared if distance == "squared_euclidean" else np.sqrt(squared)


def python_loop_loss(labels, embeddings, mining, distance):
    """One triplet at a time, in Python."""
    d = _distance_matrix(embeddings, distance).tolist()
    labels = labels.tolist()
    size = len(labels)
    losses = []
    for a in range(size):
        positives = [p for p in range(size) if p != a and labels[p] == labels[a]]
        negatives = [n for n in range(size) if labels[n] != labels[a]]
        if mining == "batch_all":
            for p, n in itertools.product(positives, negatives):
                loss = d[a][p] - d[a][n] + MARGIN
                if loss > 0:
                    losses.append(loss)
        elif mining == "batch_hard":
            if positives and negatives:
                hardest = max(d[a][p] for p in positives)
                nearest = min(d[a][n] for n in negatives)
                losses.append(max(hardest - nearest + MARGIN, 0.0))
        else:
            for p in positives:
                farther = [d[a][n] for n in negatives if d[a][n] > d[a][p]]
                negative = min(farther) if farther else max(d[a][n] for n in negatives)
                losses.append(max(d[a][p] - negative + MARGIN, 0.0))
    return sum(losses) / len(losses) if losses else 0.0


def anchor_loop_loss(labels, embeddings, mining, distance):
    """A loop over anchors, NumPy over each anchor's items."""
    total, count = 0.0, 0
    for anchor in range(len(labels)):
        difference = embeddings - embeddings[anchor]
        distances = np.sum(difference * difference, axis=1)
        if distance == "euclidean":
            distances = np.sqrt(distances)
        same = labels == labels[anchor]
        same[anchor] = False
        positives, negatives = distances[same], distances[labels != labels[anchor]]
        if mining == "batch_all":
            for positive in positives:
                losses = np.maximum(positive - negatives + MARGIN, 0.0)
                total += losses.sum()
                count += int(np.count_nonzero(losses > 0))
        elif mining == "batch_hard":
            total += max(positives.max() - negatives.min() + MARGIN, 0.0)
            count += 1
        else:
            for positive in positives:
                farther = negatives[negatives > positive]
                negative = farther.min() if len(farther) else negatives.max()
                total += max(positive - negative + MARGIN, 0.0)
                count += 1
    return total / count if count else 0.0


def dense_loss(labels, embeddings, mining, distance):
    """Every (a, p, n) triplet as one [B, B, B] tensor (batch_all, semi_hard)."""
    d = pairwise_distances(embeddings, squared=distance == "squared_euclidean")
    same = tf.equal(labels[:, None], labels[None, :])
    positives = tf.logical_and(same, tf.logical_not(tf.eye(len(labels), dtype=bool)))
    negatives = tf.logical_not(same)
    if mining == "batch_all":
        margins = d[:, :, None] - d[:, None, :] + MARGIN
        valid = tf.logical_and(positives[:, :, None], negatives[:, None, :])
        losses = tf.where(valid, tf.nn.relu(margins), 0.0)
        count = tf.reduce_sum(tf.cast(losses > 0, losses.dtype))
        return tf.math.divide_no_nan(tf.reduce_sum(losses), count)
    farther = tf.logical_and(negatives[:, None, :], d[:, None, :] > d[:, :, None])
    fill = tf.stop_gradient(tf.reduce_max(d)) + 1.0
    nearest = tf.reduce_min(tf.where(farther, d[:, None, :], fill), axis=2)
    farthest = tf.reduce_max(tf.where(negatives, d, 0.0), axis=1)
    chosen = tf.where(tf.reduce_any(farther, axis=2), nearest, farthest[:, None])
    losses = tf.where(positives, tf.nn.relu(d - chosen + MARGIN), 0.0)
    return tf.reduce_sum(losses) / tf.reduce_sum(tf.cast(positives, losses.dtype))


def per_call(function, repeats):
    function()  # warm-up (and tracing)
    started = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - started) / repeats


def compiled_value(loss_fn, labels, variable):
    return tf.function(lambda: loss_fn(labels, variable))


def compiled_value_and_gradient(loss_fn, labels, variable):
    @tf.function
    def step():
        with tf.GradientTape() as tape:
            value = loss_fn(labels, variable)
        return value, tape.gradient(value, variable)

    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256, help="embeddings per batch")
    parser.add_argument("--identities", type=int, default=32, help="P")
    parser.add_argument("--dim", type=int, default=128, help="embedding size")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="5 repeats")
    args = parser.parse_args()
    if args.quick:
        args.repeats = 5
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(args.identities), args.batch // args.identities)
    embeddings = rng.normal(size=(len(labels), args.dim))
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    labels_tensor = tf.constant(labels)
    variable = tf.Variable(embeddings.astype("float32"))
    print(
        f"batch {len(labels)} ({args.identities} identities x "
        f"{args.batch // args.identities}), dim {args.dim}; ms per call"
    )
    print(
        f"{'mining':10s} {'distance':17s} {'python':>8s} {'anchor':>7s} "
        f"{'dense':>7s} {'package':>7s}  python/pkg anchor/pkg dense/pkg "
        f"pkg+grad"
    )
    speedups = []
    for mining, distance in itertools.product(MINING_MODES, DISTANCES):
        loss = TripletLoss(margin=MARGIN, mining=mining, distance=distance)
        package = compiled_value(loss, labels_tensor, variable)
        training = compiled_value_and_gradient(loss, labels_tensor, variable)
        expected = python_loop_loss(labels, embeddings, mining, distance)
        for value in (
            float(package()),
            anchor_loop_loss(labels, embeddings, mining, distance),
        ):
            if abs(value - expected) > 1e-5:
                raise AssertionError(f"{mining}/{distance}: {value} != {expected}")
        slow_repeats = max(1, args.repeats // 10)
        times = {
            "python": per_call(
                functools.partial(
                    python_loop_loss, labels, embeddings, mining, distance
                ),
                slow_repeats,
            ),
            "anchor": per_call(
                functools.partial(
                    anchor_loop_loss, labels, embeddings, mining, distance
                ),
                slow_repeats,
            ),
            "package": per_call(package, args.repeats),
            "training": per_call(training, args.repeats),
        }
        if mining != "batch_hard":  # batch_hard needs no triplet tensor
            dense = compiled_value(
                functools.partial(dense_loss, mining=mining, distance=distance),
                labels_tensor,
                variable,
            )
            if abs(float(dense()) - expected) > 1e-5:
                raise AssertionError(f"dense {mining}/{distance} differs")
            times["dense"] = per_call(dense, args.repeats)
        ms = {k: 1000 * v for k, v in times.items()}
        dense_ms = f"{ms['dense']:7.2f}" if "dense" in ms else f"{'-':>7s}"
        dense_ratio = (
            f"{times['dense'] / times['package']:8.1f}x"
            if "dense" in ms
            else f"{'-':>9s}"
        )
        print(
            f"{mining:10s} {distance:17s} {ms['python']:8.1f} {ms['anchor']:7.2f} "
            f"{dense_ms} {ms['package']:7.2f}  "
            f"{times['python'] / times['package']:9.0f}x "
            f"{times['anchor'] / times['package']:9.1f}x {dense_ratio} "
            f"{ms['training']:8.2f}"
        )
        others = [times[k] for k in ("python", "anchor", "dense") if k in times]
        speedups.append(min(others) / times["package"])
    print(f"RESULT name=triplet_loss_vectorized ratio={min(speedups):.1f} target=>1")


if __name__ == "__main__":
    main()
