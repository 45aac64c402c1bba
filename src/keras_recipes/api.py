"""The Python entry points: load a config, run a recipe, load a finished run."""

import json
import sys
from pathlib import Path

from keras_recipes import config as config_lib
from keras_recipes.catalog import get_config_class, get_recipe
from keras_recipes.errors import ConfigError, UserError
from keras_recipes.registry import registered

# Beside a run's config.yaml: the class that ran and what was chosen for it.
RUN_INFO = "run.json"


def _config_file(name_or_path):
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or Path(text).is_file():
        return Path(text)
    return None


def _recipe_name(name_or_path):
    text = str(name_or_path)
    if _config_file(text) is not None:
        name = config_lib.read_yaml(text).get("recipe")
        if not name:
            raise ConfigError(
                f"{text}: no 'recipe:' key; add the recipe name, "
                f"e.g. recipe: small_data_classifier"
            )
        return str(name), [(text, config_lib.read_yaml(text))]
    return text, []


def load_config(name_or_path, overrides=None, config_class=None):
    """Resolves a recipe's config from its name or a YAML file.

    A name gives the recipe's defaults; a file must name its recipe in a
    `recipe:` key and is merged over that recipe's defaults. Overrides come
    last. Only the recipe's config module is imported, not TensorFlow.

    Args:
        name_or_path: A recipe name, or the path of a YAML file such as a
            run directory's `config.yaml`.
        overrides: `a.b=value` strings or a `{"a.b": value}` mapping.
            Defaults to `None`.
        config_class: The config dataclass to resolve into, for a recipe
            subclass with a config of its own. Defaults to the named
            recipe's.

    Returns:
        The validated config dataclass of the recipe.

    Example:

    ```python
    config = load_config("small_data_classifier", {"train.epochs": 3})
    ```
    """
    name, layers = _recipe_name(name_or_path)
    if config_class is None:
        try:
            config_class = get_config_class(name)
        except UserError:
            _refuse_unloaded_class(name, _config_file(name_or_path))
            raise
    # A registered subclass shares its parent's config class; its runs
    # record its own name, so that their config.yaml reruns the subclass.
    layers = [(f"recipe {name}", {"recipe": name}), *layers]
    config = config_lib.resolve(config_class, layers, overrides)
    if config.recipe != name:
        raise ConfigError(
            f"config key 'recipe' is '{config.recipe}' but the config is for '{name}'"
        )
    return config


def load_run(run_dir):
    """Returns the recipe and its trained model from a finished run directory.

    Args:
        run_dir: A finished run directory (with `config.yaml` and
            `model.keras`).

    Returns:
        A `(recipe, model)` tuple; the recipe's `run_dir` is set.

    Example:

    ```python
    recipe, model = load_run("runs/small_data_classifier/20260101-000000")
    ```
    """
    from keras_recipes.run_files import load_model_safely

    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise UserError(f"no such run directory: {run_dir}")
    config_file = run_dir / "config.yaml"
    if not config_file.is_file():
        raise UserError(f"not a run directory (no config.yaml): {run_dir}")
    name, _ = _recipe_name(config_file)
    recipe_class = find_recipe_class(name, config_file, strict=False)
    config = load_config(config_file, config_class=recipe_class.config_class)
    recipe = recipe_class(config, run_dir=run_dir)
    model_path = run_dir / "model.keras"
    if not model_path.is_file():
        raise UserError(
            f"{run_dir} has no model.keras (the run did not finish, "
            f"or export.keras was off)"
        )
    return recipe, recipe.model_from_portable(load_model_safely(model_path))


def run(
    name_or_path,
    overrides=None,
    run_dir=None,
    resume=False,
    runs_root="runs",
    quick=False,
):
    """Runs a recipe by name or from a YAML config and returns its `RunResult`.

    Args:
        name_or_path: A recipe name or a YAML file naming its recipe, such as
            a run's `config.yaml`.
        overrides: `a.b=value` strings or a `{"a.b": value}` mapping, applied
            last. Defaults to `None`.
        run_dir: Directory to write into. Defaults to
            `runs/<recipe>/<timestamp>`.
        resume: Continue the interrupted run in `run_dir` (or the newest
            unfinished run of the recipe) from its last finished epoch; its
            saved `config.yaml` is the config. Defaults to `False`.
        runs_root: Parent folder of the default run directories.
            Defaults to `"runs"`.
        quick: Apply the recipe's `quick` overrides first (a run of seconds
            with a tiny model, to try the pipeline). Defaults to `False`.

    Returns:
        A `RunResult` with `run_dir`, `history`, `metrics` and `config`.

    Example:

    ```python
    import keras_recipes

    result = keras_recipes.run("small_data_classifier", {"train.epochs": 5})
    print(result.metrics["test_accuracy"], result.run_dir)
    ```
    """
    from keras_recipes.run_files import latest_unfinished_run

    if resume:
        if run_dir is None:
            name, _ = _recipe_name(name_or_path)
            run_dir = latest_unfinished_run(runs_root, get_recipe(name).name)
        name_or_path = Path(run_dir) / "config.yaml"
    name, _ = _recipe_name(name_or_path)
    recipe_class = find_recipe_class(name, _config_file(name_or_path))
    if quick:
        overrides = _as_texts(recipe_class.quick) + _as_texts(overrides)
    config = load_config(name_or_path, overrides, recipe_class.config_class)
    return recipe_class(
        config, run_dir=run_dir, resume=resume, runs_root=runs_root
    ).run()


def _as_texts(overrides):
    if isinstance(overrides, dict):
        # JSON is YAML, so each value parses back to itself.
        return [f"{key}={json.dumps(value)}" for key, value in overrides.items()]
    return list(overrides or [])


def read_run_info(run_dir):
    """Returns a run directory's `run.json`, or `{}` when it has none.

    Args:
        run_dir: The run directory.

    Returns:
        The `dict` that `Recipe.run` recorded: `recipe`, `class`
        (`module:qualname`), `resolved` (what `auto` settings chose) and
        `versions`.

    Example:

    ```python
    read_run_info("runs/small_data_classifier/20260101-000000")["resolved"]
    ```
    """
    path = Path(run_dir) / RUN_INFO
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def find_recipe_class(name, config_file=None, strict=True):
    """Returns the `Recipe` class to rebuild a run from its `config.yaml`.

    A run records the class that ran (`module:qualname`) in `run.json`
    beside its `config.yaml`. That class is used when it is the recipe the
    name gives, or is loaded in this process (a subclass with no name of
    its own shares its parent's). A class of a module that is not loaded is
    refused with one line naming what to import, as is an unknown name.

    Args:
        name: The recipe name the config gives.
        config_file: The config file, or `None` for a recipe named directly.
            Defaults to `None`.
        strict: Whether to refuse a recorded class that is not loaded when
            the name gives another one; `False` falls back to the name's
            class, which serves a finished run's model as well. Defaults to
            `True`.

    Returns:
        The `Recipe` subclass.

    Example:

    ```python
    find_recipe_class("tiny_classifier", Path("runs/tiny_classifier/x/config.yaml"))
    ```
    """
    recorded = read_run_info(config_file.parent).get("class") if config_file else None
    try:
        named = get_recipe(name)
    except UserError:
        if recorded is None:
            raise
        named = None
    # The package's own classes may move between versions; their names stay.
    if recorded is None or recorded.startswith("keras_recipes."):
        return named
    if named is not None and _class_path(named) == recorded:
        return named
    loaded = _loaded_class(recorded)
    if loaded is not None:
        return loaded
    qualname = recorded.partition(":")[2]
    if named is not None and (
        not strict
        or (registered().get(name) is named and named.__qualname__ == qualname)
    ):
        return named
    raise UserError(_not_loaded(recorded, name, config_file))


def _class_path(cls):
    return f"{cls.__module__}:{cls.__qualname__}"


def _loaded_class(recorded):
    from keras_recipes.training import Recipe

    module_name, _, qualname = recorded.partition(":")
    found = sys.modules.get(module_name)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if isinstance(found, type) and issubclass(found, Recipe):
        return found
    return None


def _refuse_unloaded_class(name, config_file):
    """Raises the one line naming the class to import, if the run recorded it."""
    recorded = read_run_info(config_file.parent).get("class") if config_file else None
    if recorded and not recorded.startswith("keras_recipes."):
        raise UserError(_not_loaded(recorded, name, config_file))


def _not_loaded(recorded, name, config_file):
    module, _, qualname = recorded.partition(":")
    ran = f"{config_file} is from a run of {recorded} (recipe '{name}')"
    if "<locals>" in qualname:
        return (
            f"{ran}, a class defined inside a function, which cannot be imported; "
            f"define it at the top level of a module to rerun its runs"
        )
    if module == "__main__":
        script = read_run_info(config_file.parent).get("class_file") or "a script"
        return (
            f"{ran}, defined in {script}; rerun it from that script with "
            f"keras_recipes.run({str(config_file)!r}), or move the class into a "
            f"module and pass --import MODULE"
        )
    return (
        f"{ran}, which is not loaded; import {module} first "
        f"(command line: add --import {module})"
    )
