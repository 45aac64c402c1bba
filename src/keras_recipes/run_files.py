"""The files of a run directory: history, run record, model, the newest run."""

import csv
import datetime
import math
import platform
import sys
from pathlib import Path

import keras

from keras_recipes.errors import UserError
from keras_recipes.saving import restore_compile


def read_history(path):
    """Reads a `history.csv` written by `CSVLogger` into lists per column.

    Args:
        path: The CSV file.

    Returns:
        A `dict` of column name to list of floats; empty if there is no file.

    Example:

    ```python
    read_history("runs/small_data_classifier/20260101-000000/history.csv")
    ```
    """
    path = Path(path)
    if not path.is_file():
        return {}
    with path.open() as file:
        rows = list(csv.DictReader(file))
    columns = {name: [] for name in (rows[0] if rows else {}) if name != "epoch"}
    for row in rows:
        for name in columns:
            value = row[name]
            columns[name].append(float(value) if value not in ("", None) else math.nan)
    return columns


def timestamp():
    """Returns the local time as a run directory's name.

    Returns:
        A `str`, `YYYYmmdd-HHMMSS`.

    Example:

    ```python
    Path("runs/vae") / timestamp()  # runs/vae/20260101-120000
    ```
    """
    return datetime.datetime.now().strftime("%Y%m%d-%H%M%S")


# Beside config.yaml: the class that ran and what `auto` settings chose.
RUN_INFO = "run.json"


def fit_verbosity(setting, stream=None):
    """Returns the `verbose` of `Model.fit` for a `train.verbose` setting.

    `"auto"` gives progress bars (`1`) on a terminal and one line per epoch
    (`2`) when the output goes to a file or a pipe, so logs hold neither
    carriage returns nor colour codes.

    Args:
        setting: `"auto"`, `0`, `1` or `2`.
        stream: The stream the progress goes to. Defaults to `sys.stdout`.

    Returns:
        `0`, `1` or `2`.

    Example:

    ```python
    model.fit(data, verbose=fit_verbosity("auto"))
    ```
    """
    if setting != "auto":
        return setting
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return 1 if isatty is not None and isatty() else 2


def class_path(cls):
    """Returns `module:qualname` of a class, as `run.json` records it.

    Args:
        cls: A class.

    Returns:
        A `str` such as
        `"keras_recipes.recipes.small_data_classifier.recipe:SmallDataClassifier"`.

    Example:

    ```python
    class_path(type(recipe))
    ```
    """
    return f"{cls.__module__}:{cls.__qualname__}"


def versions():
    """Returns the versions a run used: this package, Keras, TensorFlow, Python.

    Returns:
        A `dict` of package name to version string.

    Example:

    ```python
    versions()["keras"]  # "3.15.1"
    ```
    """
    import tensorflow as tf

    import keras_recipes

    return {
        "keras_recipes": keras_recipes.__version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "python": platform.python_version(),
    }


def load_model_safely(path):
    """Loads a `.keras` model with Keras's `safe_mode` on, as it always is here.

    A model that would run arbitrary Python code when loaded (a `Lambda`
    layer holding a Python function) is refused with one line.

    Args:
        path: The `.keras` file.

    Returns:
        The `keras.Model`.

    Example:

    ```python
    model = load_model_safely("runs/small_data_classifier/x/model.keras")
    ```
    """
    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except ValueError as error:
        if "safe_mode" not in str(error):
            raise
        raise UserError(
            f"refusing to load {path}: it holds Python code that would run on "
            f"loading (e.g. a Lambda layer); this package keeps Keras's safe_mode on"
        ) from None
    return restore_compile(model, path)


def latest_unfinished_run(runs_root, name):
    """Returns the newest run directory of a recipe that has no `metrics.json`.

    Args:
        runs_root: Parent of the recipes' run folders, usually `runs`.
        name: The recipe name.

    Returns:
        The run directory's `Path`.

    Example:

    ```python
    latest_unfinished_run("runs", "small_data_classifier")
    ```
    """
    parent = Path(runs_root) / name
    runs = sorted(parent.glob("*/config.yaml")) if parent.is_dir() else []
    unfinished = [p.parent for p in runs if not (p.parent / "metrics.json").exists()]
    if not unfinished:
        raise UserError(
            f"no unfinished run of '{name}' under {parent} to resume; "
            f"name one with --run-dir"
        )
    return unfinished[-1]
