"""`tf.distribute` strategies from the `distribute` config section."""

import json
import os

import keras
import tensorflow as tf

from keras_recipes.errors import ConfigError, UserError


def split_cpu(count):
    """Splits the first CPU into `count` logical devices.

    This gives `MirroredStrategy` several devices on a machine without GPUs,
    which is how distributed code is tested on one CPU.

    Args:
        count: Number of logical CPU devices, at least 2.

    Returns:
        The names of the logical CPU devices.

    Example:

    ```python
    strategy = tf.distribute.MirroredStrategy(split_cpu(2))
    ```
    """
    cpus = tf.config.list_physical_devices("CPU")
    existing = tf.config.get_logical_device_configuration(cpus[0])
    if existing is None or len(existing) != count:
        try:
            tf.config.set_logical_device_configuration(
                cpus[0], [tf.config.LogicalDeviceConfiguration()] * count
            )
        except RuntimeError:
            raise UserError(
                f"distribute.cpu_devices={count} must be set before TensorFlow "
                f"starts its devices; run it in a new process (the command "
                f"line does)"
            ) from None
    return [device.name for device in tf.config.list_logical_devices("CPU")]


def read_tf_config():
    """Returns the parsed `TF_CONFIG` environment variable.

    Returns:
        The cluster description: `{"cluster": {...}, "task": {...}}`.

    Example:

    ```python
    task = read_tf_config()["task"]
    ```
    """
    text = os.environ.get("TF_CONFIG", "")
    if not text.strip():
        raise UserError(
            "distribute.strategy=multi_worker needs the TF_CONFIG environment "
            'variable on every worker, e.g. TF_CONFIG=\'{"cluster": {"worker": '
            '["host1:2222", "host2:2222"]}, "task": {"type": "worker", '
            '"index": 0}}\''
        )
    try:
        data = json.loads(text)
        workers = data["cluster"]["worker"]
        task = data["task"]
        task["type"], int(task["index"])
    except (ValueError, KeyError, TypeError):
        raise UserError(
            "TF_CONFIG is not a cluster description: it needs JSON with "
            "cluster.worker (a list of host:port) and task.type and task.index"
        ) from None
    if not isinstance(workers, list) or not workers:
        raise UserError("TF_CONFIG cluster.worker must be a non-empty list")
    return data


_MIRRORED = {}


def build_strategy(config):
    """Returns the `tf.distribute.Strategy` the `distribute` section names.

    Args:
        config: The `distribute` config section, or `None` (no such
            section) for the default strategy.

    Returns:
        A `tf.distribute.Strategy`: the default one for `"none"`,
        `MirroredStrategy` over the local GPUs (or `cpu_devices` logical
        CPUs) for `"mirrored"`, `MultiWorkerMirroredStrategy` over the
        `TF_CONFIG` cluster for `"multi_worker"`, `TPUStrategy` for `"tpu"`.

    Example:

    ```python
    strategy = build_strategy(config.distribute)
    with strategy.scope():
        model = build_model()
    ```
    """
    name = getattr(config, "strategy", "none")
    if getattr(config, "cpu_devices", 0) and name != "mirrored":
        raise ConfigError(
            f"distribute.cpu_devices applies to strategy 'mirrored' only. "
            f"Received: strategy={name!r}"
        )
    if name == "none":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = None
        if config.cpu_devices > 1:
            devices = split_cpu(config.cpu_devices)
        # A second MirroredStrategy over the same devices in one process
        # numbers its collective operations from the start again, and they
        # collide with the first one's ("Shape mismatch in the collective
        # instance"): runs in one process (an orchestrating recipe's stages,
        # cross-validation folds) share one strategy per set of devices.
        key = tuple(devices or ())
        if key not in _MIRRORED:
            _MIRRORED[key] = tf.distribute.MirroredStrategy(devices)
        return _MIRRORED[key]
    if name == "multi_worker":
        read_tf_config()
        try:
            return tf.distribute.MultiWorkerMirroredStrategy()
        except RuntimeError:
            raise UserError(
                "distribute.strategy=multi_worker must be set up before "
                "TensorFlow runs anything; start each worker in a new process "
                "(the command line does)"
            ) from None
    return _tpu_strategy(config.tpu)


def _tpu_strategy(address):
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
            tpu=address or None
        )
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise UserError(
            f"distribute.strategy=tpu: no TPU found at "
            f"{address or 'the address the environment gives'} ({reason}); "
            f"set distribute.tpu to its name or grpc:// address, or use "
            f"strategy 'none'"
        ) from None
    return tf.distribute.TPUStrategy(resolver)


def is_multi_worker(strategy):
    """Whether `strategy` spans several worker processes.

    Args:
        strategy: A `tf.distribute.Strategy`.

    Returns:
        `True` for a `MultiWorkerMirroredStrategy` with more than one worker.

    Example:

    ```python
    is_multi_worker(tf.distribute.get_strategy())  # False
    ```
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not isinstance(
        strategy, tf.distribute.MultiWorkerMirroredStrategy
    ):
        return False
    jobs = resolver.cluster_spec().as_dict()
    return sum(len(jobs.get(job, [])) for job in ("chief", "worker")) > 1


def is_chief(strategy):
    """Whether this process writes the run directory.

    The chief is the task of type `"chief"` or, in a cluster without one,
    worker 0; outside a cluster every process is its own chief.

    Args:
        strategy: A `tf.distribute.Strategy`.

    Returns:
        `True` if this process is the chief.

    Example:

    ```python
    if is_chief(strategy):
        save_config(config, run_dir / "config.yaml")
    ```
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not isinstance(
        strategy, tf.distribute.MultiWorkerMirroredStrategy
    ):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type is None:
        return True
    jobs = resolver.cluster_spec().as_dict()
    return task_type == "chief" or (
        task_type == "worker" and task_id == 0 and "chief" not in jobs
    )


def task_name(strategy):
    """Returns this process's task as `"<type>_<index>"`, e.g. `"worker_1"`.

    Args:
        strategy: A `tf.distribute.Strategy`.

    Returns:
        The task name, or `"local"` outside a cluster.

    Example:

    ```python
    task_name(tf.distribute.get_strategy())  # "local"
    ```
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or resolver.task_type is None:
        return "local"
    return f"{resolver.task_type}_{resolver.task_id}"


def shard_by_data(dataset):
    """Makes every worker read its own share of each global batch.

    The recipes' datasets are built from in-memory tensors or file lists
    that every worker holds whole, so sharding by file cannot apply; this
    sets the `DATA` policy instead of letting TensorFlow fall back to it
    with a warning.

    Args:
        dataset: A `tf.data.Dataset`, or `None`.

    Returns:
        The dataset with the sharding option set, or `None`.

    Example:

    ```python
    train = shard_by_data(train)
    ```
    """
    if dataset is None or not isinstance(dataset, tf.data.Dataset):
        return dataset
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.DATA
    )
    return dataset.with_options(options)


def synchronize_batch_norm(model):
    """Makes every `BatchNormalization` layer use the global batch's moments.

    Each replica sees only its share of a batch; unsynchronised, every
    replica would normalise with, and average into its moving statistics,
    moments of its share alone, so workers would end with different moving
    statistics. Synchronised, the layer computes what it computes on one
    device with the whole batch.

    Args:
        model: A `keras.Model`; nested models are included.

    Returns:
        The number of layers changed.

    Example:

    ```python
    if strategy.num_replicas_in_sync > 1:
        synchronize_batch_norm(model)
    ```
    """
    changed = 0
    pending = list(model.layers)
    while pending:
        layer = pending.pop()
        if isinstance(layer, keras.layers.BatchNormalization):
            changed += not layer.synchronized
            layer.synchronized = True
        pending.extend(getattr(layer, "layers", []))
    return changed


def batch_function(model, input_shape=None):
    """Returns a compiled function from a batch of inputs to `model`'s outputs.

    `Model.predict_on_batch` under a `MirroredStrategy` gives every replica
    the whole batch and returns their outputs end to end, twice as many rows
    as inputs on two devices; this calls the model once per batch, whatever
    the strategy, and keeps no outputs, so a test set can stream through it.

    Args:
        model: A Keras model. No default.
        input_shape: Shape of one input, `(height, width, channels)` for
            images: the function is then traced once for any batch size.
            Defaults to `None` (traced for each new batch shape).

    Returns:
        A `tf.function` taking a batch of inputs, returning the outputs.

    Example:

    ```python
    reconstruct = batch_function(model, data.input_shape)
    reconstructions = np.asarray(reconstruct(images), "float32")
    ```
    """
    signature = None
    if input_shape is not None:
        signature = [tf.TensorSpec((None, *input_shape), tf.float32)]
    return tf.function(
        lambda inputs: model(inputs, training=False), input_signature=signature
    )
