"""Callbacks of a style transfer fit: per-step history, saved images, timing."""

import csv
import re
import time
from pathlib import Path

import keras
import numpy as np
from PIL import Image

from keras_recipes.style.images import save_image

TERMS = ("loss", "content", "style", "variation")
SNAPSHOT = "step_{:05d}.png"
_SNAPSHOT_NAME = re.compile(r"step_(\d{5,})\.png")


class StepHistory(keras.callbacks.History):
    """Records the loss terms of every optimisation step, and writes a CSV.

    One style transfer fit is one epoch of `train.steps` steps, so this
    `History` keeps a value per step rather than per epoch; `Model.fit`
    returns it. The CSV has a column `epoch` holding the step index, as
    `keras_recipes.run_files.read_history` expects.

    Args:
        path: The CSV file to write, e.g. `run_dir / "history.csv"`.
        names: The terms to record, in column order. Defaults to `TERMS`.

    Example:

    ```python
    history = model.fit(steps, callbacks=[StepHistory("history.csv")])
    history.history["loss"][0]  # the cost of the starting image
    ```
    """

    def __init__(self, path, names=TERMS):
        super().__init__()
        self.path = Path(path)
        self.names = tuple(names)
        self._file = None
        self._writer = None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.history = {name: [] for name in self.names}
        self._file = self.path.open("w", newline="")
        self._writer = csv.writer(self._file)
        self._writer.writerow(["epoch", *self.names])

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        step = len(self.history[self.names[0]])
        values = [float(logs[name]) for name in self.names]
        self._writer.writerow([step, *values])
        for name, value in zip(self.names, values, strict=True):
            self.history[name].append(value)

    def on_epoch_end(self, epoch, logs=None):
        pass  # the steps are recorded one by one

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


class ImageSnapshots(keras.callbacks.Callback):
    """Saves the generated image before the first step and every few steps.

    The files are `step_00000.png` (the start), then one every `every`
    steps and one after the last step, in `folder`.

    Args:
        folder: The folder to write into; it is created.
        every: Steps between saved images.
        steps: The number of steps of the fit, so the last one is saved.

    Example:

    ```python
    model.fit(data, callbacks=[ImageSnapshots("figures", every=100, steps=1000)])
    ```
    """

    def __init__(self, folder, every, steps):
        super().__init__()
        self.folder = Path(folder)
        self.every = int(every)
        self.steps = int(steps)
        self._done = 0

    def _save(self):
        path = self.folder / SNAPSHOT.format(self._done)
        save_image(self.model.result(), path)

    def on_train_begin(self, logs=None):
        self.folder.mkdir(parents=True, exist_ok=True)
        self._done = 0
        self._save()

    def on_train_batch_end(self, batch, logs=None):
        self._done += 1
        if self._done % self.every == 0 or self._done == self.steps:
            self._save()


def read_snapshots(folder):
    """Reads back the images `ImageSnapshots` saved, in step order.

    Args:
        folder: The folder they were saved in.

    Returns:
        A `(steps, images)` tuple: the step numbers and a float32 array
        `[N, H, W, 3]` in [0, 255].

    Example:

    ```python
    steps, images = read_snapshots(run_dir / "figures")
    ```
    """
    found = []
    for path in Path(folder).iterdir():
        match = _SNAPSHOT_NAME.fullmatch(path.name)
        if match:
            found.append((int(match.group(1)), path))
    found.sort()
    images = []
    for _, path in found:
        with Image.open(path) as image:
            images.append(np.asarray(image.convert("RGB"), dtype="float32"))
    return [step for step, _ in found], np.stack(images)


class StepTimer(keras.callbacks.Callback):
    """Measures the seconds per optimisation step, leaving out the first.

    The first step traces (and with XLA compiles) the step, so the clock
    starts when it ends, unless it is the only step.

    Attributes:
        seconds_per_step: The mean time of the later steps, set when the
            fit ends; `None` before.

    Example:

    ```python
    timer = StepTimer()
    model.fit(data, callbacks=[timer])
    print(timer.seconds_per_step)
    ```
    """

    def __init__(self):
        super().__init__()
        self.seconds_per_step = None
        self._started = None
        self._steps = 0

    def on_train_begin(self, logs=None):
        self._started = time.perf_counter()
        self._steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self._steps += 1
        if self._steps == 1 and (self.params.get("steps") or 0) > 1:
            self._started = time.perf_counter()

    def on_train_end(self, logs=None):
        timed = max(1, self._steps - 1)
        self.seconds_per_step = (time.perf_counter() - self._started) / timed
