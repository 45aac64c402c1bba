"""Face verification scores: ROC, AUC, EER, VAL@FAR and a distance threshold.

A pair is accepted as "same identity" when the distance between its two
embeddings is at most a threshold. Over a set of labelled pairs:

- the true accept rate (TAR, facenet's "validation rate" VAL) is the fraction
  of same-identity pairs accepted;
- the false accept rate (FAR) is the fraction of different-identity pairs
  accepted;
- the ROC curve is TAR against FAR as the threshold grows, and its area (AUC)
  is the probability that a random same-identity pair is closer than a random
  different-identity pair (ties count one half);
- the equal error rate (EER) is where FAR equals the false reject rate
  1 - TAR.

Reference:
    [Schroff et al., 2015](https://arxiv.org/abs/1503.03832), section 4.1.
"""

import numpy as np

DISTANCES = ("squared_euclidean", "euclidean")
_PAIR_CHUNK = 1024


def pair_distances(embeddings, first, second, distance="squared_euclidean"):
    """Returns the distance between the two embeddings of each pair.

    Args:
        embeddings: Array `[N, D]`; images that are not embeddings (raw
            pixels) are flattened.
        first: Index of each pair's first item, `[M]`.
        second: Index of each pair's second item, `[M]`.
        distance: `"squared_euclidean"` or `"euclidean"`. Defaults to
            `"squared_euclidean"`.

    Returns:
        float64 array `[M]`.

    Example:

    ```python
    pair_distances(np.eye(2), [0], [1])  # array([2.])
    ```
    """
    if distance not in DISTANCES:
        raise ValueError(
            f"distance must be one of {DISTANCES}. Received: distance={distance}"
        )
    embeddings = np.asarray(embeddings)
    embeddings = embeddings.reshape(len(embeddings), -1)
    first, second = np.asarray(first), np.asarray(second)
    squared = np.empty(len(first), dtype="float64")
    # A chunk of pairs at a time: raw pixels of 20,000 pairs in float64
    # would take gigabytes.
    for start in range(0, len(first), _PAIR_CHUNK):
        chunk = slice(start, start + _PAIR_CHUNK)
        difference = embeddings[first[chunk]].astype("float64")
        difference -= embeddings[second[chunk]]
        squared[chunk] = np.einsum("ij,ij->i", difference, difference)
    return squared if distance == "squared_euclidean" else np.sqrt(squared)


def _check(distances, same):
    distances = np.asarray(distances, dtype="float64").reshape(-1)
    same = np.asarray(same, dtype=bool).reshape(-1)
    if len(distances) != len(same):
        raise ValueError(
            f"distances and same must have the same length. "
            f"Received: {len(distances)} and {len(same)}"
        )
    if not same.any() or same.all():
        raise ValueError(
            "pairs must include both same-identity and different-identity "
            f"pairs. Received: {int(same.sum())} same of {len(same)}"
        )
    return distances, same


def roc_curve(distances, same):
    """Returns the ROC curve of accepting pairs with distance <= threshold.

    Args:
        distances: Distance of each pair, `[M]`.
        same: True for a same-identity pair, `[M]`.

    Returns:
        `(far, tar, thresholds)`, float arrays of the same length, with the
        threshold increasing: the first point accepts nothing (threshold
        `-inf`, FAR = TAR = 0), then one point per distinct distance.

    Example:

    ```python
    far, tar, thresholds = roc_curve([0.1, 0.5, 0.9], [True, False, True])
    ```
    """
    distances, same = _check(distances, same)
    order = np.argsort(distances, kind="stable")
    distances, same = distances[order], same[order]
    last_of_value = np.r_[np.flatnonzero(np.diff(distances)), len(distances) - 1]
    true_accepts = np.cumsum(same)[last_of_value]
    false_accepts = np.cumsum(~same)[last_of_value]
    tar = np.r_[0.0, true_accepts / same.sum()]
    far = np.r_[0.0, false_accepts / (~same).sum()]
    thresholds = np.r_[-np.inf, distances[last_of_value]]
    return far, tar, thresholds


def roc_auc(distances, same):
    """Returns the area under the ROC curve.

    Args:
        distances: Distance of each pair, `[M]`.
        same: True for a same-identity pair, `[M]`.

    Returns:
        A float in [0, 1]; 0.5 is chance, 1 separates the pairs perfectly.

    Example:

    ```python
    roc_auc([0.1, 0.5, 0.9], [True, False, False])  # 1.0
    ```
    """
    far, tar, _ = roc_curve(distances, same)
    return float(np.sum(np.diff(far) * (tar[1:] + tar[:-1]) / 2.0))


def equal_error_rate(distances, same):
    """Returns the rate where false accepts and false rejects are equal.

    The ROC curve is interpolated linearly between the two points where
    `FAR - (1 - TAR)` changes sign.

    Args:
        distances: Distance of each pair, `[M]`.
        same: True for a same-identity pair, `[M]`.

    Returns:
        A float in [0, 1]; lower is better.

    Example:

    ```python
    equal_error_rate([0.1, 0.5, 0.9], [True, False, False])  # 0.0
    ```
    """
    far, tar, _ = roc_curve(distances, same)
    gap = far - (1.0 - tar)  # Increases from -1 to +1 along the curve.
    index = int(np.argmax(gap >= 0))
    if gap[index] == 0 or index == 0:
        return float(far[index])
    weight = -gap[index - 1] / (gap[index] - gap[index - 1])
    return float(far[index - 1] + weight * (far[index] - far[index - 1]))


def validation_rate(distances, same, far_target=1e-3):
    """Returns facenet's VAL@FAR: the best true accept rate with FAR <= target.

    Args:
        distances: Distance of each pair, `[M]`.
        same: True for a same-identity pair, `[M]`.
        far_target: Largest allowed false accept rate. Defaults to `1e-3`.

    Returns:
        `(val, threshold)`: the true accept rate, and the largest threshold
        that keeps the false accept rate within `far_target`.

    Example:

    ```python
    validation_rate(distances, same, far_target=1e-3)
    ```
    """
    if not 0 <= far_target <= 1:
        raise ValueError(f"far_target must be in [0, 1]. Received: {far_target}")
    far, tar, thresholds = roc_curve(distances, same)
    index = int(np.flatnonzero(far <= far_target)[-1])
    return float(tar[index]), float(thresholds[index])


def verification_accuracy(distances, same, threshold):
    """Returns the fraction of pairs classified right at `threshold`.

    Args:
        distances: Distance of each pair, `[M]`.
        same: True for a same-identity pair, `[M]`.
        threshold: Pairs at most this far apart are accepted as the same.

    Returns:
        A float in [0, 1].

    Example:

    ```python
    verification_accuracy([0.1, 0.5, 0.9], [True, False, True], 0.3)  # 0.667
    ```
    """
    distances, same = _check(distances, same)
    return float(np.mean((distances <= threshold) == same))


def best_threshold(distances, same):
    """Returns the threshold that classifies the most pairs right.

    Use it on validation pairs, then score other pairs at that threshold.

    Args:
        distances: Distance of each pair, `[M]`.
        same: True for a same-identity pair, `[M]`.

    Returns:
        A float: midway between the last accepted distance and the next one,
        so that a slightly larger distance on new pairs is treated alike.

    Example:

    ```python
    best_threshold([0.1, 0.5, 0.9], [True, False, False])  # 0.3
    ```
    """
    far, tar, thresholds = roc_curve(distances, same)
    count_same = np.sum(np.asarray(same, dtype=bool))
    count_different = len(np.asarray(same).reshape(-1)) - count_same
    correct = tar * count_same + (1.0 - far) * count_different
    index = int(np.argmax(correct))
    if index == len(thresholds) - 1:
        return float(thresholds[index])
    if index == 0:
        return float(np.nextafter(thresholds[1], -np.inf))  # Accept nothing.
    return float((thresholds[index] + thresholds[index + 1]) / 2.0)


def verification_report(distances, same, threshold, far_target=1e-3):
    """Returns the verification scores facenet reports, as a `dict`.

    Args:
        distances: Distance of each pair, `[M]`.
        same: True for a same-identity pair, `[M]`.
        threshold: The threshold chosen on validation pairs.
        far_target: False accept rate of the `val` score. Defaults to `1e-3`.

    Returns:
        A `dict` with `auc`, `eer`, `accuracy` (at `threshold`),
        `val` (TAR at `far_target`), `far` (false accept rate at
        `threshold`) and `pairs`.

    Example:

    ```python
    verification_report(distances, same, threshold=1.1)["auc"]
    ```
    """
    distances, same = _check(distances, same)
    val, _ = validation_rate(distances, same, far_target)
    return {
        "auc": roc_auc(distances, same),
        "eer": equal_error_rate(distances, same),
        "accuracy": verification_accuracy(distances, same, threshold),
        "val": val,
        "far": float(np.mean(distances[~same] <= threshold)),
        "pairs": int(len(same)),
    }
