"""The command line: one clear line and status 2 for a user's mistake."""

import pytest
from conftest import run_cli


def _one_error_line(result):
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_mistyped_key_names_it_and_suggests_the_right_one(tmp_path):
    result = run_cli(
        "run", "small_data_classifier", "--set", "train.epochz=3", cwd=tmp_path
    )
    line = _one_error_line(result)
    assert "epochz" in line and "'epochs'" in line
    assert not (tmp_path / "runs").exists()  # nothing started


def test_unknown_recipe(tmp_path):
    line = _one_error_line(run_cli("run", "small_data_clasifier", cwd=tmp_path))
    assert "did you mean 'small_data_classifier'" in line


def test_bad_command_is_one_line(tmp_path):
    line = _one_error_line(run_cli("fly", cwd=tmp_path))
    assert "invalid choice" in line


def test_list_and_show(tmp_path):
    listed = run_cli("list", cwd=tmp_path)
    assert listed.returncode == 0
    assert "small_data_classifier" in listed.stdout
    shown = run_cli(
        "show", "small_data_classifier", "--set", "train.epochs=3", cwd=tmp_path
    )
    assert shown.returncode == 0
    assert "recipe: small_data_classifier" in shown.stdout
    assert "epochs: 3" in shown.stdout
    assert shown.stderr == ""


def _folder_run(tmp_path, directory):
    return run_cli(
        "run",
        "small_data_classifier",
        "--set",
        "data.source=folder",
        "--set",
        f"data.directory={directory}",
        "--set",
        "train.epochs=1",
        "--runs-root",
        tmp_path / "runs",
        cwd=tmp_path,
    )


def _make_class_folder(root, classes=("a", "b"), per_class=2):
    from PIL import Image

    for name in classes:
        (root / name).mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            Image.new("L", (8, 8), color=40 * index).save(root / name / f"{index}.png")


@pytest.mark.parametrize(
    "problem, expected",
    [
        ("missing", "data folder not found"),
        ("empty_class", "class folder is empty"),
        ("non_image", "not an image file"),
        ("corrupt", "cannot read image"),
        ("mismatched", "use the same class subfolders"),
    ],
)
def test_bad_data_folders_name_the_path(tmp_path, problem, expected):
    data = tmp_path / "data"
    bad_path = data
    if problem != "missing":
        _make_class_folder(data / "train")
        _make_class_folder(data / "validation")
    if problem == "empty_class":
        bad_path = data / "train" / "c"
        bad_path.mkdir()
    elif problem == "non_image":
        bad_path = data / "train" / "a" / "notes.txt"
        bad_path.write_text("not a picture")
    elif problem == "corrupt":
        bad_path = data / "validation" / "b" / "broken.png"
        good = (data / "validation" / "b" / "0.png").read_bytes()
        bad_path.write_bytes(good[: len(good) // 2])
    elif problem == "mismatched":
        bad_path = data / "validation"
        _make_class_folder(bad_path, classes=("a", "z"))
    line = _one_error_line(_folder_run(tmp_path, data))
    assert expected in line
    assert str(bad_path) in line


def test_nan_loss_stops_with_one_line_suggesting_a_lower_rate(tmp_path):
    result = run_cli(
        "run",
        "small_data_classifier",
        "--set=optimizer.name=sgd",
        "--set=optimizer.learning_rate=1e9",
        "--set=optimizer.schedule.name=constant",
        "--set=train.epochs=3",
        # In float32 the weights overflow to NaN within three epochs.
        "--set=train.mixed_precision=float32",
        "--set=data.image_size=[8, 8]",
        "--run-dir",
        tmp_path / "run",
        cwd=tmp_path,
    )
    line = _one_error_line(result)
    assert "NaN" in line and "lower optimizer.learning_rate" in line
    assert (tmp_path / "run" / "config.yaml").is_file()
    assert not (tmp_path / "run" / "metrics.json").exists()
