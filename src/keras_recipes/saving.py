"""Writing run files so that a reader never sees half of one."""

import json
import os
import tempfile
from pathlib import Path

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


def write_text_atomic(path, text):
    """Writes text to a temporary file beside `path`, then renames it.

    A reader sees either the old file, no file, or the whole new text.

    Args:
        path: Destination file.
        text: The contents.

    Returns:
        The `Path` written.

    Example:

    ```python
    write_text_atomic("metrics.json", json.dumps(metrics))
    ```
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        # mkstemp makes the file private (0600); a run's files follow the
        # umask like every other file the run writes.
        os.fchmod(handle, 0o666 & ~_umask())
        with os.fdopen(handle, "w") as file:
            file.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
