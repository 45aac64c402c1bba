"""Serving a trained model: Keras, SavedModel, ONNX and LiteRT files.

`write_exports` writes a run's model in the formats asked for,
`serving` wraps a model with the preprocessing it was trained with, and
`runtimes` runs the files with ONNX Runtime or the LiteRT interpreter, for
the parity tests and the benchmark.
"""

from keras_recipes.exporting.formats import (
    EXPORT_FOLDER,
    FORMATS,
    QUANTIZABLE,
    QUANTIZE,
    check_format,
    check_packages,
    export_format,
    export_path,
    float32_model,
    input_signature,
    write_exports,
)
from keras_recipes.exporting.runtimes import (
    RUNTIME_PACKAGES,
    cpu_name,
    format_of,
    largest_difference,
    load_exported,
    named_outputs,
)
from keras_recipes.exporting.serving import (
    per_image_mse,
    reconstruction_model,
    rescaled_model,
    standardized_model,
    unrolled_model,
)

__all__ = [
    "EXPORT_FOLDER",
    "FORMATS",
    "QUANTIZABLE",
    "QUANTIZE",
    "RUNTIME_PACKAGES",
    "check_format",
    "check_packages",
    "cpu_name",
    "export_format",
    "export_path",
    "float32_model",
    "format_of",
    "input_signature",
    "largest_difference",
    "load_exported",
    "named_outputs",
    "per_image_mse",
    "reconstruction_model",
    "rescaled_model",
    "standardized_model",
    "unrolled_model",
    "write_exports",
]
