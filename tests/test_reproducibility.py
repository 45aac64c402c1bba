"""The same config and seed give the same metrics.json on CPU, for every recipe."""

import json

import pytest

import keras_recipes

# Two quick runs of these take 20 s or more (nested runs, many epochs, or
# fine-tuning VGG16): `pytest -m slow` runs them.
SLOW = {"face_triplet", "transfer_digits", "vgg16_fine_tune"}


def _recipes():
    for name in keras_recipes.list_recipes():
        marks = [pytest.mark.slow] if name in SLOW else []
        yield pytest.param(name, marks=marks, id=name)


def _results(run_dir):
    # Wall-clock times go to timings.json: the whole metrics.json must match.
    return json.loads((run_dir / "metrics.json").read_text())


def test_every_recipe_has_a_quick_setting():
    missing = [
        name
        for name in keras_recipes.list_recipes()
        if not keras_recipes.get_recipe(name).quick
    ]
    assert missing == []


def _skip_figures(recipe_class, monkeypatch):
    """Figures come after `metrics.json` is written, so they cannot change it."""
    for cls in recipe_class.__mro__:
        if "figures" in vars(cls):
            monkeypatch.setattr(cls, "figures", lambda self, *args: None)


@pytest.mark.parametrize("name", list(_recipes()))
def test_same_config_and_seed_give_identical_metrics(name, tmp_path, monkeypatch):
    _skip_figures(keras_recipes.get_recipe(name), monkeypatch)
    runs = [
        keras_recipes.run(
            name, {"train.verbose": 0}, runs_root=tmp_path / root, quick=True
        )
        for root in ("a", "b")
    ]
    first, second = (_results(run.run_dir) for run in runs)
    assert first, f"{name} wrote an empty metrics.json"
    assert first.keys() == second.keys()
    # Exact equality; as JSON text, NaN equals NaN (as in the files).
    differ = {
        key: (first[key], second[key])
        for key in first
        if json.dumps(first[key], sort_keys=True)
        != json.dumps(second[key], sort_keys=True)
    }
    assert differ == {}
