"""Writing run files so that a reader never sees half of one."""

import json
from pathlib import Path

from keras_recipes.config import write_text_atomic

__all__ = ["save_model_atomic", "write_json_atomic", "write_text_atomic"]


def save_model_atomic(model, path):
    """Saves a Keras model to a temporary file, then renames it into place.

    Args:
        model: The `keras.Model`.
        path: Destination, ending in `.keras`.

    Returns:
        The `Path` written.

    Example:

    ```python
    save_model_atomic(model, run_dir / "model.keras")
    ```
    """
    path = Path(path)
    temp = path.with_name(f".{path.stem}.partial.keras")
    try:
        model.save(temp)
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)
    return path


def write_json_atomic(path, data):
    """Writes `data` as indented JSON, atomically.

    Args:
        path: Destination file.
        data: JSON-serialisable data.

    Returns:
        The `Path` written.

    Example:

    ```python
    write_json_atomic(run_dir / "metrics.json", {"test_accuracy": 0.98})
    ```
    """
    return write_text_atomic(path, json.dumps(data, indent=2) + "\n")
