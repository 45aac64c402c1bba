"""Balanced same/different pairs of labelled images, for verification."""

import numpy as np

# Up to this many images, every pair is listed; beyond, pairs are drawn.
_ENUMERATE_LIMIT = 2000


def sample_pairs(labels, max_pairs=20000, seed=0):
    """Draws as many same-identity pairs as different-identity ones.

    Verification is scored on pairs, as on LFW's 6,000 pairs: half show one
    identity twice, half two identities. Same-identity pairs are all of them,
    or a random `max_pairs // 2` when there are more; as many
    different-identity pairs are then drawn at random, so the accuracy of a
    threshold is a balanced accuracy.

    Args:
        labels: Integer identity of each image, `[N]`.
        max_pairs: Largest number of pairs returned, both kinds together.
            Defaults to `20000`.
        seed: Seed of the draws. Defaults to `0`.

    Returns:
        `(first, second, same)`: int64 index arrays of the two images of each
        pair, and a bool array, True for a same-identity pair. Same-identity
        pairs come first.

    Example:

    ```python
    first, second, same = sample_pairs([0, 0, 1, 1, 1], max_pairs=6)
    ```
    """
    labels = np.asarray(labels).reshape(-1)
    if max_pairs < 2:
        raise ValueError(f"max_pairs must be at least 2. Received: {max_pairs}")
    rng = np.random.default_rng(seed)
    positives = []
    for identity in np.unique(labels):
        members = np.flatnonzero(labels == identity)
        rows, columns = np.triu_indices(len(members), k=1)
        positives.append(np.stack([members[rows], members[columns]], axis=1))
    positives = np.concatenate(positives) if positives else np.zeros((0, 2), int)
    if len(positives) > max_pairs // 2:
        keep = rng.choice(len(positives), max_pairs // 2, replace=False)
        positives = positives[np.sort(keep)]
    negatives = _negative_pairs(labels, len(positives), rng)
    pairs = np.concatenate([positives, negatives]).astype("int64")
    same = np.arange(len(pairs)) < len(positives)
    return pairs[:, 0], pairs[:, 1], same


def _negative_pairs(labels, count, rng):
    size = len(labels)
    if size <= _ENUMERATE_LIMIT:
        rows, columns = np.triu_indices(size, k=1)
        different = labels[rows] != labels[columns]
        candidates = np.stack([rows[different], columns[different]], axis=1)
        count = min(count, len(candidates))
        keep = rng.choice(len(candidates), count, replace=False)
        return candidates[np.sort(keep)]
    found = set()
    while len(found) < count:
        first = rng.integers(0, size, 2 * count)
        second = rng.integers(0, size, 2 * count)
        for i, j in zip(first, second, strict=True):
            if labels[i] != labels[j] and len(found) < count:
                found.add((min(i, j), max(i, j)))
    return np.asarray(sorted(found), dtype="int64").reshape(-1, 2)
