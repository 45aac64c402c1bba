"""The shipped `configs/*.yaml` are the recipes' defaults, written out."""

from pathlib import Path

import pytest
import yaml

from keras_recipes import catalog
from keras_recipes.api import load_config
from keras_recipes.config import to_dict

CONFIGS = Path(__file__).resolve().parents[1] / "src" / "keras_recipes" / "configs"


@pytest.mark.parametrize("name", sorted(catalog.BUILTIN))
def test_shipped_config_equals_the_recipe_defaults(name):
    path = CONFIGS / f"{name}.yaml"
    shipped = yaml.safe_load(path.read_text())
    defaults = to_dict(load_config(name))
    assert shipped == defaults, (
        f"{path} differs from the defaults in the recipe's config classes; "
        f"write it again with `python -m keras_recipes show {name}`"
    )


def test_every_shipped_config_belongs_to_a_recipe():
    assert sorted(p.stem for p in CONFIGS.glob("*.yaml")) == sorted(catalog.BUILTIN)


def test_a_shipped_config_file_runs_as_a_config(tmp_path):
    config = load_config(CONFIGS / "vae.yaml", ["train.epochs=2"])
    assert config.recipe == "vae"
    assert config.train.epochs == 2
