"""Safe by default: safe YAML, Keras safe_mode, nothing unpickled."""

import re
from pathlib import Path

import keras
import pytest

from keras_recipes.errors import UserError
from keras_recipes.run_files import load_model_safely

SOURCE = Path(__file__).resolve().parents[1] / "src" / "keras_recipes"
UNSAFE = {
    "safe_mode off": re.compile(r"safe_mode\s*=\s*False|enable_unsafe_deserialization"),
    "pickle": re.compile(r"^\s*(import|from)\s+(c?pickle|dill|joblib)\b", re.M),
    "allow_pickle": re.compile(r"allow_pickle\s*=\s*True"),
    "unsafe yaml": re.compile(r"yaml\.(load|unsafe_load|full_load)\s*\("),
    "eval": re.compile(r"(?<![\w.])(eval|exec)\s*\("),
}


@pytest.mark.parametrize("name", sorted(UNSAFE))
def test_the_package_source_never_does_it(name):
    offenders = [
        str(path.relative_to(SOURCE))
        for path in SOURCE.rglob("*.py")
        if UNSAFE[name].search(path.read_text())
    ]
    assert offenders == []


def test_a_model_with_python_code_is_refused(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda x: x * 2)])
    path = tmp_path / "model.keras"
    model.save(path)
    with pytest.raises(UserError, match="refusing to load .*safe_mode"):
        load_model_safely(path)


def test_a_plain_model_loads(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    path = tmp_path / "model.keras"
    model.save(path)
    assert load_model_safely(path).count_params() == 3
