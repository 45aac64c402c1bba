import numpy as np
import pytest

from keras_recipes.detection import kmeans_anchors

TRUE_SHAPES = np.array([[8.0, 10.0], [30.0, 12.0], [14.0, 40.0], [60.0, 70.0]])


def clustered_shapes(seed, per_cluster=50):
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0.95, 1.05, size=(len(TRUE_SHAPES), per_cluster, 2))
    return (TRUE_SHAPES[:, None] * noise).reshape(-1, 2)


@pytest.mark.parametrize("seed", range(3))
def test_kmeans_anchors_recovers_separated_clusters(seed):
    box_wh = clustered_shapes(seed)
    anchors = kmeans_anchors(box_wh, k=4, seed=seed)
    assert anchors.shape == (4, 2)
    # Each anchor is its cluster's mean, so it lies within the 5 % noise.
    np.testing.assert_allclose(anchors, TRUE_SHAPES, rtol=0.02)
    cluster_means = clustered_shapes(seed).reshape(4, -1, 2).mean(axis=1)
    np.testing.assert_allclose(anchors, cluster_means, rtol=1e-12)


def test_kmeans_anchors_is_sorted_by_area_and_deterministic():
    box_wh = np.random.default_rng(0).uniform(5, 100, size=(300, 2))
    anchors = kmeans_anchors(box_wh, k=6, seed=3)
    areas = anchors[:, 0] * anchors[:, 1]
    assert np.all(np.diff(areas) > 0)
    np.testing.assert_array_equal(anchors, kmeans_anchors(box_wh, k=6, seed=3))


def test_kmeans_anchors_with_k_equal_to_distinct_shapes_returns_them():
    box_wh = np.array([[20, 1], [4, 4], [2, 9], [20, 1], [2, 9]])
    anchors = kmeans_anchors(box_wh, k=3)
    np.testing.assert_array_equal(anchors, [[4, 4], [2, 9], [20, 1]])


def test_kmeans_anchors_rejects_bad_arguments():
    box_wh = np.array([[4, 4], [4, 4], [2, 8]])
    with pytest.raises(ValueError, match="2 distinct box shapes.*Received: k=3"):
        kmeans_anchors(box_wh, k=3)
    with pytest.raises(ValueError, match="Received: k=0"):
        kmeans_anchors(box_wh, k=0)
    with pytest.raises(ValueError, match=r"Received: box_wh.shape=\(3, 3\)"):
        kmeans_anchors(np.ones((3, 3)), k=1)
    with pytest.raises(ValueError, match=r"Received: a box with \(w, h\)=\(0.0, 5.0\)"):
        kmeans_anchors(np.array([[2, 2], [0, 5]]), k=1)
