"""Commands about recipes: list, show and run."""

import contextlib
import sys

from keras_recipes.cli.output import print_json, print_metrics


def list_command(args):
    """Prints each recipe's name and one-line description."""
    from keras_recipes.catalog import list_recipes

    for name, description in list_recipes().items():
        print(f"{name:28s} {description}")
    return 0


def show_command(args):
    """Prints the resolved config as YAML."""
    import yaml

    from keras_recipes.api import load_config
    from keras_recipes.config import to_dict

    config = load_config(args.recipe, args.set)
    print(yaml.safe_dump(to_dict(config), sort_keys=False), end="")
    return 0


def run_command(args):
    """Runs a recipe and prints its metrics and run directory.

    On a terminal they print as `name: value` lines after the training
    log; with `--json` the log goes to stderr and stdout holds one JSON
    object: `run_dir`, `metrics` and `timings`.

    Args:
        args: Parsed arguments with `recipe`, `set`, `run_dir`, `resume`,
            `runs_root`, `quick` and `json`.

    Returns:
        The exit status, 0.

    Example:

    ```python
    main(["run", "small_data_classifier", "--quick", "--json"])
    ```
    """
    from keras_recipes.api import run

    log = (
        contextlib.redirect_stdout(sys.stderr)
        if args.json
        else contextlib.nullcontext()
    )
    with log:
        result = run(
            args.recipe,
            overrides=args.set,
            run_dir=args.run_dir,
            resume=args.resume,
            runs_root=args.runs_root,
            quick=args.quick,
        )
    if args.json:
        print_json(
            {
                "run_dir": str(result.run_dir),
                "metrics": result.metrics,
                "timings": result.timings,
            }
        )
        return 0
    print_metrics(result.metrics)
    print(f"run directory: {result.run_dir}")
    return 0
