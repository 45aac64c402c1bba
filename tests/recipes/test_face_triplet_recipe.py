"""End-to-end runs of `face_triplet`: metrics, artifacts, CLI, identity folders."""

import json

import keras
import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import roc_auc_score

import keras_recipes
from keras_recipes import faces
from keras_recipes.api import load_run
from keras_recipes.callbacks import AtomicBackupAndRestore
from keras_recipes.cli import main
from keras_recipes.data.digits import load_digits
from keras_recipes.epoch_seeding import EpochSeeding
from keras_recipes.errors import ConfigError
from keras_recipes.recipes import FaceTriplet
from keras_recipes.recipes.face_triplet.callbacks import VerificationCallback
from keras_recipes.recipes.face_triplet.data import FaceDatasets
from keras_recipes.run_files import read_history

QUICK = {**FaceTriplet.quick, "train.verbose": 0}
FIGURES = [
    "distance_histograms.png",
    "embedding_projection.png",
    "one_shot.png",
    "pk_batch.png",
    "roc_curves.png",
    "training_curves.png",
]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return keras_recipes.run(
        "face_triplet", {"train.verbose": 0}, runs_root=root, quick=True
    )


def test_run_directory_holds_every_artifact(quick_run):
    run_dir = quick_run.run_dir
    for name in ("config.yaml", "model.keras", "metrics.json", "enrolled.npz"):
        assert (run_dir / name).is_file(), name
    assert sorted(p.name for p in (run_dir / "figures").glob("*.png")) == FIGURES
    assert (
        "projector/embeddings.tsv"
        in (run_dir / "logs" / "projector_config.pbtxt").read_text()
    )
    rows = (run_dir / "logs" / "projector" / "metadata.tsv").read_text().splitlines()
    assert rows[0] == "identity\tsplit" and len(rows) == 201
    verification = json.loads((run_dir / "verification.json").read_text())
    assert verification["threshold"] == quick_run.metrics["threshold"]
    database = faces.EnrollmentDatabase.load(run_dir / "enrolled.npz")
    assert database.identities == [f"digit {d}" for d in range(10)]
    assert database.threshold == quick_run.metrics["threshold"]
    # Every epoch logged the validation pairs' scores, which the best
    # checkpoint and early stopping monitor.
    history = read_history(run_dir / "history.csv")
    assert len(history["val_auc"]) == len(quick_run.history["loss"])
    assert all(0 <= value <= 1 for value in history["val_auc"] + history["val_eer"])
    assert (run_dir / "checkpoints" / "best.keras").is_file()


def test_verification_scores_each_epoch_before_the_callbacks_reading_them(
    tmp_path,
):
    recipe = FaceTriplet(run_dir=tmp_path)
    images = np.zeros((6, 8, 8, 1), "float32")
    labels = np.array([0, 0, 1, 1, 2, 2])
    data = FaceDatasets(
        train=None,
        splits={"validation": (images, labels)},
        pairs={"validation": faces.sample_pairs(labels, 10, 0)},
    )
    callbacks = recipe.build_callbacks(data)
    kinds = [type(callback) for callback in callbacks]
    assert kinds[0] is EpochSeeding and kinds[1] is VerificationCallback
    assert kinds.count(VerificationCallback) == 1
    assert kinds[-1] is AtomicBackupAndRestore
    # Everything after it finds val_auc in the epoch's logs.
    readers = [
        index
        for index, callback in enumerate(callbacks)
        if getattr(callback, "monitor", None) == "val_auc"
        or isinstance(callback, keras.callbacks.CSVLogger | AtomicBackupAndRestore)
    ]
    assert len(readers) == 4 and min(readers) > 1


def test_metrics_recomputed_from_the_saved_model(quick_run):
    metrics = json.loads((quick_run.run_dir / "metrics.json").read_text())
    recipe, model = load_run(quick_run.run_dir)
    keras.utils.set_random_seed(recipe.config.seed)
    data = recipe.build_data()
    split, seed = data.splits, recipe.config.seed
    # The threshold is the most accurate one on the validation pairs.
    x_val, y_val = split["validation"]
    first, second, same = faces.sample_pairs(y_val, 4000, seed)
    embedded = model.predict(x_val[:], verbose=0)
    distances = np.sum((embedded[first] - embedded[second]) ** 2, axis=1)
    accuracy = np.mean((distances <= metrics["threshold"]) == same)
    best = max(np.mean((distances <= d) == same) for d in distances)
    assert accuracy == pytest.approx(best)
    # AUCs as scikit-learn computes them, on the same pairs.
    for name, prefix in (("seen_test", "seen"), ("unseen", "unseen")):
        images, labels = split[name]
        first, second, same = faces.sample_pairs(labels, 4000, seed)
        embedded = model.predict(images[:], verbose=0)
        distances = np.sum((embedded[first] - embedded[second]) ** 2, axis=1)
        assert metrics[f"{prefix}_auc"] == pytest.approx(
            roc_auc_score(same, -distances), abs=1e-4
        )
    images, labels = split["unseen"]
    pixels = images[:].reshape(len(images), -1).astype("float64")
    first, second, same = faces.sample_pairs(labels, 4000, seed)
    distances = np.sum((pixels[first] - pixels[second]) ** 2, axis=1)
    assert metrics["unseen_pixel_auc"] == pytest.approx(
        roc_auc_score(same, -distances), abs=1e-9
    )
    # The unseen identities are the 1,797 real digits.
    assert len(labels) == 1797 and metrics["unseen_pairs"] == 4000
    # Short training already separates the letters.
    assert metrics["seen_auc"] >= 0.85
    assert 0.1 < metrics["unseen_one_shot_accuracy"] <= 1
    # Evaluating the saved model again gives the same metrics, and carries
    # the one-shot enrolment the run saved.
    evaluation = recipe.evaluate(model, data)
    assert evaluation.metrics == pytest.approx(metrics)
    assert evaluation.threshold == metrics["threshold"]
    saved = faces.EnrollmentDatabase.load(quick_run.run_dir / "enrolled.npz")
    assert evaluation.database.names.tolist() == saved.names.tolist()
    np.testing.assert_array_equal(evaluation.database.embeddings, saved.embeddings)
    np.testing.assert_array_equal(
        evaluation.database.embeddings,
        evaluation.embeddings["unseen"][evaluation.gallery],
    )
    assert (labels[evaluation.gallery] == np.arange(10)).all()


def _write_digit(path, image):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.round(image[..., 0]).astype("uint8"), mode="L").save(path)


def test_enroll_identify_verify_commands(quick_run, tmp_path, capsys):
    _, (x_test, y_test), _ = load_digits()
    people = tmp_path / "people"
    for digit in range(3):  # one image each: one-shot enrolment
        index = np.flatnonzero(y_test == digit)[0]
        _write_digit(people / f"person{digit}" / "a.png", x_test[index])
    queries = []
    for digit in range(3):
        index = np.flatnonzero(y_test == digit)[1]
        queries.append(tmp_path / "queries" / f"{digit}.png")
        _write_digit(queries[-1], x_test[index])
    database = tmp_path / "people.npz"
    run_dir = str(quick_run.run_dir)
    assert main(["enroll", run_dir, str(people), "--database", str(database)]) == 0
    assert "enrolled person0 (1 image)" in capsys.readouterr().out
    assert (
        main(["identify", run_dir, *map(str, queries), "--database", str(database)])
        == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    # The same answers as the database in this process.
    model = keras.saving.load_model(quick_run.run_dir / "model.keras")
    stored = faces.EnrollmentDatabase.load(database)
    assert stored.identities == ["person0", "person1", "person2"]
    expected = stored.identify(
        faces.embed_images(
            model,
            np.stack(
                [np.asarray(Image.open(q), "float32")[..., None] for q in queries]
            ),
        )
    )
    for line, (name, distance) in zip(lines, expected, strict=True):
        assert line.endswith(f": {name} (distance {distance:.4f})")
    # verify: an image against itself is the same person at distance 0.
    assert main(["verify", run_dir, str(queries[0]), str(queries[0])]) == 0
    assert capsys.readouterr().out.startswith("same: distance 0.0000 <=")


def test_command_mistakes_are_one_line(quick_run, tmp_path, capsys):
    run_dir = str(quick_run.run_dir)
    assert main(["verify", run_dir, "missing.png", "missing.png"]) == 2
    assert "image file not found: missing.png" in capsys.readouterr().err
    assert main(["enroll", run_dir, str(tmp_path)]) == 2
    assert "no images in" in capsys.readouterr().err
    assert main(["identify", str(tmp_path), "x.png"]) == 2
    assert "not a run directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"sampler.identities_per_batch": 60}, "identities_per_batch=60"),
        ({"data.source": "folder"}, "data.directory is not set"),
        ({"data.source": "digits"}, "unseen=digits needs another"),
        ({"data.glyph_fit_height": [20, 40]}, "within the 32-pixel canvas"),
        ({"data.unseen_identities": ["a"]}, "applies to data.unseen=held_out"),
    ],
)
def test_config_mistakes_stop_before_training(overrides, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        keras_recipes.run("face_triplet", overrides, runs_root=tmp_path)
    assert not list(tmp_path.glob("face_triplet/*"))


def test_identity_folder_with_held_out_people(tmp_path):
    # The real job: a folder of identity subfolders (the LFW layout).
    (x, y), _, _ = load_digits()
    for digit in range(8):
        for index in np.flatnonzero(y == digit)[:16]:
            _write_digit(
                tmp_path / "faces" / f"person_{digit}" / f"{index}.png", x[index]
            )
    result = keras_recipes.run(
        "face_triplet",
        {
            **QUICK,
            "data.source": "folder",
            "data.directory": str(tmp_path / "faces"),
            "data.unseen": "held_out",
            "data.unseen_identities": ["person_6", "person_7"],
            "data.seen_test_fraction": 0.25,
            "train.validation_split": 0.25,
            "sampler.identities_per_batch": 6,
            "train.epochs": 4,
        },
        runs_root=tmp_path / "runs",
    )
    database = faces.EnrollmentDatabase.load(result.run_dir / "enrolled.npz")
    assert database.identities == ["person_6", "person_7"]
    assert result.metrics["unseen_pairs"] == 2 * 2 * (16 * 15 // 2)
    assert 0 <= result.metrics["unseen_auc"] <= 1


@pytest.mark.slow
def test_shipped_config_meets_the_issue_bars(tmp_path):
    result = keras_recipes.run("face_triplet", {"train.verbose": 0}, runs_root=tmp_path)
    metrics = result.metrics
    assert metrics["seen_auc"] >= 0.95
    assert metrics["unseen_auc"] > metrics["unseen_pixel_auc"] + 0.02
    # One-shot naming of the digits is about as good as raw pixels (0.61 to
    # 0.70 against 0.62 to 0.68 over five seeds): far above chance (0.1).
    assert metrics["unseen_one_shot_accuracy"] > 0.55
