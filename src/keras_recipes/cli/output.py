"""How the command line prints and writes results.

On a terminal results read as `name: value` lines; `--json` prints JSON for
programs instead, and `--output FILE.csv|FILE.json` also writes them to a file.
"""

import csv
import io
import json
import math
from pathlib import Path

from keras_recipes.errors import UserError
from keras_recipes.saving import write_text_atomic

OUTPUT_FORMATS = (".csv", ".json")


def print_metrics(metrics):
    """Prints metrics one per line as `name: value`, floats to 4 decimals.

    Args:
        metrics: Metric name to value.

    Returns:
        `None`.

    Example:

    ```python
    print_metrics({"test_accuracy": 0.98})  # test_accuracy: 0.9800
    ```
    """
    for name, value in metrics.items():
        text = f"{value:.4f}" if isinstance(value, float) else value
        print(f"{name}: {text}")


def print_json(data):
    """Prints `data` as indented JSON; NaN and infinities become `null`.

    Args:
        data: JSON-serialisable data (dicts, lists, numbers, strings).

    Returns:
        `None`.

    Example:

    ```python
    print_json({"test_accuracy": 0.98})
    ```
    """
    print(json.dumps(_finite(data), indent=2))


def check_output_path(path):
    """Raises `UserError` unless `path` is `None` or ends in `.csv` or `.json`.

    Called before any work, so a mistyped `--output` costs nothing.

    Args:
        path: The `--output` argument, or `None`.

    Returns:
        The `Path`, or `None`.

    Example:

    ```python
    check_output_path("results.csv")
    ```
    """
    if path is None:
        return None
    path = Path(path)
    if path.suffix.lower() not in OUTPUT_FORMATS:
        raise UserError(
            f"--output {path}: give a file ending in .csv or .json "
            f"(e.g. --output results.csv)"
        )
    if path.is_dir():
        raise UserError(f"--output {path} is a folder; give a file name")
    return path


def write_results(results, path):
    """Writes results as CSV or JSON, chosen by the file's extension, atomically.

    A `dict` is one record (e.g. metrics): a JSON object, or a CSV header
    and one row. A list of `dict`s with the same keys is a JSON list, or a
    CSV header and one row each. Missing parent folders are created.

    Args:
        results: A `dict`, or a list of `dict`s with the same keys.
        path: A `.csv` or `.json` file.

    Returns:
        The `Path` written.

    Example:

    ```python
    write_results([{"path": "a.png", "class": "cat"}], "results.csv")
    ```
    """
    path = check_output_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".json":
        text = json.dumps(_finite(results), indent=2) + "\n"
        return write_text_atomic(path, text)
    rows = [results] if isinstance(results, dict) else list(results)
    text = io.StringIO()
    writer = csv.DictWriter(
        text, fieldnames=list(rows[0]) if rows else [], lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    return write_text_atomic(path, text.getvalue())


def _finite(data):
    if isinstance(data, float) and not math.isfinite(data):
        return None
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(value) for value in data]
    return data
