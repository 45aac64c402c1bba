"""Seeds every random number generator a run touches."""

import keras
import tensorflow as tf

# TensorFlow's public API can switch op determinism on but not off.
from tensorflow.python.framework import config as tf_config


def set_seed(seed, deterministic=True):
    """Seeds Python, NumPy, Keras and TensorFlow and makes TF ops deterministic.

    With the same seed, the same config gives the same numbers on CPU.

    Args:
        seed: A non-negative integer.
        deterministic: Whether TensorFlow's ops must give the same numbers
            run after run. Keras refuses to XLA-compile a model while this
            is on, so runs with `jit_compile` turn it off. Defaults to `True`.

    Returns:
        `None`.

    Example:

    ```python
    set_seed(42)
    ```
    """
    keras.utils.set_random_seed(seed)
    set_op_determinism(deterministic)


def set_op_determinism(enabled):
    """Switches TensorFlow's op determinism on or off.

    Args:
        enabled: Whether ops must be deterministic.

    Returns:
        Whether it was on before.

    Example:

    ```python
    was_on = set_op_determinism(False)
    ```
    """
    before = tf_config.is_op_determinism_enabled()
    if enabled and not before:
        tf.config.experimental.enable_op_determinism()
    elif before and not enabled:
        tf_config.disable_op_determinism()
    return before
