"""Pairwise distances between embeddings."""

from keras import ops


def pairwise_distances(embeddings, squared=True):
    """Computes the Euclidean distance between every pair of embeddings.

    The diagonal is exactly 0. Where two embeddings coincide, the
    (non-squared) Euclidean distance has a zero gradient rather than the
    infinite derivative of `sqrt` at 0, so training stays finite.

    Args:
        embeddings: Float tensor of shape `(batch, dim)`.
        squared: Whether to return squared Euclidean distances rather than
            Euclidean ones. Defaults to `True`.

    Returns:
        Tensor of shape `(batch, batch)`.

    Example:

    ```python
    embeddings = np.array([[0.0, 0.0], [3.0, 4.0]])
    pairwise_distances(embeddings, squared=False)  # [[0, 5], [5, 0]]
    ```
    """
    embeddings = ops.convert_to_tensor(embeddings)
    squared_norms = ops.sum(ops.square(embeddings), axis=1)
    products = ops.matmul(embeddings, ops.transpose(embeddings))
    distances = squared_norms[:, None] - 2.0 * products + squared_norms[None, :]
    # Rounding can make the distance of near-identical rows slightly negative.
    distances = ops.maximum(distances, 0.0)
    indices = ops.arange(ops.shape(embeddings)[0])
    diagonal = ops.equal(indices[:, None], indices[None, :])
    distances = ops.where(diagonal, 0.0, distances)
    if squared:
        return distances
    nonzero = ops.greater(distances, 0.0)
    safe = ops.where(nonzero, distances, 1.0)
    return ops.where(nonzero, ops.sqrt(safe), 0.0)
