"""Triplet loss with in-batch mining."""

import math
import numbers

import keras
import tensorflow as tf
from keras import ops

from keras_recipes.losses.distances import pairwise_distances

MINING_MODES = ("batch_all", "batch_hard", "semi_hard")
DISTANCES = ("squared_euclidean", "euclidean")


@keras.saving.register_keras_serializable(package="keras_recipes")
class TripletLoss(keras.losses.Loss):
    """Computes the triplet loss of a batch of labelled embeddings.

    A triplet is an anchor `a`, a positive `p` (another item with the same
    label) and a negative `n` (an item with a different label); its loss is
    `max(d(a, p) - d(a, n) + margin, 0)`. The triplets are mined from the batch:

    - `"batch_all"`: every valid triplet; the mean over the triplets whose
        loss is positive.
    - `"batch_hard"`: per anchor, its farthest positive and its nearest
        negative; the mean over the anchors that have at least one positive
        and one negative.
    - `"semi_hard"`: per positive pair `(a, p)`, the nearest negative farther
        from `a` than `p` is, or the farthest negative of `a` if there is no
        such negative; the mean over all positive pairs. This is the rule of
        TensorFlow Addons' `TripletSemiHardLoss`, and a drop-in replacement:
        `distance="squared_euclidean"` matches its default
        `distance_metric="L_2"`, and `distance="euclidean"` matches its
        `distance_metric="L_1"` (which, despite the name, is the Euclidean
        norm). As there, an anchor without any negative counts its
        farthest negative as distance 0. Unlike there, a batch without any
        positive pair gives 0 rather than NaN.

    Each mode gives 0 when it finds nothing to average. No mode builds the
    `[batch, batch, batch]` tensor of all triplets: `"batch_all"` and
    `"semi_hard"` sort each anchor's negative distances and binary-search
    them, so a batch of 256 costs a few milliseconds on a CPU
    (`benchmarks/triplet_loss_vectorized.py`). The loss is one
    value for the whole batch, so batches should hold several items of each
    label, e.g. from a P x K sampler. Embeddings are used as given;
    L2-normalise them in the model.

    Args:
        margin: Non-negative float, the margin between positive and
            negative distances. Defaults to `0.2`.
        mining: One of `"batch_all"`, `"batch_hard"` or `"semi_hard"`.
            Defaults to `"batch_hard"`.
        distance: `"squared_euclidean"` or `"euclidean"`. Defaults to
            `"squared_euclidean"`.
        reduction: Type of reduction applied to the loss, as for any
            `keras.losses.Loss`; the batch loss is already a scalar. Defaults
            to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"triplet_loss"`.
        dtype: The dtype of the loss's computations. Defaults to `None`,
            which means `keras.backend.floatx()`.

    Call arguments:
        y_true: Integer labels of shape `(batch,)` or `(batch, 1)`.
        y_pred: Embeddings of shape `(batch, dim)`.

    Returns:
        A scalar tensor, the loss of the batch.

    Example:

    ```python
    loss = TripletLoss(margin=0.2)
    labels = np.array([0, 0, 1, 1])
    embeddings = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [0.6, 0.8]])
    loss(labels, embeddings)  # 0.26
    model.compile(optimizer="adam", loss=TripletLoss())
    ```

    References:

    - [Schroff et al., 2015](https://arxiv.org/abs/1503.03832)
    - [Hermans et al., 2017](https://arxiv.org/abs/1703.07737)
    """

    def __init__(
        self,
        margin=0.2,
        mining="batch_hard",
        distance="squared_euclidean",
        reduction="sum_over_batch_size",
        name="triplet_loss",
        dtype=None,
    ):
        is_number = isinstance(margin, numbers.Real) and not isinstance(margin, bool)
        if not (is_number and math.isfinite(margin) and margin >= 0):
            raise ValueError(
                f"Argument `margin` must be a non-negative float. "
                f"Received: margin={margin}"
            )
        if mining not in MINING_MODES:
            raise ValueError(
                f"Argument `mining` must be one of {MINING_MODES}. "
                f"Received: mining={mining}"
            )
        if distance not in DISTANCES:
            raise ValueError(
                f"Argument `distance` must be one of {DISTANCES}. "
                f"Received: distance={distance}"
            )
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.margin = float(margin)
        self.mining = mining
        self.distance = distance

    def call(self, y_true, y_pred):
        labels = ops.reshape(y_true, (-1,))
        same_label = ops.equal(labels[:, None], labels[None, :])
        indices = ops.arange(ops.shape(labels)[0])
        diagonal = ops.equal(indices[:, None], indices[None, :])
        positives = ops.logical_and(same_label, ops.logical_not(diagonal))
        negatives = ops.logical_not(same_label)
        distances = pairwise_distances(
            y_pred, squared=self.distance == "squared_euclidean"
        )
        mine = _MINING_FUNCTIONS[self.mining]
        return mine(distances, positives, negatives, self.margin)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "margin": self.margin,
                "mining": self.mining,
                "distance": self.distance,
                "dtype": self.dtype,
            }
        )
        return config


def _masked_min(values, mask, axis):
    # The fill is larger than every value so it never ties with a real one.
    fill = ops.stop_gradient(ops.max(values)) + 1.0
    return ops.min(ops.where(mask, values, fill), axis=axis)


def _masked_max(values, mask, axis):
    # Distances are non-negative, so 0 is a neutral fill.
    return ops.max(ops.where(mask, values, 0.0), axis=axis)


def _sorted_negatives(distances, negatives, margin):
    """Each anchor's negative distances, increasing; other items at the end.

    Mining against sorted rows with a binary search costs O(B^2 log B)
    rather than the O(B^3) of comparing every (a, p, n) triplet, which at a
    batch of 256 is 17 million comparisons and their gradient.
    """
    # The fill is larger than any distance plus margin, so never counted.
    fill = ops.stop_gradient(ops.max(distances)) + margin + 1.0
    masked = ops.where(negatives, distances, fill)
    order = ops.argsort(ops.stop_gradient(masked), axis=1)
    return ops.take_along_axis(masked, order, axis=1)


def _batch_all(distances, positives, negatives, margin):
    # A triplet (a, p, n) has a positive loss when d(a, n) < d(a, p) + margin;
    # with a's negatives sorted, their count and sum come from one search.
    sorted_negatives = _sorted_negatives(distances, negatives, margin)
    limits = distances + margin
    counts = tf.searchsorted(sorted_negatives, limits, side="left")
    # Sums of many distances, in float64 so large batches stay exact to 1e-6.
    wide = ops.cast(sorted_negatives, "float64")
    prefix = ops.pad(ops.cumsum(wide, axis=1), [[0, 0], [1, 0]])
    below = ops.take_along_axis(prefix, counts, axis=1)
    counts = ops.where(positives, ops.cast(counts, "float64"), 0.0)
    losses = counts * ops.cast(limits, "float64") - below
    losses = ops.where(positives, losses, 0.0)
    loss = ops.divide_no_nan(ops.sum(losses), ops.sum(counts))
    return ops.cast(loss, distances.dtype)


def _batch_hard(distances, positives, negatives, margin):
    hardest_positive = _masked_max(distances, positives, axis=1)
    hardest_negative = _masked_min(distances, negatives, axis=1)
    valid = ops.logical_and(ops.any(positives, axis=1), ops.any(negatives, axis=1))
    losses = ops.relu(hardest_positive - hardest_negative + margin)
    losses = ops.where(valid, losses, 0.0)
    count = ops.sum(ops.cast(valid, losses.dtype))
    return ops.divide_no_nan(ops.sum(losses), count)


def _semi_hard(distances, positives, negatives, margin):
    sorted_negatives = _sorted_negatives(distances, negatives, margin)
    # For each (a, p), the first of a's negatives farther than d(a, p).
    index = tf.searchsorted(sorted_negatives, distances, side="right")
    count = ops.sum(ops.cast(negatives, index.dtype), axis=1)
    has_farther = ops.less(index, count[:, None])
    last = ops.shape(distances)[1] - 1
    nearest_farther = ops.take_along_axis(
        sorted_negatives, ops.minimum(index, last), axis=1
    )
    farthest = _masked_max(distances, negatives, axis=1)
    chosen = ops.where(has_farther, nearest_farther, farthest[:, None])
    losses = ops.where(positives, ops.relu(distances - chosen + margin), 0.0)
    count = ops.sum(ops.cast(positives, losses.dtype))
    return ops.divide_no_nan(ops.sum(losses), count)


_MINING_FUNCTIONS = {
    "batch_all": _batch_all,
    "batch_hard": _batch_hard,
    "semi_hard": _semi_hard,
}
