"""The `export` command: a finished run's model in serving formats."""

from pathlib import Path

from keras_recipes.api import load_config, load_run
from keras_recipes.errors import UserError


def export_command(args):
    """Writes a finished run's model in the formats asked for and lists the files.

    `keras` is the run's `model.keras`, already there; the other formats
    hold the recipe's serving model (raw inputs in) and go to
    `RUN_DIR/export/`.
    """
    from keras_recipes.exporting import QUANTIZABLE, export_path, write_exports

    run_dir = Path(args.run_dir)
    _check_exportable(run_dir)
    recipe, model = load_run(run_dir)
    settings = recipe.config.export
    formats = list(dict.fromkeys(args.formats or settings.formats))
    quantize = args.quantize or settings.quantize
    if quantize == "int8" and not set(formats) & set(QUANTIZABLE):
        raise UserError(
            f"--quantize int8 applies to {' and '.join(QUANTIZABLE)}; add "
            f"--format onnx or --format litert"
        )
    serving = [format for format in formats if format != "keras"]
    written = write_exports(
        run_dir,
        model,
        serving,
        quantize if serving else "none",
        serving_model=lambda: recipe.serving_model(model, None),
    )
    if "keras" in formats:
        written.insert(formats.index("keras"), export_path(run_dir, "keras"))
    for path in written:
        print(f"{path} ({_size(path)})")
    return 0


def _check_exportable(run_dir):
    """Stops with one line when `run_dir` holds no model of its own."""
    config_file = run_dir / "config.yaml"
    if not config_file.is_file():
        return  # load_run says so
    config = load_config(config_file)
    if not hasattr(config.export, "formats"):
        raise UserError(
            f"recipe '{config.recipe}' has no model to export: its result is "
            f"in {run_dir / 'figures'}"
        )
    if (run_dir / "model.keras").is_file():
        return
    inner = sorted(p.parent for p in run_dir.glob("*/**/model.keras"))
    if inner:
        names = ", ".join(str(p.relative_to(run_dir)) for p in inner[:6])
        more = f" and {len(inner) - 6} more" if len(inner) > 6 else ""
        raise UserError(
            f"{run_dir} has no model.keras of its own; the runs inside it have "
            f"one ({names}{more}): export one of those"
        )


def _size(path):
    path = Path(path)
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"
