"""A callback that counts dead ReLU units, per layer, after every epoch."""

import csv
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_recipes.errors import UserError

DEAD_RELU_FILE = "dead_relu.csv"


def _is_relu(layer):
    if isinstance(layer, keras.layers.ReLU):
        return True
    return getattr(layer, "activation", None) is keras.activations.relu


def dead_fractions(activations):
    """Returns the fraction of units that never fire in each activation array.

    A unit (a neuron of a dense layer, a channel of a convolution) is dead on
    the given inputs when its output is zero for every example and position:
    its ReLU sits in the flat part, so no gradient reaches its weights and,
    unless the inputs change, it never recovers.

    Args:
        activations: A list of arrays `[batch, ..., units]`.

    Returns:
        A list of floats in [0, 1], one per array.

    Example:

    ```python
    dead_fractions([np.array([[0.0, 1.0], [0.0, 0.0]])])  # [0.5]
    ```
    """
    fractions = []
    for values in activations:
        values = np.asarray(values)
        alive = (values.reshape(-1, values.shape[-1]) > 0).any(axis=0)
        fractions.append(float(1.0 - alive.mean()))
    return fractions


class DeadReLUMonitor(keras.callbacks.Callback):
    """Logs the fraction of dead ReLU units of each layer after every epoch.

    The ReLU layers (any layer with `activation="relu"`, or a `ReLU` layer)
    run on a fixed probe batch; a unit that outputs zero for all of it is
    dead. The fractions go to TensorBoard as `dead_relu/<layer>` and to a
    CSV file (`epoch,layer,units,dead_fraction`) that `diagnose` reads. A
    large dead fraction usually means the learning rate was too high.

    Args:
        probe: Inputs to probe with (an array, or a `tf.data.Dataset` of
            inputs or `(inputs, targets)`), or `None` to set them later with
            `set_probe`. Defaults to `None`.
        log_dir: TensorBoard folder, or `None` for none. Defaults to `None`.
        path: The CSV file, or `None` for none. Defaults to `None`.
        samples: Probe examples used at most. Defaults to `512`.
        append: Append to an existing CSV (a resumed run). Defaults to
            `False`.

    Example:

    ```python
    monitor = DeadReLUMonitor(x_train[:512], path="dead_relu.csv")
    model.fit(x_train, y_train, callbacks=[monitor])
    monitor.history  # {"hidden_1": [0.0, 0.02, ...], ...}
    ```

    Reference:
        https://cs231n.github.io/neural-networks-1/#actfun
    """

    def __init__(self, probe=None, log_dir=None, path=None, samples=512, append=False):
        super().__init__()
        if samples < 1:
            raise ValueError(f"samples must be positive. Received: samples={samples}")
        self.samples = samples
        self.log_dir = None if log_dir is None else Path(log_dir)
        self.path = None if path is None else Path(path)
        self.append = append
        self.history = {}
        self.probe = None
        if probe is not None:
            self.set_probe(probe)

    def set_probe(self, probe):
        """Sets the inputs the units are probed with.

        Args:
            probe: An array, or a `tf.data.Dataset` of inputs or of
                `(inputs, targets)` batches.
        """
        if isinstance(probe, tf.data.Dataset):
            batches = []
            count = 0
            for batch in probe:
                inputs = batch[0] if isinstance(batch, tuple) else batch
                batches.append(keras.ops.convert_to_numpy(inputs))
                count += len(batches[-1])
                if count >= self.samples:
                    break
            probe = np.concatenate(batches)
        self.probe = np.asarray(probe)[: self.samples]

    def on_train_begin(self, logs=None):
        if self.probe is None:
            raise UserError(
                "callbacks.dead_relu is on but this recipe gives the monitor no "
                "probe inputs; switch it off (--set callbacks.dead_relu.enabled="
                "false) or call attach_probe in the recipe's build_callbacks"
            )
        self.layers = [layer for layer in self.model.layers if _is_relu(layer)]
        self.probe_model = None
        if self.layers:
            inputs = self.model.inputs
            self.probe_model = keras.Model(
                inputs[0] if len(inputs) == 1 else inputs,
                [layer.output for layer in self.layers],
            )
        self.writer = None
        if self.log_dir is not None:
            self.writer = tf.summary.create_file_writer(str(self.log_dir))
        if self.path is not None and not (self.append and self.path.is_file()):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("w", newline="") as file:
                csv.writer(file).writerow(["epoch", "layer", "units", "dead_fraction"])

    def on_epoch_end(self, epoch, logs=None):
        if self.probe_model is None:
            return
        outputs = self.probe_model(self.probe, training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        arrays = [keras.ops.convert_to_numpy(output) for output in outputs]
        fractions = dead_fractions(arrays)
        rows = []
        for layer, values, fraction in zip(self.layers, arrays, fractions, strict=True):
            self.history.setdefault(layer.name, []).append(fraction)
            rows.append([epoch + 1, layer.name, values.shape[-1], f"{fraction:.6f}"])
        if self.path is not None:
            with self.path.open("a", newline="") as file:
                csv.writer(file).writerows(rows)
        if self.writer is not None:
            with self.writer.as_default():
                for layer, fraction in zip(self.layers, fractions, strict=True):
                    tf.summary.scalar(f"dead_relu/{layer.name}", fraction, step=epoch)
            self.writer.flush()

    def on_train_end(self, logs=None):
        if getattr(self, "writer", None) is not None:
            self.writer.close()


def attach_probe(callbacks, probe):
    """Gives every `DeadReLUMonitor` in `callbacks` its probe inputs.

    Recipes call this from `build_callbacks`, where their data is known.

    Args:
        callbacks: A list of Keras callbacks.
        probe: Inputs, as `DeadReLUMonitor.set_probe` takes them.

    Returns:
        `callbacks`, unchanged but for the monitors' probes.

    Example:

    ```python
    def build_callbacks(self):
        return attach_probe(super().build_callbacks(), self.data.validation)
    ```
    """
    for callback in callbacks:
        if isinstance(callback, DeadReLUMonitor):
            callback.set_probe(probe)
    return callbacks


def read_dead_relu(path):
    """Reads a `DeadReLUMonitor` CSV into per-layer lists.

    Args:
        path: The CSV file.

    Returns:
        A `dict` of layer name to `(epochs, fractions)` lists, in file order;
        empty when there is no file.

    Example:

    ```python
    read_dead_relu("runs/mlp/x/dead_relu.csv")["hidden_1"]
    ```
    """
    path = Path(path)
    if not path.is_file():
        return {}
    layers = {}
    with path.open() as file:
        for row in csv.DictReader(file):
            epochs, fractions = layers.setdefault(row["layer"], ([], []))
            epochs.append(int(row["epoch"]))
            fractions.append(float(row["dead_fraction"]))
    return layers


def plot_dead_relu(layers, path):
    """Plots each layer's fraction of dead ReLU units per epoch.

    Args:
        layers: `read_dead_relu` output: layer name to `(epochs, fractions)`.
        path: PNG file to write.

    Returns:
        `path`.

    Example:

    ```python
    plot_dead_relu(read_dead_relu("dead_relu.csv"), "dead_relu.png")
    ```
    """
    import matplotlib.pyplot as plt

    import keras_recipes.figures  # noqa: F401  (selects the Agg backend)

    figure, axis = plt.subplots(figsize=(5.5, 3.6))
    for name, (epochs, fractions) in layers.items():
        axis.plot(epochs, [100 * f for f in fractions], marker=".", label=name)
    axis.set_xlabel("epoch")
    axis.set_ylabel("dead ReLU units (%)")
    axis.set_ylim(bottom=0)
    axis.set_title("units that output zero for every probe example")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
