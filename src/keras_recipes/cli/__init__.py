"""The command line: `python -m keras_recipes COMMAND ...`.

Parsing needs neither TensorFlow nor any recipe: each command's handler, in
this package, is imported only when that command runs, and `list` and `show`
never start TensorFlow.
"""

import argparse
import contextlib
import importlib
import os
import shlex
import sys

from keras_recipes.errors import UserError


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"error: {message} (see `python -m keras_recipes --help`)\n")


class _RecipeHelp(argparse.Action):
    """`run NAME --help`: the usual help, then the keys of recipe NAME's config."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, help=None):
        super().__init__(
            option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, help=help
        )

    def __call__(self, parser, namespace, values, option_string=None):
        parser.print_help()
        name = getattr(namespace, "recipe", None)
        if name is None:
            print("\n`run NAME --help` also lists the config keys of recipe NAME.")
            parser.exit()
        from keras_recipes.api import load_config
        from keras_recipes.cli.keys import format_config_keys

        try:
            config = load_config(name, getattr(namespace, "set", None))
        except UserError as error:
            parser.exit(2, f"error: {error}\n")
        print(f"\nconfig keys of {name} (change one with --set KEY=VALUE):")
        print(format_config_keys(config))
        parser.exit()


def _add_output_options(parser, what):
    parser.add_argument(
        "--json", action="store_true", help=f"print the {what} as JSON, for programs"
    )
    parser.add_argument(
        "--output",
        metavar="FILE",
        help=f"also write the {what} to FILE, a .csv or .json file",
    )


def _add_import_option(parser):
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first, e.g. the one that registers your recipe subclass",
    )


def build_parser():
    """Returns the `argparse` parser of the command line.

    Returns:
        An `argparse.ArgumentParser`.

    Example:

    ```python
    build_parser().parse_args(["run", "small_data_classifier"])
    ```
    """
    parser = _Parser(
        prog="python -m keras_recipes",
        description="Applied deep-learning recipes for Keras 3.",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks and TensorFlow logs"
    )
    commands = parser.add_subparsers(
        dest="command",
        required=True,
        parser_class=_Parser,
        metavar="COMMAND",
        help="one of the commands below; `COMMAND --help` shows its options",
    )
    commands.add_parser("list", help="list the recipes")
    show = commands.add_parser("show", help="print a recipe's resolved config")
    show.add_argument("recipe", help="recipe name or YAML file")
    show.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set train.epochs=5",
    )
    run = commands.add_parser("run", help="train and evaluate a recipe", add_help=False)
    run.add_argument(
        "-h",
        "--help",
        action=_RecipeHelp,
        help="show this help; after a recipe name, also its config keys",
    )
    run.add_argument(
        "recipe", help="recipe name or YAML file (e.g. a run's config.yaml)"
    )
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set train.epochs=5",
    )
    run.add_argument("--run-dir", help="write into this directory")
    run.add_argument("--runs-root", default="runs", help="parent of run directories")
    run.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run (--run-dir, or the newest unfinished one)",
    )
    run.add_argument(
        "--quick",
        action="store_true",
        help="a run of seconds with a tiny model, to try the pipeline",
    )
    run.add_argument(
        "--json",
        action="store_true",
        help="print the metrics and run directory as JSON (training logs: stderr)",
    )
    _add_import_option(run)
    evaluate = commands.add_parser("evaluate", help="evaluate a finished run")
    evaluate.add_argument("run_dir", help="a finished run's directory")
    evaluate.add_argument(
        "--tta",
        nargs="+",
        choices=["flip", "crop"],
        help="also score with test-time augmentation: mirror images, 5 crops",
    )
    evaluate.add_argument(
        "--tta-margin", type=float, default=0.05, help="crop offset, share of size"
    )
    _add_output_options(evaluate, "metrics")
    _add_import_option(evaluate)
    predict = commands.add_parser(
        "predict", help="predict image files and folders with a finished run"
    )
    predict.add_argument("run_dir", help="a finished run's directory")
    predict.add_argument(
        "files",
        nargs="+",
        metavar="FILE_OR_FOLDER",
        help="image files, and folders searched at any depth for them",
    )
    _add_output_options(predict, "predictions")
    _add_import_option(predict)
    encode = commands.add_parser("encode", help="write an encoder's codes to .npy")
    encode.add_argument("run_dir", help="a finished autoencoder or vae run")
    encode.add_argument(
        "inputs",
        nargs="+",
        metavar="FOLDER_OR_FILE",
        help="image files, and folders searched at any depth for them",
    )
    encode.add_argument("--output", default="codes.npy", help="default: codes.npy")
    visualize = commands.add_parser(
        "visualize", help="draw a run's filters and top-activating patches"
    )
    visualize.add_argument("run_dir", help="a finished run's directory")
    visualize.add_argument(
        "--layer", action="append", help="layer to draw (default: every Conv2D)"
    )
    visualize.add_argument(
        "--images", type=int, default=2000, help="images searched at most"
    )
    enroll = commands.add_parser("enroll", help="enrol people into a face run")
    enroll.add_argument("run_dir", help="a finished face_triplet run")
    enroll.add_argument("folder", help="one subfolder (or image) per person")
    verify = commands.add_parser("verify", help="same person in two images?")
    verify.add_argument("run_dir", help="a finished face_triplet run")
    verify.add_argument("image1", help="an image of a face")
    verify.add_argument("image2", help="another image of a face")
    identify = commands.add_parser("identify", help="who is in each image?")
    identify.add_argument("run_dir", help="a finished face_triplet run")
    identify.add_argument("images", nargs="+", help="images of faces")
    for sub in (enroll, identify):
        sub.add_argument("--database", help="default: RUN_DIR/enrolled.npz")
    cv = commands.add_parser("cv", help="K-fold cross-validation of a recipe")
    cv.add_argument("recipe", help="recipe name or YAML file")
    cv.add_argument("--folds", type=int, default=5, help="number of folds K")
    cv.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set train.epochs=5",
    )
    cv.add_argument("--runs-root", default="runs", help="parent of run directories")
    ensemble = commands.add_parser("ensemble", help="average several runs' outputs")
    ensemble.add_argument(
        "run_dirs", nargs="+", metavar="RUN_DIR", help="finished runs of one recipe"
    )
    diagnose = commands.add_parser("diagnose", help="over- or under-fitting? why?")
    diagnose.add_argument("run_dir", help="a run's directory, finished or not")
    sample = commands.add_parser("sample", help="write text with a char_rnn run")
    sample.add_argument("run_dir", help="a finished char_rnn run")
    sample.add_argument(
        "--temperature",
        type=float,
        default=0.8,
        help="below 1: safer characters; above 1: more surprising (default: 0.8)",
    )
    sample.add_argument(
        "--length", type=int, default=400, help="characters to write (default: 400)"
    )
    sample.add_argument(
        "--seed-text", default="The ", help="text to start from (default: 'The ')"
    )
    sample.add_argument("--seed", type=int, help="default: the run's seed")
    export = commands.add_parser(
        "export", help="write a finished run's model as SavedModel, ONNX or LiteRT"
    )
    export.add_argument("run_dir", help="a finished run's directory")
    export.add_argument(
        "--format",
        dest="formats",
        action="append",
        choices=["keras", "saved_model", "onnx", "litert"],
        help="format to write, repeatable (default: the run's export.formats); "
        "files go to RUN_DIR/export/",
    )
    export.add_argument(
        "--quantize",
        choices=["none", "int8"],
        help="int8: ONNX and LiteRT weights as 8-bit integers "
        "(default: the run's export.quantize)",
    )
    for sub in commands.choices.values():
        sub.add_argument(
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help="show tracebacks and TensorFlow logs",
        )
    return parser


@contextlib.contextmanager
def _quiet_stderr():
    """Hides what native libraries print to file descriptor 2 meanwhile."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _import_tensorflow(debug):
    # TensorFlow's C++ start-up lines ignore TF_CPP_MIN_LOG_LEVEL, so they are
    # hidden at the file-descriptor level; --debug shows them.
    if debug:
        import tensorflow  # noqa: F401

        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        with _quiet_stderr():
            import tensorflow  # noqa: F401
    except ImportError:
        import tensorflow  # noqa: F401  (fails again, this time with its message)


# Each subcommand's handler, as "module:function" in this package, imported
# only when used so that parsing stays quick and TensorFlow starts after the
# arguments are known; `list` and `show` do not start it at all.
HANDLERS = {
    "list": "keras_recipes.cli.recipes:list_command",
    "show": "keras_recipes.cli.recipes:show_command",
    "run": "keras_recipes.cli.recipes:run_command",
    "evaluate": "keras_recipes.cli.runs:evaluate_command",
    "predict": "keras_recipes.cli.runs:predict_command",
    "encode": "keras_recipes.cli.runs:encode_command",
    "sample": "keras_recipes.cli.runs:sample_command",
    "visualize": "keras_recipes.cli.runs:visualize_command",
    "diagnose": "keras_recipes.cli.runs:diagnose_command",
    "cv": "keras_recipes.cli.selection:cv_command",
    "ensemble": "keras_recipes.cli.selection:ensemble_command",
    "enroll": "keras_recipes.cli.faces:enroll_command",
    "verify": "keras_recipes.cli.faces:verify_command",
    "identify": "keras_recipes.cli.faces:identify_command",
    "export": "keras_recipes.cli.export:export_command",
}
WITHOUT_TENSORFLOW = {"list", "show"}


def _handler(name):
    import importlib

    module, _, function = HANDLERS[name].partition(":")
    return getattr(importlib.import_module(module), function)


def main(argv=None):
    """Runs the command line and returns its exit status.

    A user's mistake (`UserError`) prints one line on stderr and returns 2;
    `--debug` shows the traceback instead.

    Args:
        argv: The arguments, without the program name. Defaults to
            `sys.argv[1:]`.

    Returns:
        The exit status: 0 on success, 2 for a user's mistake.

    Example:

    ```python
    main(["run", "small_data_classifier", "--set", "train.epochs=3"])
    ```
    """
    args = build_parser().parse_args(argv)
    debug = getattr(args, "debug", False)
    try:
        if args.command not in WITHOUT_TENSORFLOW:
            _import_tensorflow(debug)
        _import_modules(getattr(args, "imports", ()))
        return _handler(args.command)(args)
    except UserError as error:
        if debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:
        _report_interrupt(args, interrupt)
        return 130


def _import_modules(names):
    """Imports the modules of `--import`, e.g. those registering recipes."""
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as error:
            raise UserError(
                f"--import {name}: cannot import it ({type(error).__name__}: "
                f"{error}); run from the folder that holds it, or install it"
            ) from None


def _report_interrupt(args, interrupt):
    """Ends the progress bar's line and prints how to continue the run."""
    if sys.stdout.isatty():
        print(flush=True)
    line = "interrupted"
    run_dir = getattr(interrupt, "run_dir", None)
    if run_dir is not None and args.command == "run":
        words = ["python -m keras_recipes run", shlex.quote(str(args.recipe))]
        words += [f"--import {shlex.quote(name)}" for name in args.imports]
        words += ["--resume --run-dir", shlex.quote(str(run_dir))]
        line += f"; continue with: {' '.join(words)}"
    print(line, file=sys.stderr, flush=True)
