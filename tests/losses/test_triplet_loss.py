import itertools
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_recipes.losses import TripletLoss, pairwise_distances

MINING_MODES = ["batch_all", "batch_hard", "semi_hard"]
DISTANCES = ["squared_euclidean", "euclidean"]


def reference_distances(embeddings, distance):
    """Distance matrix, one pair at a time, in float64."""
    size = len(embeddings)
    distances = np.zeros((size, size))
    for i, j in itertools.product(range(size), repeat=2):
        difference = np.asarray(embeddings[i], np.float64) - embeddings[j]
        squared = float(np.dot(difference, difference))
        distances[i, j] = squared if distance == "squared_euclidean" else squared**0.5
    return distances


def reference_triplet_loss(labels, embeddings, margin, mining, distance):
    """Triplet loss by explicit loops over anchors, positives and negatives."""
    labels = [int(label) for label in np.ravel(labels)]
    d = reference_distances(embeddings, distance)
    size = len(labels)

    def positives_of(a):
        return [p for p in range(size) if p != a and labels[p] == labels[a]]

    def negatives_of(a):
        return [n for n in range(size) if labels[n] != labels[a]]

    losses = []
    if mining == "batch_all":
        for a in range(size):
            for p in positives_of(a):
                for n in negatives_of(a):
                    losses.append(max(d[a, p] - d[a, n] + margin, 0.0))
        losses = [loss for loss in losses if loss > 0]
    elif mining == "batch_hard":
        for a in range(size):
            positives, negatives = positives_of(a), negatives_of(a)
            if positives and negatives:
                hardest_positive = max(d[a, p] for p in positives)
                hardest_negative = min(d[a, n] for n in negatives)
                losses.append(max(hardest_positive - hardest_negative + margin, 0.0))
    else:
        for a in range(size):
            negative_distances = [d[a, n] for n in negatives_of(a)]
            for p in positives_of(a):
                farther = [x for x in negative_distances if x > d[a, p]]
                if farther:
                    negative = min(farther)
                elif negative_distances:
                    negative = max(negative_distances)
                else:
                    negative = 0.0  # TensorFlow Addons' value with no negative.
                losses.append(max(d[a, p] - negative + margin, 0.0))
    return sum(losses) / len(losses) if losses else 0.0


def random_batch(seed, size=12, dim=4, num_labels=4):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_labels, size=size)
    embeddings = rng.normal(scale=0.5, size=(size, dim)).astype("float32")
    return labels, embeddings


@pytest.mark.parametrize("distance", DISTANCES)
@pytest.mark.parametrize("mining", MINING_MODES)
@pytest.mark.parametrize("margin", [0.2, 1.0])
def test_matches_brute_force_on_random_batches(margin, mining, distance):
    loss = TripletLoss(margin=margin, mining=mining, distance=distance)
    for seed in range(5):
        labels, embeddings = random_batch(seed)
        expected = reference_triplet_loss(labels, embeddings, margin, mining, distance)
        actual = float(loss(labels, embeddings))
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("distance", DISTANCES)
@pytest.mark.parametrize("mining", MINING_MODES)
def test_matches_brute_force_with_lone_anchors(mining, distance):
    # Label 7 has no positive; label 3 is most of the batch.
    labels = np.array([3, 3, 3, 3, 3, 3, 1, 1, 7])
    embeddings = np.random.default_rng(11).normal(size=(9, 3)).astype("float32")
    expected = reference_triplet_loss(labels, embeddings, 0.5, mining, distance)
    actual = float(TripletLoss(0.5, mining, distance)(labels, embeddings))
    assert expected > 0
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("distance", DISTANCES)
@pytest.mark.parametrize("mining", MINING_MODES)
def test_single_label_batch(mining, distance):
    # No anchor has a negative: no triplet for batch_all and batch_hard, and
    # for semi_hard the farthest negative counts as 0, as in TensorFlow Addons.
    labels = np.zeros(5, "int32")
    embeddings = np.random.default_rng(3).normal(size=(5, 3)).astype("float32")
    expected = reference_triplet_loss(labels, embeddings, 0.2, mining, distance)
    actual = float(TripletLoss(0.2, mining, distance)(labels, embeddings))
    if mining == "semi_hard":
        d = reference_distances(embeddings, distance)
        assert expected == pytest.approx(d[~np.eye(5, dtype=bool)].mean() + 0.2)
    else:
        assert expected == 0.0
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("distance", DISTANCES)
@pytest.mark.parametrize("mining", MINING_MODES)
def test_zero_without_positive_pairs(mining, distance):
    labels = np.arange(6)
    embeddings = np.random.default_rng(5).normal(size=(6, 3)).astype("float32")
    assert float(TripletLoss(0.2, mining, distance)(labels, embeddings)) == 0.0


@pytest.mark.parametrize("distance", DISTANCES)
@pytest.mark.parametrize("mining", MINING_MODES)
def test_zero_when_no_triplet_violates_the_margin(mining, distance):
    rng = np.random.default_rng(9)
    labels = np.repeat(np.arange(3), 4)
    centres = 10.0 * np.eye(3, 4)
    embeddings = (centres[labels] + rng.normal(scale=0.1, size=(12, 4))).astype(
        "float32"
    )
    assert reference_triplet_loss(labels, embeddings, 0.2, mining, distance) == 0.0
    assert float(TripletLoss(0.2, mining, distance)(labels, embeddings)) == 0.0


def test_hand_computed_values():
    labels = np.array([0, 0, 1, 1])
    embeddings = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [0.6, 0.8]])
    # Squared distances: same label 0.4; a1-b1 0.08; a0-b1, a1-b0 0.8; a0-b0 2.
    # batch_hard: anchors a1 and b1 give 0.4 - 0.08 + 0.2 = 0.52, the others 0.
    assert float(TripletLoss(0.2)(labels, embeddings)) == pytest.approx(0.26)
    # batch_all: the two triplets with loss 0.52 are the only positive ones.
    batch_all = TripletLoss(0.2, mining="batch_all")
    assert float(batch_all(labels, embeddings)) == pytest.approx(0.52)
    # semi_hard: every pair finds the negative at 0.8 > 0.4, so 0.
    semi_hard = TripletLoss(0.2, mining="semi_hard")
    assert float(semi_hard(labels, embeddings)) == 0.0


def test_semi_hard_negative_must_be_strictly_farther():
    labels = np.array([0, 0, 1, 2])
    embeddings = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 2.0]])
    # For the pair (0, 1) at distance 1, the negative 2 also at distance 1 is
    # not farther: the semi-hard negative is 3, at distance 4, so the loss is
    # max(1 - 4 + 0.2, 0) = 0. For the pair (1, 0), negative 2 is at distance 2:
    # max(1 - 2 + 0.2, 0) = 0 too.
    loss = TripletLoss(0.2, mining="semi_hard")
    assert (
        reference_triplet_loss(
            labels, embeddings, 0.2, "semi_hard", "squared_euclidean"
        )
        == 0.0
    )
    assert float(loss(labels, embeddings)) == 0.0
    # With margin 3.2, the pairs give 1 - 4 + 3.2 = 0.2 and 1 - 2 + 3.2 = 2.2.
    loss = TripletLoss(3.2, mining="semi_hard")
    assert float(loss(labels, embeddings)) == pytest.approx(1.2)


def test_labels_of_shape_batch_by_one():
    labels, embeddings = random_batch(0)
    loss = TripletLoss(mining="semi_hard")
    np.testing.assert_allclose(
        float(loss(labels[:, None], embeddings)), float(loss(labels, embeddings))
    )


def test_pairwise_distances():
    embeddings = np.array([[0.0, 0.0], [3.0, 4.0], [3.0, 4.0]], "float32")
    np.testing.assert_allclose(
        pairwise_distances(embeddings, squared=False),
        [[0.0, 5.0, 5.0], [5.0, 0.0, 0.0], [5.0, 0.0, 0.0]],
    )
    np.testing.assert_allclose(
        pairwise_distances(embeddings),
        reference_distances(embeddings, "squared_euclidean"),
    )


@pytest.mark.parametrize("distance", DISTANCES)
@pytest.mark.parametrize("mining", MINING_MODES)
def test_gradients_finite_with_duplicate_embeddings(mining, distance):
    labels = np.array([0, 0, 0, 1, 1, 2])
    values = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")
    values[1] = values[0]  # duplicate positives
    values[3] = values[2]  # a positive duplicated as a negative
    values[5] = values[4]
    embeddings = tf.Variable(values)
    with tf.GradientTape() as tape:
        value = TripletLoss(1.0, mining, distance)(labels, embeddings)
    gradient = tape.gradient(value, embeddings)
    assert np.isfinite(float(value)) and float(value) > 0
    assert np.all(np.isfinite(gradient.numpy()))
    assert np.any(gradient.numpy() != 0)


TRIANGLE = (
    np.array([0, 0, 1]),
    # Each anchor's only negative is the batch's largest distance.
    np.array([[0.0, 0.0], [0.3, 0.1], [2.0, 0.5]], "float32"),
)


@pytest.mark.parametrize("batch", [random_batch(1, 6, 3, 2), TRIANGLE])
@pytest.mark.parametrize("distance", DISTANCES)
@pytest.mark.parametrize("mining", MINING_MODES)
def test_gradients_match_finite_differences(mining, distance, batch):
    labels, values = batch
    values = values.astype("float64")
    embeddings = tf.Variable(values)
    with tf.GradientTape() as tape:
        value = TripletLoss(3.0, mining, distance, dtype="float64")(labels, embeddings)
    gradient = tape.gradient(value, embeddings).numpy()

    step = 1e-6
    numeric = np.zeros_like(values)
    for index in np.ndindex(values.shape):
        shifted = values.copy()
        shifted[index] += step
        upper = reference_triplet_loss(labels, shifted, 3.0, mining, distance)
        shifted[index] -= 2 * step
        lower = reference_triplet_loss(labels, shifted, 3.0, mining, distance)
        numeric[index] = (upper - lower) / (2 * step)
    assert float(value) > 0
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mining", MINING_MODES)
def test_same_value_under_xla(mining):
    labels, embeddings = random_batch(4)
    loss = TripletLoss(mining=mining, distance="euclidean")
    compiled = tf.function(loss.__call__, jit_compile=True)
    np.testing.assert_allclose(
        float(compiled(labels, embeddings)),
        float(loss(labels, embeddings)),
        rtol=1e-5,
    )


def test_training_lowers_the_loss():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 8)
    centres = rng.normal(scale=2.0, size=(4, 6))
    features = (centres[labels] + rng.normal(size=(32, 6))).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(8),
            keras.layers.UnitNormalization(),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.05),
        loss=TripletLoss(margin=0.5, mining="semi_hard"),
    )
    before = float(model.evaluate(features, labels, batch_size=32, verbose=0))
    history = model.fit(
        features, labels, batch_size=32, epochs=5, shuffle=False, verbose=0
    )
    after = float(model.evaluate(features, labels, batch_size=32, verbose=0))
    assert before > 0
    assert np.all(np.isfinite(history.history["loss"]))
    assert after < 0.8 * before


def test_config_round_trip():
    loss = TripletLoss(margin=0.5, mining="semi_hard", distance="euclidean", name="t")
    config = loss.get_config()
    assert config == {
        "name": "t",
        "reduction": "sum_over_batch_size",
        "margin": 0.5,
        "mining": "semi_hard",
        "distance": "euclidean",
        "dtype": "float32",
    }
    restored = TripletLoss.from_config(config)
    assert restored.get_config() == config
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(loss)
    )
    assert isinstance(restored, TripletLoss)
    assert restored.get_config() == config
    labels, embeddings = random_batch(2)
    assert float(restored(labels, embeddings)) == float(loss(labels, embeddings))


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"mining": "hard"}, "Received: mining=hard"),
        ({"distance": "cosine"}, "Received: distance=cosine"),
        ({"margin": -0.1}, "Received: margin=-0.1"),
        ({"margin": "0.2"}, "Received: margin=0.2"),
        ({"margin": math.nan}, "Received: margin=nan"),
    ],
)
def test_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        TripletLoss(**arguments)
