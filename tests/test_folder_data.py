"""A user's own folder: the source and sizes it implies, and files left out."""

import numpy as np
import pytest
from PIL import Image

import keras_recipes
from keras_recipes.cli import main
from keras_recipes.data.image_files import SkippedFiles
from keras_recipes.data.image_folder import scan_class_folder
from keras_recipes.errors import ConfigError, DataError


def _photo_folder(root, per_class=6, size=(20, 24)):
    rng = np.random.default_rng(0)
    for name in ("cat", "dog"):
        folder = root / name
        folder.mkdir(parents=True)
        for index in range(per_class):
            pixels = rng.integers(0, 256, (*size, 3), dtype="uint8")
            Image.fromarray(pixels).save(folder / f"{name}.{index}.jpg")
    return root


def _litter(root):
    """Adds what Finder, Explorer and zip tools leave; returns how many."""
    (root / "cat" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (root / "dog" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (root / "dog" / "._dog.0.jpg").write_bytes(b"\x00\x05\x16\x07")
    hidden = root / "cat" / ".thumbnails"
    hidden.mkdir()
    (hidden / "small.jpg").write_bytes(b"not a jpeg")
    (root / ".git").mkdir()  # a hidden folder is no class
    return 4


@pytest.mark.parametrize(
    "recipe, size, mode",
    [
        ("small_data_classifier", [150, 150], "rgb"),
        ("autoencoder", [64, 64], "rgb"),
        ("vae", [64, 64], "rgb"),
        ("face_triplet", [64, 64], "rgb"),
    ],
)
def test_a_directory_alone_means_the_folder_with_photo_sizes(recipe, size, mode):
    config = keras_recipes.load_config(recipe, {"data.directory": "photos"})

    assert config.data.source == "folder"
    assert (config.data.image_size, config.data.color_mode) == (size, mode)
    assert config.implied_settings == (
        "data.source: folder (data.directory is set)",
        f"data.image_size={size[0]}x{size[1]}, data.color_mode={mode}: the "
        f"defaults for a folder of photos (--set them to change)",
    )


def test_settings_the_user_gave_are_kept():
    config = keras_recipes.load_config(
        "small_data_classifier",
        ["data.source=folder", "data.directory=photos", "data.image_size=[32,48]"],
    )

    assert config.data.image_size == [32, 48]
    assert config.data.color_mode == "rgb"
    assert config.implied_settings == (
        "data.color_mode=rgb: the defaults for a folder of photos "
        "(--set them to change)",
    )
    # The embedded sets keep theirs; a run's saved config is taken as it is.
    assert keras_recipes.load_config("small_data_classifier").data.image_size == [
        16,
        16,
    ]


def test_a_directory_beside_a_source_that_reads_none_is_refused(tmp_path, capsys):
    with pytest.raises(ConfigError, match=r"data.directory is set but data.source"):
        keras_recipes.load_config(
            "vae", {"data.source": "digits", "data.directory": "photos"}
        )

    status = main(
        [
            "run",
            "small_data_classifier",
            "--set",
            "data.source=digits",
            "--set",
            f"data.directory={tmp_path}",
            "--runs-root",
            str(tmp_path / "runs"),
        ]
    )

    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1 and "--set data.source=folder" in err[0]
    assert not (tmp_path / "runs").exists()


def test_a_saved_config_with_the_default_folder_and_another_source_loads():
    # vgg16_bottleneck's default folder is data/cats_and_dogs; a run on the
    # digits saves both, and its config.yaml must load again as it is.
    overrides = {"data.source": "digits", "data.directory": "data/cats_and_dogs"}

    config = keras_recipes.load_config("vgg16_bottleneck", overrides)

    assert config.data.source == "digits"
    assert config.implied_settings == ()


def test_hidden_and_system_files_are_skipped_and_counted(tmp_path):
    root = _photo_folder(tmp_path / "photos")
    count = _litter(root)
    skipped = SkippedFiles()

    names, files = scan_class_folder(root, skipped=skipped)

    assert names == ["cat", "dog"]
    assert len(files) == 12
    assert len(skipped.hidden) == count
    assert skipped.summary() == [
        f"skipped {count} hidden or system file(s) in the data folder "
        f"(.DS_Store, ._dog.0.jpg, Thumbs.db, ...)"
    ]


def test_a_bad_file_stops_the_scan_unless_skip_bad_files(tmp_path):
    root = _photo_folder(tmp_path / "photos")
    (root / "cat" / "notes.txt").write_text("shopping list")
    (root / "dog" / "broken.jpg").write_bytes(b"\xff\xd8 truncated")

    with pytest.raises(DataError, match=r"notes.txt.*data.skip_bad_files=true"):
        scan_class_folder(root)
    skipped = SkippedFiles(skip_bad=True)
    _, files = scan_class_folder(root, skipped=skipped)

    assert len(files) == 12
    assert [path.name for path, _ in skipped.bad] == ["notes.txt", "broken.jpg"]


def test_a_run_on_a_littered_folder_reports_and_lists_what_it_skipped(tmp_path, capsys):
    root = _photo_folder(tmp_path / "photos", per_class=10)
    hidden = _litter(root)
    (root / "dog" / "broken.jpg").write_bytes(b"\xff\xd8 truncated")

    status = main(
        [
            "run",
            "small_data_classifier",
            "--quick",
            "--set",
            f"data.directory={root}",
            "--set",
            "data.image_size=[16,16]",
            "--set",
            "data.skip_bad_files=true",
            "--set",
            "train.verbose=0",
            "--runs-root",
            str(tmp_path / "runs"),
        ]
    )

    out = capsys.readouterr().out
    run_dir = next((tmp_path / "runs" / "small_data_classifier").iterdir())
    listing = (run_dir / "skipped_files.txt").read_text().splitlines()
    saved = keras_recipes.load_config(run_dir / "config.yaml")
    assert status == 0
    assert "data.source: folder (data.directory is set)" in out
    assert "data.color_mode=rgb: the defaults for a folder of photos" in out
    assert f"skipped {hidden} hidden or system file(s)" in out
    assert "skipped 1 unreadable file(s) (data.skip_bad_files)" in out
    assert len(listing) == 1 and listing[0].startswith(str(root / "dog" / "broken.jpg"))
    # Rerunning the saved config reads the same folder the same way.
    assert (saved.data.source, saved.data.color_mode) == ("folder", "rgb")
    assert saved.implied_settings == ()


def test_the_autoencoders_folder_scan_skips_the_same_files(tmp_path):
    from keras_recipes.data.image_arrays import load_image_splits

    root = _photo_folder(tmp_path / "photos")
    hidden = _litter(root)
    (root / "dog" / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    config = keras_recipes.load_config(
        "autoencoder", {"data.directory": str(root), "data.skip_bad_files": True}
    ).data

    splits = load_image_splits(config, validation_split=0.2, seed=0)

    found = len(splits.train.files) + len(splits.validation.files)
    assert found + len(splits.test.files) == 12
    assert len(splits.skipped.hidden) == hidden
    assert [path.name for path, _ in splits.skipped.bad] == ["broken.jpg"]
