"""The package's own standards: ruff clean, and documented public functions."""

import importlib
import inspect
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import keras_recipes

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ["src", "tests", "recipes", "benchmarks"]


def _ruff(*args):
    # The ruff installed beside this Python (the test extra) decides, not
    # whichever one is first on PATH.
    beside = Path(sys.executable).parent / "ruff"
    ruff = str(beside) if beside.exists() else shutil.which("ruff")
    return subprocess.run(
        [ruff, *args, *[f for f in FOLDERS if (REPO / f).is_dir()]],
        cwd=REPO,
        capture_output=True,
        text=True,
    )


def test_ruff_check_is_clean():
    result = _ruff("check", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = _ruff("format", "--check", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr


def _public_functions():
    for info in pkgutil.walk_packages(keras_recipes.__path__, "keras_recipes."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if name.startswith("_") or getattr(value, "__module__", "") != info.name:
                continue
            if inspect.isfunction(value):
                yield f"{info.name}.{name}", value


FUNCTIONS = dict(_public_functions())


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_public_function_docstring(name):
    function = FUNCTIONS[name]
    doc = inspect.getdoc(function) or ""
    assert doc, f"{name} has no docstring"
    summary = doc.splitlines()[0]
    assert summary.endswith("."), f"{name}: one-line summary ending with a period"
    if name.endswith("_command"):
        return  # command-line handlers: documented by `--help`
    parameters = [
        p
        for p in inspect.signature(function).parameters.values()
        if p.name not in ("self", "cls")
    ]
    if parameters:
        assert "Args:" in doc, f"{name}: missing Args:"
    assert "Returns:" in doc or "Yields:" in doc, f"{name}: missing Returns:"
    assert "Example:" in doc, f"{name}: missing Example:"
