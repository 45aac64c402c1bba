"""Commands on a finished run: evaluate, predict, encode, sample, visualize,
diagnose."""

import json
from pathlib import Path

import numpy as np

from keras_recipes.api import load_run
from keras_recipes.errors import UserError


def evaluate_command(args):
    """Evaluates a finished run again and prints the metrics as JSON."""
    from keras_recipes.seeding import set_seed

    recipe, model = load_run(args.run_dir)
    set_seed(recipe.config.seed)
    data = recipe.build_data()
    metrics = dict(recipe.evaluate(model, data).metrics)
    if getattr(args, "tta", None):
        from keras_recipes.selection import tta_metrics

        metrics.update(tta_metrics(model, data, args.tta, args.tta_margin))
    print(json.dumps(metrics, indent=2))
    return 0


def predict_command(args):
    """Prints one line per file: the recipe's prediction for it."""
    recipe, model = load_run(args.run_dir)
    for row in recipe.predict(model, args.files):
        path, *values = row
        text = " ".join(
            f"({v:.3f})" if isinstance(v, float) else str(v) for v in values
        )
        print(f"{path}: {text}")
    return 0


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
