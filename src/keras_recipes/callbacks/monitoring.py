"""How the callbacks compare monitored values: one rule for all of them."""

import math

import numpy as np


def _resolve_mode(monitor, mode):
    """Returns `"min"` or `"max"`: `mode`, or for `"auto"` one from the name.

    `"auto"` maximises names containing `"acc"` or `"auc"` and minimises
    every other (losses, errors); give `mode` for anything else to maximise.
    """
    if mode in ("min", "max"):
        return mode
    if mode != "auto":
        raise ValueError(f"mode must be 'auto', 'min' or 'max'. Received: {mode!r}")
    name = monitor.removeprefix("val_")
    return "max" if ("acc" in name or "auc" in name) else "min"


def _improves(current, reference, mode, min_delta=0.0):
    """Whether `current` beats `reference` by more than `min_delta`.

    Compared in float32, as Keras's callbacks compare the Python floats they
    are given, so a value equal to the reference in float32 is no progress.
    `None` as the reference means no value yet: anything improves on it.
    """
    if reference is None:
        return True
    if mode == "max":
        return bool(np.float32(current - min_delta) > np.float32(reference))
    return bool(np.float32(current + min_delta) < np.float32(reference))


def _finished_values(values):
    """Returns the monitored values of finished epochs as floats or `None`."""
    return [None if value is None else float(value) for value in values]


def best_value(history, monitor, mode):
    """Returns the best value of `monitor` in a history, or `None`.

    Args:
        history: `dict` of metric name to per-epoch values.
        monitor: The metric, e.g. `"val_loss"`.
        mode: `"min"`, `"max"` or `"auto"` (max for names containing
            `"acc"` or `"auc"`, min otherwise).

    Returns:
        The best finite value, or `None` when there is none.

    Example:

    ```python
    best_value({"val_loss": [0.5, 0.3, 0.4]}, "val_loss", "auto")  # 0.3
    ```
    """
    values = [v for v in history.get(monitor, []) if math.isfinite(v)]
    if not values:
        return None
    return max(values) if _resolve_mode(monitor, mode) == "max" else min(values)
