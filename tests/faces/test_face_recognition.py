"""The enrolment database, one-shot and open-set recognition, the projector."""

import numpy as np
import pytest

from keras_recipes.faces import (
    UNKNOWN,
    EnrollmentDatabase,
    enroll_one_per_identity,
    one_shot_accuracy,
    open_set_accuracy,
    write_projector,
)


def clusters(seed=0, identities=4, per_identity=6, spread=0.05):
    rng = np.random.default_rng(seed)
    centres = np.eye(identities, 8)
    labels = np.repeat(np.arange(identities), per_identity)
    embeddings = centres[labels] + rng.normal(0, spread, (len(labels), 8))
    return embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True), labels


def test_identify_names_the_nearest_or_unknown():
    database = EnrollmentDatabase(threshold=0.5)
    database.enroll("ada", [1.0, 0.0]).enroll("bob", [[0.0, 1.0], [0.6, 0.8]])
    assert len(database) == 3 and database.identities == ["ada", "bob"]
    answers = database.identify(np.array([[0.9, 0.1], [0.1, 0.9], [-1.0, 0.0]]))
    assert [name for name, _ in answers] == ["ada", "bob", UNKNOWN]
    assert answers[0][1] == pytest.approx(0.1**2 + 0.1**2)
    # An explicit threshold wins; None on both sides always names someone.
    assert database.identify([[0.9, 0.1]], threshold=0.001)[0][0] == UNKNOWN
    assert EnrollmentDatabase().enroll("x", [1, 0]).identify([[-1, 0]])[0][0] == "x"


def test_euclidean_distance_database():
    database = EnrollmentDatabase("euclidean").enroll("ada", [3.0, 4.0])
    assert database.identify([[0.0, 0.0]])[0][1] == pytest.approx(5.0)


def test_save_load_round_trip_and_forget(tmp_path):
    database = EnrollmentDatabase("euclidean", threshold=0.7)
    database.enroll("ada", [[1.0, 0.0], [0.9, 0.1]]).enroll("bob", [0.0, 1.0])
    path = database.save(tmp_path / "enrolled.npz")
    loaded = EnrollmentDatabase.load(path)
    assert loaded.distance == "euclidean" and loaded.threshold == 0.7
    np.testing.assert_array_equal(loaded.names, database.names)
    np.testing.assert_array_equal(loaded.embeddings, database.embeddings)
    assert loaded.forget("ada") == 2 and loaded.identities == ["bob"]
    empty = EnrollmentDatabase.load(EnrollmentDatabase().save(tmp_path / "e.npz"))
    assert len(empty) == 0 and empty.threshold is None


def test_bad_enrolments_are_refused():
    database = EnrollmentDatabase().enroll("ada", [1.0, 0.0])
    with pytest.raises(ValueError, match="dimensions"):
        database.enroll("bob", [1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="unknown"):
        database.enroll(UNKNOWN, [1.0, 0.0])
    with pytest.raises(ValueError, match="empty"):
        EnrollmentDatabase().identify([[1.0, 0.0]])


def test_enroll_one_per_identity_draws_one_image_of_each():
    embeddings, labels = clusters(spread=0.01)
    names = ["ada", "bob", "cy", "di"]
    database, gallery = enroll_one_per_identity(
        embeddings, labels, names, seed=3, distance="euclidean", threshold=0.5
    )
    assert gallery.dtype == np.int64 and (labels[gallery] == np.arange(4)).all()
    assert database.names.tolist() == names
    np.testing.assert_allclose(database.embeddings, embeddings[gallery], atol=1e-6)
    assert database.distance == "euclidean" and database.threshold == 0.5
    # The same seed draws the same images; the other images are named right.
    again, same_gallery = enroll_one_per_identity(embeddings, labels, names, seed=3)
    np.testing.assert_array_equal(same_gallery, gallery)
    answers = again.identify(embeddings)
    assert [name for name, _ in answers] == [names[label] for label in labels]


def test_one_shot_accuracy_matches_a_brute_force_count():
    embeddings, labels = clusters(spread=0.6)
    accuracy = one_shot_accuracy(embeddings, labels, trials=3, seed=1)
    # The same draws, by hand.
    rng = np.random.default_rng(1)
    scores = []
    for _ in range(3):
        gallery = [rng.choice(np.flatnonzero(labels == i)) for i in range(4)]
        right = []
        for query in set(range(len(labels))) - set(gallery):
            distances = [
                np.sum((embeddings[query] - embeddings[g]) ** 2) for g in gallery
            ]
            right.append(labels[gallery[int(np.argmin(distances))]] == labels[query])
        scores.append(np.mean(right))
    assert accuracy == pytest.approx(np.mean(scores))
    assert 0.3 < accuracy < 1.0
    tight, tight_labels = clusters(spread=0.01)
    assert one_shot_accuracy(tight, tight_labels) == 1.0


def test_open_set_rejects_people_never_enrolled():
    embeddings, labels = clusters(spread=0.01)
    assert open_set_accuracy(embeddings, labels, threshold=0.5) == 1.0
    # With a huge threshold the people never enrolled are named wrongly.
    assert open_set_accuracy(embeddings, labels, threshold=10.0) == pytest.approx(
        0.5, abs=0.1
    )


def test_projector_files(tmp_path):
    embeddings, labels = clusters()
    images = np.random.default_rng(0).uniform(0, 255, (len(labels), 8, 8, 1))
    config = write_projector(
        tmp_path,
        embeddings,
        {"identity": labels, "split": ["unseen"] * len(labels)},
        images,
    )
    text = config.read_text()
    assert 'tensor_path: "projector/embeddings.tsv"' in text
    assert "single_image_dim: 32" in text
    stored = np.loadtxt(tmp_path / "projector" / "embeddings.tsv", delimiter="\t")
    np.testing.assert_allclose(stored, embeddings, atol=1e-6)
    rows = (tmp_path / "projector" / "metadata.tsv").read_text().splitlines()
    assert rows[0] == "identity\tsplit" and rows[1] == "0\tunseen"
    assert len(rows) == len(labels) + 1
    from PIL import Image

    with Image.open(tmp_path / "projector" / "sprite.png") as sprite:
        side = int(np.ceil(np.sqrt(len(labels))))
        assert sprite.size == (32 * side, 32 * side)
