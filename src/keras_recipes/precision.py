"""Mixed precision: which dtype policy the hardware runs fastest and correctly."""

import contextlib
import functools
import time
from pathlib import Path

import keras
import tensorflow as tf

POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")
# Below this, casts and float32 weight updates eat bfloat16's gain; measured
# CPUs sit far from it (about 2 or about 0.5), so the choice does not flicker.
BFLOAT16_MIN_SPEEDUP = 1.25


@functools.cache
def cpu_flags():
    """Returns the instruction-set flags of this machine's CPU.

    Read from `/proc/cpuinfo`; empty where there is no such file.

    Returns:
        A `frozenset` of lower-case flag names, such as `"avx512_bf16"`.

    Example:

    ```python
    "avx512_bf16" in cpu_flags()
    ```
    """
    path = Path("/proc/cpuinfo")
    if not path.is_file():
        return frozenset()
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def cpu_has_bfloat16():
    """Returns whether this CPU has bfloat16 instructions (AVX512_BF16 or AMX).

    Returns:
        `True` when `cpu_flags()` lists `avx512_bf16` or `amx_bf16`.

    Example:

    ```python
    speedup = cpu_bfloat16_speedup() if cpu_has_bfloat16() else None
    ```
    """
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


def gpu_compute_capabilities():
    """Returns the CUDA compute capability of each visible GPU.

    Returns:
        A list of `(major, minor)` tuples, empty without GPUs.

    Example:

    ```python
    any(major >= 8 for major, _ in gpu_compute_capabilities())
    ```
    """
    capabilities = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        capabilities.append(tuple(details.get("compute_capability", (0, 0))))
    return capabilities


@functools.cache
def cpu_bfloat16_speedup(rounds=5):
    """Measures how much faster this CPU runs convolutions in bfloat16.

    Some CPUs with AVX512_BF16 run bfloat16 convolutions and matmuls twice
    as fast as float32 (AMD Zen 4), others, without AMX, at half the speed
    (Intel Xeons whose AMX the VM hides): the flags alone cannot tell. Times
    a 3x3 convolution and a matmul (about 0.7 GFLOP each) in both dtypes,
    alternating, and keeps each dtype's fastest round. Takes about 0.3 s
    the first time; later calls return the cached value.

    Args:
        rounds: Alternating timing rounds. Defaults to `5`.

    Returns:
        float32 time over bfloat16 time: above 1 when bfloat16 is faster.

    Example:

    ```python
    use_bfloat16 = cpu_bfloat16_speedup() > 1.25
    ```
    """
    with tf.device("/CPU:0"):
        images = tf.random.uniform([8, 28, 28, 64])
        kernel = tf.random.uniform([3, 3, 64, 64])
        matrix = tf.random.uniform([704, 704])

        def work(dtype):
            x, k, m = (tf.cast(t, dtype) for t in (images, kernel, matrix))

            @tf.function
            def step():
                return tf.nn.conv2d(x, k, 1, "SAME")[0, 0, 0, 0] + tf.matmul(m, m)[0, 0]

            step()  # traces, and lets oneDNN pick its kernels
            return step

        steps = {dtype: work(dtype) for dtype in (tf.float32, tf.bfloat16)}
        best = {dtype: float("inf") for dtype in steps}
        for _ in range(rounds):
            for dtype, step in steps.items():
                started = time.perf_counter()
                step().numpy()
                best[dtype] = min(best[dtype], time.perf_counter() - started)
    return best[tf.float32] / best[tf.bfloat16]


def resolve_mixed_precision(setting, strategy=None):
    """Turns a `train.mixed_precision` setting into a Keras dtype policy name.

    `"auto"` picks the fastest policy the hardware computes natively:
    `mixed_bfloat16` on TPUs, on GPUs of compute capability 8.0 or more
    (Ampere) and on CPUs with AVX512_BF16 or AMX-BF16 instructions that
    measure at least 1.25x faster in bfloat16 (`cpu_bfloat16_speedup`);
    `mixed_float16` on GPUs of capability 7.x (Volta, Turing), which have
    float16 tensor cores but no bfloat16; `float32` everywhere else, where
    the casts would only cost time.

    Args:
        setting: `"auto"`, `"float32"`, `"mixed_float16"` or
            `"mixed_bfloat16"`.
        strategy: The `tf.distribute.Strategy` the run uses, or `None`.

    Returns:
        One of `"float32"`, `"mixed_float16"`, `"mixed_bfloat16"`.

    Example:

    ```python
    keras.mixed_precision.set_global_policy(resolve_mixed_precision("auto"))
    ```
    """
    if setting != "auto":
        if setting not in POLICIES:
            raise ValueError(
                f"mixed_precision must be 'auto' or one of {POLICIES}. "
                f"Received: {setting!r}"
            )
        return setting
    if strategy is not None and isinstance(strategy, tf.distribute.TPUStrategy):
        return "mixed_bfloat16"
    capabilities = gpu_compute_capabilities()
    if capabilities:
        lowest = min(capabilities)
        if lowest >= (8, 0):
            return "mixed_bfloat16"
        if lowest >= (7, 0):
            return "mixed_float16"
        return "float32"
    if cpu_has_bfloat16():
        if cpu_bfloat16_speedup() >= BFLOAT16_MIN_SPEEDUP:
            return "mixed_bfloat16"
    return "float32"


@contextlib.contextmanager
def dtype_policy(name):
    """Sets Keras's global dtype policy inside a `with` block.

    Layers built inside the block compute in the policy's dtype; the
    previous global policy comes back on exit.

    Args:
        name: A Keras dtype policy name, such as `"mixed_bfloat16"`.

    Returns:
        A context manager.

    Example:

    ```python
    with dtype_policy("mixed_bfloat16"):
        model = small_cnn((16, 16, 1), 10)
    ```
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _output_layers(model):
    """Yields the layers whose outputs are `model`'s outputs, into submodels."""
    if isinstance(model, keras.Sequential):
        layers = model.layers[-1:]
    else:
        try:
            outputs = keras.tree.flatten(model.outputs)
        except (AttributeError, ValueError):
            return  # a subclassed model: its own code decides its dtypes
        layers = [tensor._keras_history.operation for tensor in outputs]
    for layer in layers:
        if isinstance(layer, keras.Model):
            yield from _output_layers(layer)
        else:
            yield layer


def keep_outputs_float32(model):
    """Makes the layers that produce `model`'s outputs compute in float32.

    Under a mixed policy every layer computes in float16 or bfloat16; the
    Keras mixed precision guide keeps the last layer (a softmax, say) in
    float32, so that probabilities and the loss keep their precision. The
    layers' variables are float32 under every mixed policy, so only their
    compute dtype changes; the model's structure and weights stay as built.

    Args:
        model: A `keras.Model`. Subclassed models are left as they are.

    Returns:
        The names of the layers changed.

    Example:

    ```python
    with dtype_policy("mixed_bfloat16"):
        model = small_cnn((16, 16, 1), 10)
    keep_outputs_float32(model)
    ```
    """
    changed = []
    for layer in _output_layers(model):
        if layer.compute_dtype != "float32":
            layer.dtype_policy = "float32"
            changed.append(layer.name)
    return changed
