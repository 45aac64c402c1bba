"""Running exported files with their own runtimes, and comparing outputs.

A SavedModel runs in TensorFlow, an ONNX file in ONNX Runtime and a LiteRT
file in the LiteRT interpreter (`ai-edge-litert`); none needs this package
or Keras. Every runner returns the outputs as a dict of NumPy arrays: a
model's dict outputs keep their keys, and a single output (or a list) is
named `output_0`, `output_1`, ... as LiteRT names them.
"""

import importlib.util
import os
from pathlib import Path

import numpy as np

from keras_recipes.errors import UserError

# The package each format needs at inference; keras and saved_model need
# Keras or TensorFlow.
RUNTIME_PACKAGES = {"onnx": "onnxruntime", "litert": "ai_edge_litert"}
_PIP_NAMES = {"onnxruntime": "onnxruntime", "ai_edge_litert": "ai-edge-litert"}


def format_of(path):
    """Returns the format of an exported file from its name.

    Args:
        path: A `.keras`, `.onnx` or `.tflite` file, or a SavedModel folder.

    Returns:
        `"keras"`, `"onnx"`, `"litert"` or `"saved_model"`.

    Example:

    ```python
    format_of("runs/x/export/model.tflite")  # "litert"
    ```
    """
    suffix = Path(path).suffix
    formats = {".keras": "keras", ".onnx": "onnx", ".tflite": "litert"}
    if suffix in formats:
        return formats[suffix]
    if (Path(path) / "saved_model.pb").is_file():
        return "saved_model"
    raise UserError(
        f"{path} is not an exported model (.keras, .onnx, .tflite or a "
        f"SavedModel folder)"
    )


def named_outputs(outputs):
    """Returns a model's outputs as a dict of NumPy arrays.

    Args:
        outputs: A tensor or array, a list or tuple of them, or a dict.

    Returns:
        A dict: the keys of a dict, else `output_0`, `output_1`, ...

    Example:

    ```python
    named_outputs(model.predict(images))  # {"output_0": array(...)}
    ```
    """
    if isinstance(outputs, dict):
        return {str(key): np.asarray(value) for key, value in outputs.items()}
    if isinstance(outputs, (list, tuple)):
        return {f"output_{i}": np.asarray(value) for i, value in enumerate(outputs)}
    return {"output_0": np.asarray(outputs)}


def load_exported(path, threads=None):
    """Returns a function running an exported file on a batch of inputs.

    Args:
        path: A `.keras`, `.onnx` or `.tflite` file, or a SavedModel folder.
        threads: Threads for ONNX Runtime and LiteRT. Defaults to `None`:
            the runtime's choice (ONNX Runtime: one a core; LiteRT: one).

    Returns:
        A function from one NumPy array (the batch) to the dict of output
        arrays (see `named_outputs`).

    Example:

    ```python
    run = load_exported("runs/x/export/model.onnx")
    probabilities = run(images)["output_0"]
    ```
    """
    format = format_of(path)
    package = RUNTIME_PACKAGES.get(format)
    if package and importlib.util.find_spec(package) is None:
        raise UserError(
            f"running {format} files needs {_PIP_NAMES[package]}, not installed: "
            f"pip install 'keras-recipes[export]'"
        )
    return {
        "keras": _keras_runner,
        "saved_model": _saved_model_runner,
        "onnx": _onnx_runner,
        "litert": _litert_runner,
    }[format](str(path), threads)


def _keras_runner(path, threads):
    import keras

    model = keras.saving.load_model(path)
    return lambda inputs: named_outputs(model.predict(inputs, verbose=0))


def _saved_model_runner(path, threads):
    import tensorflow as tf

    loaded = tf.saved_model.load(path)
    return lambda inputs: named_outputs(loaded.serve(tf.constant(inputs)))


def _onnx_runner(path, threads):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(
        path, options, providers=["CPUExecutionProvider"]
    )
    name = session.get_inputs()[0].name
    outputs = [output.name for output in session.get_outputs()]
    # tf2onnx names a single or list output `Identity:0`, `Identity_1:0`...
    if all(output.startswith("Identity") for output in outputs):
        outputs = [f"output_{i}" for i in range(len(outputs))]

    def run(inputs):
        return dict(zip(outputs, session.run(None, {name: inputs}), strict=True))

    return run


def _litert_runner(path, threads):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path, num_threads=threads)
    signatures = interpreter.get_signature_list()
    key = (
        "serving_default" if "serving_default" in signatures else next(iter(signatures))
    )
    runner = interpreter.get_signature_runner(key)
    (name,) = signatures[key]["inputs"]

    def run(inputs):
        # The runner reuses its buffers: copy before the next call.
        return {k: np.array(v) for k, v in runner(**{name: inputs}).items()}

    return run


def largest_difference(expected, actual):
    """Returns the largest difference between two sets of outputs, relative.

    For each output, the largest absolute difference is divided by the
    largest absolute value Keras gave (so a tolerance of `1e-4` means
    "within 1e-4 of the output's scale", which stays meaningful where
    values cross zero); the largest over the outputs is returned.

    Args:
        expected: Dict of reference arrays (Keras's outputs).
        actual: Dict of arrays with the same keys and shapes.

    Returns:
        A float; `0.0` for identical outputs.

    Example:

    ```python
    largest_difference(named_outputs(model.predict(x)), run(x))  # 3e-08
    ```
    """
    if sorted(expected) != sorted(actual):
        raise ValueError(
            f"the outputs differ in names: {sorted(expected)} and {sorted(actual)}"
        )
    worst = 0.0
    for key, reference in expected.items():
        reference = np.asarray(reference, "float64")
        other = np.asarray(actual[key], "float64")
        if reference.shape != other.shape:
            raise ValueError(
                f"output {key!r} has shape {other.shape}, not {reference.shape}"
            )
        if reference.size == 0:
            continue
        scale = max(float(np.abs(reference).max()), np.finfo("float32").tiny)
        worst = max(worst, float(np.abs(other - reference).max()) / scale)
    return worst


def cpu_name():
    """Returns the processor's model name, for benchmark and parity reports.

    Returns:
        The `model name` of `/proc/cpuinfo`, else `platform.processor()`,
        with the number of cores this process may use.

    Example:

    ```python
    cpu_name()  # "Intel(R) Xeon(R) Platinum 8488C, 2 cores"
    ```
    """
    import platform

    name = ""
    info = Path("/proc/cpuinfo")
    if info.is_file():
        for line in info.read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    name = name or platform.processor() or platform.machine()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
    return f"{name}, {cores or os.cpu_count()} cores"
