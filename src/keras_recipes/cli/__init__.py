"""The command line: `python -m keras_recipes COMMAND ...`.

Parsing needs neither TensorFlow nor any recipe: each command's handler, in
this package, is imported only when that command runs, and `list` and `show`
never start TensorFlow.
"""

import argparse
import contextlib
import os
import sys

from keras_recipes.errors import UserError


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"error: {message} (see `python -m keras_recipes --help`)\n")


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
        dest="command", required=True, parser_class=_Parser
    )
    commands.add_parser("list", help="list the recipes")
    show = commands.add_parser("show", help="print a recipe's resolved config")
    show.add_argument("recipe", help="recipe name or YAML file")
    show.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    run = commands.add_parser("run", help="train and evaluate a recipe")
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
    evaluate = commands.add_parser("evaluate", help="evaluate a finished run")
    evaluate.add_argument("run_dir")
    evaluate.add_argument(
        "--tta",
        nargs="+",
        choices=["flip", "crop"],
        help="also score with test-time augmentation: mirror images, 5 crops",
    )
    evaluate.add_argument(
        "--tta-margin", type=float, default=0.05, help="crop offset, share of size"
    )
    predict = commands.add_parser("predict", help="predict files with a finished run")
    predict.add_argument("run_dir")
    predict.add_argument("files", nargs="+")
    encode = commands.add_parser("encode", help="write an encoder's codes to .npy")
    encode.add_argument("run_dir")
    encode.add_argument("inputs", nargs="+", metavar="FOLDER_OR_FILE")
    encode.add_argument("--output", default="codes.npy", help="default: codes.npy")
    visualize = commands.add_parser(
        "visualize", help="draw a run's filters and top-activating patches"
    )
    visualize.add_argument("run_dir")
    visualize.add_argument(
        "--layer", action="append", help="layer to draw (default: every Conv2D)"
    )
    visualize.add_argument(
        "--images", type=int, default=2000, help="images searched at most"
    )
    enroll = commands.add_parser("enroll", help="enrol people into a face run")
    enroll.add_argument("run_dir")
    enroll.add_argument("folder", help="one subfolder (or image) per person")
    verify = commands.add_parser("verify", help="same person in two images?")
    verify.add_argument("run_dir")
    verify.add_argument("image1")
    verify.add_argument("image2")
    identify = commands.add_parser("identify", help="who is in each image?")
    identify.add_argument("run_dir")
    identify.add_argument("images", nargs="+")
    for sub in (enroll, identify):
        sub.add_argument("--database", help="default: RUN_DIR/enrolled.npz")
    cv = commands.add_parser("cv", help="K-fold cross-validation of a recipe")
    cv.add_argument("recipe", help="recipe name or YAML file")
    cv.add_argument("--folds", type=int, default=5, help="number of folds K")
    cv.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    cv.add_argument("--runs-root", default="runs", help="parent of run directories")
    ensemble = commands.add_parser("ensemble", help="average several runs' outputs")
    ensemble.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    diagnose = commands.add_parser("diagnose", help="over- or under-fitting? why?")
    diagnose.add_argument("run_dir")
    sample = commands.add_parser("sample", help="write text with a char_rnn run")
    sample.add_argument("run_dir")
    sample.add_argument("--temperature", type=float, default=0.8)
    sample.add_argument("--length", type=int, default=400)
    sample.add_argument("--seed-text", default="The ")
    sample.add_argument("--seed", type=int, help="default: the run's seed")
    for sub in commands.choices.values():
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
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
        return _handler(args.command)(args)
    except UserError as error:
        if debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
