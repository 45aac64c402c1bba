"""Commands on a finished run: evaluate, predict, encode, sample, visualize,
diagnose."""

import sys
from pathlib import Path

import numpy as np

from keras_recipes.api import load_run
from keras_recipes.cli.output import (
    check_output_path,
    print_json,
    print_metrics,
    write_results,
)
from keras_recipes.errors import UserError


def evaluate_command(args):
    """Evaluates a finished run again and prints its metrics.

    They print as `name: value` lines, or as one JSON object with `--json`;
    `--output FILE.csv|FILE.json` also writes them to a file.

    Args:
        args: Parsed arguments with `run_dir`, `tta`, `tta_margin`, `json`
            and `output`.

    Returns:
        The exit status, 0.

    Example:

    ```python
    main(["evaluate", "runs/small_data_classifier/x", "--output", "scores.csv"])
    ```
    """
    from keras_recipes.seeding import set_seed

    output = check_output_path(args.output)
    recipe, model = load_run(args.run_dir)
    set_seed(recipe.config.seed)
    data = recipe.build_data()
    metrics = dict(recipe.evaluate(model, data).metrics)
    if getattr(args, "tta", None):
        from keras_recipes.selection import tta_metrics

        metrics.update(tta_metrics(model, data, args.tta, args.tta_margin))
    if args.json:
        print_json(metrics)
    else:
        print_metrics(metrics)
    if output is not None:
        write_results(metrics, output)
        _report_written(output, "1 row of metrics", args.json)
    return 0


def predict_command(args):
    """Predicts image files and folders with a finished run.

    One line per file, `path: prediction`, or a JSON list of objects with
    `--json`; `--output FILE.csv|FILE.json` writes the rows to a file
    instead of the terminal, with one column per value the recipe predicts.

    Args:
        args: Parsed arguments with `run_dir`, `files`, `json` and `output`.

    Returns:
        The exit status, 0.

    Example:

    ```python
    main(["predict", "runs/small_data_classifier/x", "photos/", "--output", "p.csv"])
    ```
    """
    output = check_output_path(args.output)
    recipe, model = load_run(args.run_dir)
    rows = prediction_rows(recipe, recipe.predict(model, args.files))
    if args.json:
        print_json(rows)
    elif output is None:
        for row in rows:
            print(f"{row['path']}: {recipe.prediction_format.format_map(row)}")
    if output is not None:
        write_results(rows, output)
        _report_written(
            output, f"{len(rows)} prediction{'s' * (len(rows) != 1)}", args.json
        )
    return 0


def prediction_rows(recipe, predicted):
    """Names the values of `Recipe.predict`'s rows by the recipe's columns.

    Args:
        recipe: The run's recipe; its `prediction_columns` name each row's
            values after the path.
        predicted: What `recipe.predict` returned: `(path, *values)` rows.

    Returns:
        A list of `dict`s with `path` first, then one key per column.

    Example:

    ```python
    prediction_rows(recipe, [("a.png", "cat", 0.9)])
    # [{"path": "a.png", "class": "cat", "probability": 0.9}]
    ```
    """
    columns = ("path", *recipe.prediction_columns)
    return [
        dict(zip(columns, (str(path), *values), strict=True))
        for path, *values in predicted
    ]


def _report_written(path, what, quiet_stdout):
    print(f"wrote {path}: {what}", file=sys.stderr if quiet_stdout else sys.stdout)


def encode_command(args):
    """Writes the codes of a run's encoder for files and folders to `.npy`.

    The rows follow the order of the files, which is written beside the
    array, one path a line, in `<output stem>.files.txt`.
    """
    from keras_recipes.saving import write_text_atomic

    recipe, model = load_run(args.run_dir)
    if not hasattr(recipe, "encode"):
        raise UserError(
            f"recipe '{recipe.name}' has no encoder; `encode` works with runs of "
            f"autoencoder and vae"
        )
    files, codes = recipe.encode(model, args.inputs)
    output = Path(args.output)
    if output.suffix != ".npy":
        output = output.with_name(output.name + ".npy")
    output.parent.mkdir(parents=True, exist_ok=True)
    temp = output.with_name(f".{output.name}.partial.npy")
    np.save(temp, codes)
    temp.replace(output)
    listing = output.with_suffix(".files.txt")
    write_text_atomic(listing, "".join(f"{path}\n" for path in files))
    print(f"wrote {output}: {len(files)} codes of shape {tuple(codes.shape[1:])}")
    print(f"row order: {listing}")
    return 0


def sample_command(args):
    """Prints text sampled from a finished `char_rnn` run.

    Args:
        args: Parsed arguments with `run_dir`, `temperature`, `length`,
            `seed_text` and `seed`.

    Returns:
        The exit status, 0.

    Example:

    ```python
    main(["sample", "runs/char_rnn/x", "--temperature", "0.5"])
    ```
    """
    recipe, model = load_run(args.run_dir)
    if not hasattr(recipe, "sample"):
        raise UserError(
            f"{args.run_dir} is a '{recipe.name}' run; sample needs a char_rnn run"
        )
    if args.seed is not None:
        recipe.config.seed = args.seed
    print(recipe.sample(model, args.length, args.temperature, args.seed_text))
    return 0


def visualize_command(args):
    """Runs `visualize RUN_DIR [--layer NAME] [--images N]` of the command line.

    Args:
        args: The parsed `argparse` arguments: `run_dir`, `layer` (a list or
            `None`) and `images`.

    Returns:
        The exit status, 0.

    Example:

    ```python
    visualize_command(build_parser().parse_args(["visualize", "runs/x/1"]))
    ```
    """
    from keras_recipes.visualize.run import visualize_run

    found = visualize_run(args.run_dir, args.layer or None, max_images=args.images)
    for name, result in found.items():
        size = result.field.size
        print(f"{name}: {result.patches.shape[0]} units, {size}x{size} receptive field")
    print(f"figures written to {args.run_dir}/figures/")
    return 0


def diagnose_command(args):
    """Prints the diagnosis of a run: verdict, findings with numbers, remedies.

    Args:
        args: Parsed arguments with `run_dir`.

    Returns:
        The exit status, 0.

    Example:

    ```python
    main(["diagnose", "runs/mlp/20260101-000000"])
    ```
    """
    from keras_recipes.doctor import diagnose

    diagnosis = diagnose(args.run_dir)
    print(f"diagnosis of {args.run_dir}")
    print(diagnosis.report())
    return 0
