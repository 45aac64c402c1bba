"""Seeds every random number generator a run touches."""

import keras
import tensorflow as tf


def set_seed(seed):
    """Seeds Python, NumPy, Keras and TensorFlow and makes TF ops deterministic.

    With the same seed, the same config gives the same numbers on CPU.

    Args:
        seed: A non-negative integer.

    Returns:
        `None`.

    Example:

    ```python
    set_seed(42)
    ```
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
