"""The installed Keras is within the range pyproject.toml declares."""

import sys
from importlib import metadata
from pathlib import Path

import keras
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]


def _keras_requirement():
    if sys.version_info >= (3, 11):
        import tomllib

        project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
        dependencies = project["dependencies"]
    else:  # no TOML reader: the installed package's metadata says the same
        dependencies = metadata.requires("keras-recipes") or []
    requirements = [Requirement(line) for line in dependencies]
    return next(r for r in requirements if r.name == "keras")


def test_installed_keras_is_in_the_declared_range():
    specifier = _keras_requirement().specifier
    assert specifier.contains(keras.__version__, prereleases=True), (
        f"Keras {keras.__version__} is outside keras{specifier}, the versions "
        f"this package is tested on (pyproject.toml); install keras{specifier}"
    )
