"""Anchor box shapes chosen by k-means clustering with an IoU distance."""

import numpy as np

_RESTARTS = 5
_MAX_ITERATIONS = 300


def kmeans_anchors(box_wh, k, seed=0):
    """Clusters box shapes into `k` anchors with `1 - IoU` as the distance.

    Boxes are compared by shape only, as if they shared a corner, so the IoU of
    two shapes is `min(w) * min(h) / (w1 * h1 + w2 * h2 - min(w) * min(h))`.
    The algorithm is Lloyd's k-means with k-means++ seeding, run from five
    starts; the anchors with the highest mean IoU of each box with its best
    anchor win.

    Args:
        box_wh: Array of shape `[N, 2]` holding positive box widths and heights.
        k: Number of anchors, at most the number of distinct shapes in `box_wh`.
        seed: Seed of the random number generator. Defaults to `0`.

    Returns:
        A NumPy array of shape `[k, 2]`: anchor widths and heights, sorted by
        increasing area.

    Example:

    >>> box_wh = np.array([[10, 12], [11, 10], [50, 60], [52, 58]])
    >>> kmeans_anchors(box_wh, k=2)
    array([[10.5, 11. ],
           [51. , 59. ]])
    """
    box_wh = np.asarray(box_wh, dtype="float64")
    if box_wh.ndim != 2 or box_wh.shape[1] != 2 or len(box_wh) == 0:
        raise ValueError(
            "`box_wh` must have shape [N, 2] with N > 0. "
            f"Received: box_wh.shape={box_wh.shape}"
        )
    valid = np.all(np.isfinite(box_wh) & (box_wh > 0), axis=1)
    if not np.all(valid):
        bad = box_wh[~valid][0]
        raise ValueError(
            "`box_wh` must hold positive, finite widths and heights. "
            f"Received: a box with (w, h)={tuple(bad.tolist())}"
        )
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"`k` must be a positive integer. Received: k={k!r}")
    num_shapes = len(np.unique(box_wh, axis=0))
    if k > num_shapes:
        raise ValueError(
            f"`k` must not exceed the {num_shapes} distinct box shapes in "
            f"`box_wh`. Received: k={k}"
        )

    rng = np.random.default_rng(seed)
    best_anchors, best_fit = None, -1.0
    for _ in range(_RESTARTS):
        anchors = _lloyd(box_wh, _kmeans_plus_plus(box_wh, k, rng))
        fit = _shape_iou(box_wh, anchors).max(axis=1).mean()
        if fit > best_fit:
            best_anchors, best_fit = anchors, fit
    return best_anchors[np.argsort(np.prod(best_anchors, axis=1), kind="stable")]


def _shape_iou(wh1, wh2):
    intersection = np.prod(np.minimum(wh1[:, None], wh2[None]), axis=-1)
    union = np.prod(wh1, axis=1)[:, None] + np.prod(wh2, axis=1)[None] - intersection
    return intersection / union


def _kmeans_plus_plus(box_wh, k, rng):
    centers = [box_wh[rng.integers(len(box_wh))]]
    for _ in range(k - 1):
        distance = 1 - _shape_iou(box_wh, np.array(centers)).max(axis=1)
        weights = np.square(np.maximum(distance, 0))
        if weights.sum() == 0:
            weights = np.ones(len(box_wh))
        centers.append(box_wh[rng.choice(len(box_wh), p=weights / weights.sum())])
    return np.array(centers)


def _lloyd(box_wh, anchors):
    assignment = None
    for _ in range(_MAX_ITERATIONS):
        iou = _shape_iou(box_wh, anchors)
        new_assignment = iou.argmax(axis=1)
        if assignment is not None and np.array_equal(assignment, new_assignment):
            break
        assignment = new_assignment
        fit = iou.max(axis=1)
        for cluster in range(len(anchors)):
            members = box_wh[assignment == cluster]
            if len(members):
                anchors[cluster] = members.mean(axis=0)
            else:
                # An empty cluster restarts at the worst fitted shape, which
                # then cannot restart another empty cluster.
                worst = fit.argmin()
                anchors[cluster] = box_wh[worst]
                fit[worst] = np.inf
    return anchors
