"""keras-recipes: applied deep-learning recipes for Keras 3 on TensorFlow.

The public names load on first use, so `import keras_recipes` stays quick
and the command line can check a config before TensorFlow starts.
"""

import importlib
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TensorFlow turns on its oneDNN kernels by itself only on some Intel CPUs; on
# the others (AMD EPYC among them) its fallback kernels train the recipes'
# convolutions with about 1.5x the CPU time. Set it to "0" to keep them off.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

__version__ = "0.1.0"

_PUBLIC = {
    "ConfigError": "keras_recipes.errors",
    "DataError": "keras_recipes.errors",
    "UserError": "keras_recipes.errors",
    "Datasets": "keras_recipes.training",
    "Evaluation": "keras_recipes.training",
    "Recipe": "keras_recipes.training",
    "RunResult": "keras_recipes.training",
    "custom_objects": "keras_recipes.portable",
    "get_recipe": "keras_recipes.catalog",
    "list_recipes": "keras_recipes.catalog",
    "load_config": "keras_recipes.api",
    "load_run": "keras_recipes.api",
    "register": "keras_recipes.registry",
    "run": "keras_recipes.api",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'keras_recipes' has no attribute '{name}'")


def __dir__():
    return sorted(list(globals()) + __all__)
