"""P x K batches: P distinct identities, K distinct images each, evenly drawn."""

import numpy as np
import pytest

from keras_recipes.data.pk_sampler import PKSampler, pk_dataset


def _labels(counts):
    return np.repeat(np.arange(len(counts)), counts)


def test_each_batch_holds_p_identities_with_k_distinct_images():
    labels = _labels([7, 5, 9, 4, 6, 8])
    rng = np.random.default_rng(0)
    labels = labels[rng.permutation(len(labels))]  # identities interleaved
    sampler = PKSampler(labels, identities_per_batch=4, images_per_identity=3, seed=1)
    batches = sampler.sample(50)
    assert batches.shape == (50, 12) and sampler.batch_size == 12
    for batch in batches:
        groups = batch.reshape(4, 3)
        identities = [labels[group] for group in groups]
        # Grouped by identity, P distinct identities, K distinct images.
        assert all(len(set(ids)) == 1 for ids in identities)
        assert len({ids[0] for ids in identities}) == 4
        assert all(len(set(group)) == 3 for group in groups)


def test_identities_and_images_come_up_evenly():
    labels = _labels([10] * 12)
    sampler = PKSampler(labels, identities_per_batch=4, images_per_identity=2, seed=0)
    drawn = sampler.sample(300).reshape(-1)
    batches_per_identity = np.bincount(labels[drawn], minlength=12) // 2
    per_image = np.bincount(drawn, minlength=len(labels))
    # 300 batches x 4 identities = 100 batches each; 2,400 images = 20 each.
    assert batches_per_identity.min() >= 99 and batches_per_identity.max() <= 101
    assert per_image.min() >= 19 and per_image.max() <= 21


def test_small_identities_repeat_images():
    labels = _labels([1, 2, 8])
    sampler = PKSampler(labels, identities_per_batch=3, images_per_identity=4, seed=0)
    for batch in sampler.sample(5):
        groups = batch.reshape(3, 4)
        for group in groups:
            assert len(set(labels[group])) == 1
        assert sorted(len(set(group)) for group in groups) == [1, 2, 4]


def test_same_seed_same_batches():
    labels = _labels([6] * 8)
    first = PKSampler(labels, 4, 3, seed=3).sample(20)
    again = PKSampler(labels, 4, 3, seed=3).sample(20)
    other = PKSampler(labels, 4, 3, seed=4).sample(20)
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_dataset_gathers_the_sampled_images():
    labels = _labels([5] * 6)
    images = np.arange(len(labels) * 4, dtype="float32").reshape(-1, 2, 2, 1)
    dataset = pk_dataset(images, labels, 3, 2, num_batches=4, seed=7)
    expected = PKSampler(labels, 3, 2, seed=7).sample(4)
    batches = list(dataset.take(6).as_numpy_iterator())
    for step, (x, y) in enumerate(batches):
        indices = expected[step % 4]  # repeats after num_batches
        np.testing.assert_array_equal(x, images[indices])
        np.testing.assert_array_equal(y, labels[indices])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"identities_per_batch": 5},
        {"identities_per_batch": 0},
        {"images_per_identity": 1},
    ],
)
def test_bad_arguments_are_refused(kwargs):
    options = {"identities_per_batch": 2, "images_per_identity": 2, **kwargs}
    with pytest.raises(ValueError, match="Received"):
        PKSampler(_labels([3, 3, 3, 3]), **options)
