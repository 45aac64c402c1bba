"""Verification scores against brute-force definitions and scikit-learn."""

import itertools

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from keras_recipes.faces import (
    best_threshold,
    equal_error_rate,
    pair_distances,
    roc_auc,
    roc_curve,
    sample_pairs,
    validation_rate,
    verification_accuracy,
    verification_report,
)


def random_pairs(seed, count=300, ties=False):
    rng = np.random.default_rng(seed)
    same = rng.random(count) < 0.4
    distances = rng.normal(np.where(same, 0.8, 1.4), 0.35)
    if ties:
        distances = np.round(distances, 1)
    return distances, same


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("ties", [False, True])
def test_auc_is_the_probability_a_same_pair_is_closer(seed, ties):
    distances, same = random_pairs(seed, ties=ties)
    wins = [
        1.0 if d_same < d_diff else 0.5 if d_same == d_diff else 0.0
        for d_same, d_diff in itertools.product(distances[same], distances[~same])
    ]
    assert roc_auc(distances, same) == pytest.approx(np.mean(wins), abs=1e-12)
    assert roc_auc(distances, same) == pytest.approx(
        roc_auc_score(same, -distances), abs=1e-12
    )


def test_roc_points_count_accepted_pairs():
    distances, same = random_pairs(0, ties=True)
    far, tar, thresholds = roc_curve(distances, same)
    assert far[0] == tar[0] == 0 and far[-1] == tar[-1] == 1
    assert np.all(np.diff(thresholds) > 0)
    for f, t, threshold in zip(far[1:], tar[1:], thresholds[1:], strict=True):
        accepted = distances <= threshold
        assert t == pytest.approx(accepted[same].mean())
        assert f == pytest.approx(accepted[~same].mean())


def test_equal_error_rate_on_a_known_curve():
    # Same pairs at 0..9, different pairs at 5..14. Accepting up to 6 gives
    # FAR 0.2, FRR 0.3; up to 7 gives FAR 0.3, FRR 0.2: they cross at 0.25.
    same_d = np.arange(10.0)
    diff_d = np.arange(10.0) + 5
    distances = np.r_[same_d, diff_d]
    same = np.r_[np.ones(10, bool), np.zeros(10, bool)]
    assert equal_error_rate(distances, same) == pytest.approx(0.25, abs=1e-12)
    # Perfect separation has no errors; reversed separation is all errors.
    assert equal_error_rate([0.1, 0.2, 0.8, 0.9], [True, True, False, False]) == 0
    assert equal_error_rate([0.8, 0.9, 0.1, 0.2], [True, True, False, False]) == 1


@pytest.mark.parametrize("seed", range(4))
def test_best_threshold_is_the_most_accurate(seed):
    distances, same = random_pairs(seed, count=120)
    threshold = best_threshold(distances, same)
    candidates = np.r_[-1.0, np.sort(distances)]
    best = max(np.mean((distances <= c) == same) for c in candidates)
    assert verification_accuracy(distances, same, threshold) == pytest.approx(best)


@pytest.mark.parametrize("seed", range(4))
def test_validation_rate_respects_the_false_accept_rate(seed):
    distances, same = random_pairs(seed, count=2000)
    for target in (1e-3, 1e-2, 0.1):
        val, threshold = validation_rate(distances, same, target)
        accepted = distances <= threshold
        assert accepted[~same].mean() <= target
        assert val == pytest.approx(accepted[same].mean())
        # Brute force: no threshold keeps FAR within target with a higher TAR.
        best = max(
            (distances[same] <= d).mean()
            for d in distances
            if (distances[~same] <= d).mean() <= target
        )
        assert val == pytest.approx(max(best, 0.0))


def test_report_collects_the_scores():
    distances, same = random_pairs(1)
    report = verification_report(distances, same, threshold=1.1)
    assert report["auc"] == roc_auc(distances, same)
    assert report["accuracy"] == verification_accuracy(distances, same, 1.1)
    assert report["far"] == pytest.approx(np.mean(distances[~same] <= 1.1))
    assert report["pairs"] == len(same)


def test_pair_distances():
    embeddings = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0]])
    np.testing.assert_allclose(pair_distances(embeddings, [0, 1], [1, 2]), [25, 20])
    np.testing.assert_allclose(pair_distances(embeddings, [0], [1], "euclidean"), [5.0])
    images = np.arange(8.0).reshape(2, 2, 2, 1)
    assert pair_distances(images, [0], [1])[0] == pytest.approx(4 * 16)


@pytest.mark.parametrize("size", [30, 2500])
def test_pairs_are_balanced_distinct_and_labelled(size):
    labels = np.random.default_rng(0).integers(0, 7, size)
    first, second, same = sample_pairs(labels, max_pairs=400, seed=3)
    assert same.sum() == (~same).sum()
    assert len(same) <= 400
    np.testing.assert_array_equal(same, labels[first] == labels[second])
    assert np.all(first != second)
    keys = {tuple(sorted(pair)) for pair in zip(first, second, strict=True)}
    assert len(keys) == len(first)


def test_all_same_pairs_when_few():
    labels = np.array([0, 0, 0, 1, 1, 2])
    _, _, same = sample_pairs(labels, max_pairs=100)
    assert same.sum() == 3 + 1  # C(3, 2) + C(2, 2)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="both"):
        roc_auc([0.1, 0.2], [True, True])
    with pytest.raises(ValueError, match="same length"):
        roc_auc([0.1, 0.2], [True])
    with pytest.raises(ValueError, match="distance"):
        pair_distances(np.eye(2), [0], [1], "cosine")
