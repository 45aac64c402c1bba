"""Writing a model in each serving format: Keras, SavedModel, ONNX, LiteRT.

`model.keras` holds the trained model as the recipe built it; the other
formats hold the recipe's serving model (`Recipe.serving_model`: raw inputs
in, the recipe's preprocessing inside): SavedModel and LiteRT through
Keras's `Model.export`, ONNX through tf2onnx on the frozen serving
function. `int8` stores the ONNX and LiteRT weights as 8-bit integers
with activations quantized as they come (dynamic range): no calibration
data, and the inputs and outputs stay float.
"""

import importlib.util
import logging
import re
import shutil
import warnings
from pathlib import Path

from keras_recipes.errors import UserError
from keras_recipes.saving import save_model_atomic

FORMATS = ("keras", "saved_model", "onnx", "litert")
QUANTIZE = ("none", "int8")
# The formats `quantize: int8` applies to; keras and saved_model stay float.
QUANTIZABLE = ("onnx", "litert")
EXPORT_FOLDER = "export"
# What writing (not running) a format needs beyond TensorFlow and Keras,
# and what its int8 quantization needs besides.
_NEEDS = {"onnx": ("tf2onnx", "onnx")}
_INT8_NEEDS = {"onnx": ("onnxruntime",)}
INSTALL_HINT = "pip install 'keras-recipes[export]'"


def export_path(run_dir, format, quantize="none"):
    """Returns where a run keeps a format's file.

    Args:
        run_dir: The run directory.
        format: One of `FORMATS`.
        quantize: `"none"` or `"int8"`; `int8` names the ONNX and LiteRT
            files `model_int8.*`. Defaults to `"none"`.

    Returns:
        The `Path`: `model.keras`, `export/saved_model`,
        `export/model.onnx` or `export/model.tflite`.

    Example:

    ```python
    export_path("runs/small_data_classifier/1", "litert", "int8")
    # runs/small_data_classifier/1/export/model_int8.tflite
    ```
    """
    check_format(format, quantize)
    run_dir = Path(run_dir)
    if format == "keras":
        return run_dir / "model.keras"
    if format == "saved_model":
        return run_dir / EXPORT_FOLDER / "saved_model"
    stem = "model_int8" if quantize == "int8" else "model"
    suffix = ".onnx" if format == "onnx" else ".tflite"
    return run_dir / EXPORT_FOLDER / f"{stem}{suffix}"


def check_format(format, quantize="none"):
    """Raises a one-line `UserError` for an unknown format or quantization.

    Args:
        format: The format asked for.
        quantize: The quantization asked for. Defaults to `"none"`.

    Returns:
        `None`.

    Example:

    ```python
    check_format("onnx", "int8")
    ```
    """
    if format not in FORMATS:
        raise UserError(
            f"unknown export format '{format}' (available: {', '.join(FORMATS)})"
        )
    if quantize not in QUANTIZE:
        raise UserError(
            f"unknown quantization '{quantize}' (available: {', '.join(QUANTIZE)})"
        )


def check_packages(format, quantize="none"):
    """Raises a one-line `UserError` when writing a format needs a missing package.

    Args:
        format: One of `FORMATS`.
        quantize: `"none"` or `"int8"`. Defaults to `"none"`.

    Returns:
        `None`.

    Example:

    ```python
    check_packages("onnx")  # needs tf2onnx and onnx
    ```
    """
    needed = _NEEDS.get(format, ())
    if quantize == "int8":
        needed += _INT8_NEEDS.get(format, ())
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        what = f"{format} int8" if quantize == "int8" else format
        raise UserError(
            f"exporting {what} needs {' and '.join(missing)}, not installed: "
            f"{INSTALL_HINT}"
        )


def export_format(model, path, format, quantize="none"):
    """Writes `model` in one serving format, replacing `path` only when done.

    Args:
        model: A `keras.Model` with one input; the serving formats compute
            in float32 whatever its dtype policy (`float32_model`).
        path: The file (a folder for `saved_model`), as `export_path`
            names it.
        format: `"keras"`, `"saved_model"`, `"onnx"` or `"litert"`.
        quantize: `"int8"` quantizes ONNX and LiteRT weights; the other
            formats ignore it. Defaults to `"none"`.

    Returns:
        The `Path` written.

    Example:

    ```python
    export_format(model, "export/model.tflite", "litert")
    ```
    """
    check_format(format, quantize)
    check_packages(format, quantize)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if format == "keras":
        return save_model_atomic(model, path)
    model = float32_model(model)
    temp = path.with_name(f".{path.stem}.partial{path.suffix}")
    _remove(temp)
    try:
        if format == "saved_model":
            model.export(
                str(temp), verbose=False, input_signature=input_signature(model)
            )
        elif format == "onnx":
            _write_onnx(model, temp, quantize)
        else:
            _write_litert(model, temp, quantize)
        _remove(path)
        temp.replace(path)
    finally:
        _remove(temp)
    return path


def float32_model(model):
    """Returns `model` computing in float32: itself, or a copy if it must.

    A model built under a mixed dtype policy computes in bfloat16 or
    float16, which ONNX Runtime and LiteRT's builtins do not take as Keras
    writes it. The copy has the same layers, with the float32 policy, and
    the same weights (float32 already under a mixed policy).

    Args:
        model: A functional or `Sequential` `keras.Model`, whose nested
            models are functional or `Sequential` too.

    Returns:
        The `keras.Model`.

    Example:

    ```python
    served = float32_model(model)  # trained with mixed_bfloat16
    ```
    """
    import keras

    policies = {layer.dtype_policy.name for layer in model._flatten_layers()}
    if policies <= {"float32"}:
        return model

    def float32_layer(layer):
        config = layer.get_config()
        if "dtype" in config:
            config["dtype"] = "float32"
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=float32_layer, recursive=True)
    copy.set_weights(model.get_weights())
    return copy


def input_signature(model):
    """Returns the `tf.TensorSpec` list of a model's inputs, batch size free.

    Args:
        model: A `keras.Model` with one input.

    Returns:
        A one-item list of `tf.TensorSpec`, named after the input.

    Example:

    ```python
    input_signature(model)  # [TensorSpec(shape=(None, 16, 16, 1), ...)]
    ```
    """
    import tensorflow as tf

    if len(model.inputs) != 1:
        raise ValueError(
            f"serving models take one input. Received: {len(model.inputs)} inputs"
        )
    tensor = model.inputs[0]
    name = tensor.name.split(":")[0] if tensor.name else "inputs"
    return [tf.TensorSpec((None, *tensor.shape[1:]), tensor.dtype, name=name)]


def _remove(path):
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


class _Errors(logging.Handler):
    """Collects the error records tf2onnx logs instead of raising."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _write_onnx(model, path, quantize):
    errors = _Errors()
    loggers = [logging.getLogger(name) for name in ("tf2onnx", "tensorflow")]
    levels = [logger.level for logger in loggers]
    loggers[0].addHandler(errors)
    for logger in loggers:
        # Their warnings (placeholder shapes, deprecations) are not the user's.
        logger.setLevel(logging.ERROR)
    int8 = quantize == "int8"
    float_path = path.with_name(f"{path.stem}.float.onnx") if int8 else path
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            _convert_to_onnx(model, float_path)
    finally:
        loggers[0].removeHandler(errors)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
    try:
        # tf2onnx logs an op it cannot convert and writes an invalid file.
        unsupported = [m for m in errors.messages if "Unsupported ops" in m]
        if unsupported or errors.messages:
            detail = (unsupported or errors.messages)[0].splitlines()[0]
            raise UserError(f"ONNX cannot hold {model.name}: tf2onnx: {detail}")
        if int8:
            _quantize_onnx(float_path, path)
    finally:
        if float_path != path:
            float_path.unlink(missing_ok=True)


def _convert_to_onnx(model, path):
    """Freezes the model's serving function and converts it with tf2onnx.

    `Model.export(format="onnx")` hands tf2onnx the function unfrozen, and
    tf2onnx then takes the constants a layer captures (Keras's
    `Normalization` statistics, an application's `preprocess_input` mean)
    for inputs the caller must feed. Frozen first, they are constants.
    """
    import tensorflow as tf
    import tf2onnx
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    try:  # NumPy 2 fixes for tf2onnx, which Keras's own ONNX export applies
        from keras.src.export.tf2onnx_lib import patch_tf2onnx

        patch_tf2onnx()
    except ImportError:
        pass
    signature = input_signature(model)
    function = tf.function(
        lambda inputs: model(inputs, training=False), input_signature=signature
    )
    concrete = function.get_concrete_function()
    frozen = convert_variables_to_constants_v2(
        concrete, lower_control_flow=False, aggressive_inlining=True
    )
    inputs = [t.name for t in frozen.inputs if t.dtype != tf.resource]
    outputs = [t.name for t in frozen.outputs]
    names = {inputs[0]: signature[0].name}
    structured = concrete.structured_outputs
    if isinstance(structured, dict):
        # Outputs come in the order tf.nest flattens a dict: sorted keys.
        names.update(zip(outputs, sorted(structured), strict=True))
    tf2onnx.convert.from_graph_def(
        frozen.graph.as_graph_def(),
        input_names=inputs,
        output_names=outputs,
        tensors_to_rename=names,
        output_path=str(path),
    )


def _quantize_onnx(source, target):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # It logs advice about pre-processing on the root logger each time.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(source, target, weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)


def _write_litert(model, path, quantize):
    import tensorflow as tf

    options = {
        # Builtin ops only: the LiteRT interpreter of `ai-edge-litert` and of
        # phones runs them without the TensorFlow (Flex) delegate.
        "target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]},
    }
    if quantize == "int8":
        options["optimizations"] = [tf.lite.Optimize.DEFAULT]
    try:
        model.export(
            str(path),
            format="litert",
            verbose=False,
            input_signature=input_signature(model),
            **options,
        )
    except Exception as error:  # the converter raises ConverterError
        if type(error).__name__ != "ConverterError":
            raise
        ops = sorted(set(re.findall(r"'tf\.(\w+)' op is neither", str(error))))
        detail = f"ops outside LiteRT's builtins: {', '.join(ops)}" if ops else ""
        raise UserError(
            f"LiteRT cannot hold {model.name}: {detail or str(error).splitlines()[0]}"
        ) from None


def write_exports(run_dir, model, formats, quantize="none", serving_model=None):
    """Writes a run's model in each of `formats`; returns the paths written.

    Args:
        run_dir: The run directory.
        model: The trained model; `keras` saves it as `model.keras`.
        formats: Names from `FORMATS`.
        quantize: `"none"` or `"int8"` (applied to ONNX and LiteRT).
            Defaults to `"none"`.
        serving_model: A function of no arguments returning the model the
            other formats hold (raw inputs in), called once if needed.
            Defaults to `None`, which serves `model` itself.

    Returns:
        A list of `Path`s, in the order of `formats`.

    Example:

    ```python
    write_exports(run_dir, model, ["keras", "onnx"], "int8")
    ```
    """
    for format in formats:
        check_format(format, quantize)
        check_packages(format, quantize)
    if quantize == "int8" and not set(formats) & set(QUANTIZABLE):
        raise UserError(
            f"quantize int8 applies to {' and '.join(QUANTIZABLE)}; add one of "
            f"them to the formats (asked for: {', '.join(formats) or 'none'})"
        )
    written, serving = [], None
    for format in dict.fromkeys(formats):
        if format == "keras":
            target = model
        else:
            if serving is None:
                serving = serving_model() if serving_model is not None else model
            target = serving
        path = export_path(run_dir, format, quantize)
        written.append(export_format(target, path, format, quantize))
    return written
