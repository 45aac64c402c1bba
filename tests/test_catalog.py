"""Listing and showing recipes without TensorFlow, and a broken recipe module."""

import os
import subprocess
import sys

import yaml

from keras_recipes import catalog
from keras_recipes.api import load_config
from keras_recipes.config import to_dict
from keras_recipes.errors import UserError

NO_TENSORFLOW = (
    "import sys\n"
    "from keras_recipes.cli import main\n"
    "status = main({argv!r})\n"
    "started = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)\n"
    "print('STARTED', started)\n"
    "sys.exit(status)\n"
)


def _run_python(code):
    env = dict(os.environ)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )


def test_list_names_every_builtin_recipe_without_starting_tensorflow():
    done = _run_python(NO_TENSORFLOW.format(argv=["list"]))
    assert done.returncode == 0, done.stderr
    assert "STARTED []" in done.stdout
    listed = [line.split()[0] for line in done.stdout.splitlines()[:-1]]
    assert listed == sorted(catalog.BUILTIN)
    assert "(broken)" not in done.stdout


def test_show_prints_the_resolved_config_without_starting_tensorflow():
    argv = ["show", "yolo", "--set", "train.epochs=3"]
    done = _run_python(NO_TENSORFLOW.format(argv=argv))
    assert done.returncode == 0, done.stderr
    assert "STARTED []" in done.stdout
    shown = yaml.safe_load(done.stdout.rsplit("STARTED", 1)[0])
    assert shown == to_dict(load_config("yolo", ["train.epochs=3"]))
    assert shown["train"]["epochs"] == 3


def test_every_recipe_config_is_importable_on_its_own():
    for name in catalog.BUILTIN:
        config = catalog.get_config_class(name)()
        assert config.recipe == name
        assert catalog.get_config_class(name).description


def test_a_broken_recipe_module_is_named_and_the_others_still_list(monkeypatch):
    monkeypatch.setitem(
        catalog.BUILTIN, "broken_recipe", ("no_such_package", "Config", "Recipe")
    )
    listed = catalog.list_recipes()
    assert listed["broken_recipe"].startswith("(broken) recipe 'broken_recipe'")
    assert "keras_recipes.recipes.no_such_package.config" in listed["broken_recipe"]
    others = {k: v for k, v in listed.items() if k != "broken_recipe"}
    assert sorted(others) == sorted(set(catalog.BUILTIN) - {"broken_recipe"})
    assert not any(v.startswith("(broken)") for v in others.values())
    try:
        catalog.get_recipe("broken_recipe")
    except UserError as error:
        assert "no_such_package" in str(error)
    else:
        raise AssertionError("a broken recipe module must raise UserError")


def test_an_unknown_recipe_suggests_the_nearest_name():
    try:
        catalog.get_recipe("yollo")
    except UserError as error:
        assert "did you mean 'yolo'" in str(error)
    else:
        raise AssertionError("an unknown name must raise UserError")
