"""The Python entry points: load a config, run a recipe, load a finished run."""

import json
from pathlib import Path

from keras_recipes import config as config_lib
from keras_recipes.catalog import get_config_class, get_recipe
from keras_recipes.errors import ConfigError, UserError


def _recipe_name(name_or_path):
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or Path(text).is_file():
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
    config_class = config_class or get_config_class(name)
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
    from keras_recipes.training import load_model_safely

    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file():
        raise UserError(f"not a run directory (no config.yaml): {run_dir}")
    config = load_config(run_dir / "config.yaml")
    recipe = get_recipe(config.recipe)(config, run_dir=run_dir)
    model_path = run_dir / "model.keras"
    if not model_path.is_file():
        raise UserError(
            f"{run_dir} has no model.keras (the run did not finish, "
            f"or export.keras was off)"
        )
    return recipe, load_model_safely(model_path)


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
    from keras_recipes.training import latest_unfinished_run

    if resume:
        if run_dir is None:
            name, _ = _recipe_name(name_or_path)
            run_dir = latest_unfinished_run(runs_root, get_recipe(name).name)
        name_or_path = Path(run_dir) / "config.yaml"
    name, _ = _recipe_name(name_or_path)
    recipe_class = get_recipe(name)
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
