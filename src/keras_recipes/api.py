"""The one-call Python entry point."""

import json
from pathlib import Path

from keras_recipes.config import read_yaml
from keras_recipes.registry import get_recipe
from keras_recipes.training import latest_unfinished_run, load_config


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
        name_or_path: A recipe name (its shipped config is used) or a YAML
            file naming its recipe, such as a run's `config.yaml`.
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
    if resume:
        if run_dir is None:
            name = get_recipe(_recipe_name(name_or_path)).name
            run_dir = latest_unfinished_run(runs_root, name)
        name_or_path = Path(run_dir) / "config.yaml"
    if quick:
        recipe_class = get_recipe(_recipe_name(name_or_path))
        overrides = _as_texts(recipe_class.quick) + _as_texts(overrides)
    config = load_config(name_or_path, overrides)
    recipe = get_recipe(config.recipe)
    return recipe(config, run_dir=run_dir, resume=resume, runs_root=runs_root).run()


def _recipe_name(name_or_path):
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")):
        return str(read_yaml(text).get("recipe", ""))
    return text


def _as_texts(overrides):
    if isinstance(overrides, dict):
        # JSON is YAML, so each value parses back to itself.
        return [f"{key}={json.dumps(value)}" for key, value in overrides.items()]
    return list(overrides or [])
