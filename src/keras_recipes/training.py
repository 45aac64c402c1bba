"""The `Recipe` base class: one data flow from config to a run directory."""

import csv
import dataclasses
import datetime
import hashlib
import math
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import keras

from keras_recipes import config as config_lib
from keras_recipes.callbacks import best_value, build_callbacks, read_backup_pointer
from keras_recipes.distribution import (
    build_strategy,
    is_chief,
    is_multi_worker,
    shard_by_data,
    synchronize_batch_norm,
    task_name,
)
from keras_recipes.epoch_seeding import (
    EpochSeeding,
    make_epoch_variable,
    never_ends,
    whole_epochs,
)
from keras_recipes.errors import UserError
from keras_recipes.figures import plot_history
from keras_recipes.multi_worker import fit_multi_worker, local_copy, weights_digest
from keras_recipes.optimizers import build_optimizer
from keras_recipes.precision import (
    dtype_policy,
    keep_outputs_float32,
    resolve_mixed_precision,
)
from keras_recipes.saving import (
    restore_compile,
    write_json_atomic,
    write_text_atomic,
)
from keras_recipes.seeding import set_seed


@dataclasses.dataclass
class Datasets:
    """The data a recipe trains and evaluates on.

    Attributes:
        train: Batched `tf.data.Dataset` of `(inputs, targets)`: one epoch,
            or epoch after epoch without end (`every_epoch`), of which
            `steps_per_epoch` batches make an epoch.
        validation: Batched validation dataset, or `None`.
        test: Batched held-out test dataset, or `None`.
        steps_per_epoch: Batches in one epoch of `train`.
        input_shape: Shape of one input, without the batch axis.
        class_names: Names of the classes, for classifiers.
        random_layers: Layers drawing random numbers inside the input
            pipeline (augmentation); they are re-seeded every epoch.
        skipped_files: The `SkippedFiles` of a data folder's scan, which the
            run reports (and lists in `skipped_files.txt`), or `None`.

    A recipe that needs more (arrays for its figures, anchors, sizes)
    subclasses this dataclass with typed fields of its own.
    """

    train: object
    validation: object = None
    test: object = None
    steps_per_epoch: int = 1
    input_shape: tuple = ()
    class_names: list = dataclasses.field(default_factory=list)
    random_layers: list = dataclasses.field(default_factory=list)
    skipped_files: object = None


@dataclasses.dataclass
class Evaluation:
    """What `Recipe.evaluate` measured, for `metrics.json`, export and figures.

    Attributes:
        metrics: Metric name to value, written to `metrics.json`; the same
            config and seed reproduce it.

    A recipe whose export or figures need more of what evaluation computed
    (predictions, embeddings, a threshold) subclasses this dataclass, so
    each later step receives it as an argument instead of reading it from
    the recipe.
    """

    metrics: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class RunResult:
    """What `Recipe.run` returns.

    Attributes:
        run_dir: The run directory.
        history: Metric name to per-epoch values, over the whole run.
        metrics: The evaluation metrics written to `metrics.json`.
        config: The resolved config.
        timings: Wall-clock measurements written to `timings.json`; kept
            apart from `metrics`, which the same config and seed reproduce.
            `step_seconds` holds the seconds of `build_data`, `fit`,
            `evaluate`, `export` and `figures`.
    """

    run_dir: Path
    history: dict
    metrics: dict
    config: object
    timings: dict = dataclasses.field(default_factory=dict)


def read_history(path):
    """Reads a `history.csv` written by `CSVLogger` into lists per column.

    Args:
        path: The CSV file.

    Returns:
        A `dict` of column name to list of floats; empty if there is no file.

    Example:

    ```python
    read_history("runs/small_data_classifier/20260101-000000/history.csv")
    ```
    """
    path = Path(path)
    if not path.is_file():
        return {}
    with path.open() as file:
        rows = list(csv.DictReader(file))
    columns = {name: [] for name in (rows[0] if rows else {}) if name != "epoch"}
    for row in rows:
        for name in columns:
            value = row[name]
            columns[name].append(float(value) if value not in ("", None) else math.nan)
    return columns


def _timestamp():
    return datetime.datetime.now().strftime("%Y%m%d-%H%M%S")


# Beside config.yaml: the class that ran and what `auto` settings chose.
RUN_INFO = "run.json"


class RunInterrupted(KeyboardInterrupt):
    """A `KeyboardInterrupt` during `Recipe.run`, with the run directory to resume.

    Attributes:
        run_dir: The run directory, which holds `config.yaml` and (after the
            first finished epoch) the backup `--resume` continues from.
    """

    def __init__(self, run_dir):
        super().__init__(str(run_dir))
        self.run_dir = Path(run_dir)


def fit_verbosity(setting, stream=None):
    """Returns the `verbose` of `Model.fit` for a `train.verbose` setting.

    `"auto"` gives progress bars (`1`) on a terminal and one line per epoch
    (`2`) when the output goes to a file or a pipe, so logs hold neither
    carriage returns nor colour codes.

    Args:
        setting: `"auto"`, `0`, `1` or `2`.
        stream: The stream the progress goes to. Defaults to `sys.stdout`.

    Returns:
        `0`, `1` or `2`.

    Example:

    ```python
    model.fit(data, verbose=fit_verbosity("auto"))
    ```
    """
    if setting != "auto":
        return setting
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return 1 if isatty is not None and isatty() else 2


def class_path(cls):
    """Returns `module:qualname` of a class, as `run.json` records it.

    Args:
        cls: A class.

    Returns:
        A `str` such as
        `"keras_recipes.recipes.small_data_classifier.recipe:SmallDataClassifier"`.

    Example:

    ```python
    class_path(type(recipe))
    ```
    """
    return f"{cls.__module__}:{cls.__qualname__}"


def versions():
    """Returns the versions a run used: this package, Keras, TensorFlow, Python.

    Returns:
        A `dict` of package name to version string.

    Example:

    ```python
    versions()["keras"]  # "3.15.1"
    ```
    """
    import tensorflow as tf

    import keras_recipes

    return {
        "keras_recipes": keras_recipes.__version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "python": platform.python_version(),
    }


class Recipe:
    """Wires data, model, compile, callbacks, fit, evaluation, export and figures.

    Subclasses set `name` and `config_class` (whose `description` the recipe
    takes), and implement `build_data` and `build_model`; every other step
    has a default that a subclass may override. Each step receives what it
    uses as arguments and returns what it makes; `run()` passes them on and
    writes the run directory:

        config.yaml  run.json  model.keras  checkpoints/  logs/  history.csv
        metrics.json  figures/*.png  backup/ (while a run is unfinished)

    A step may read `self.config`, `self.run_dir`, `self.strategy`,
    `self.dtype_policy` and `self.epoch` (the run's epoch counter, which
    input pipelines read and `EpochSeeding` sets), and may add wall-clock
    seconds to `self.timings`; nothing else passes between steps on `self`.

    Args:
        config: The resolved config, from `keras_recipes.load_config` or the
            recipe's `config_class`. Defaults to the recipe's defaults.
        run_dir: Directory to write into; it must not exist or be empty,
            unless `resume` is set. Defaults to `runs/<name>/<timestamp>`.
        resume: Continue the interrupted run in `run_dir` from its last
            finished epoch. Defaults to `False`.
        runs_root: Parent of the default run directories. Defaults to
            `"runs"`.

    Example:

    ```python
    class WiderClassifier(SmallDataClassifier):
        def build_model(self, data):
            model = super().build_model(data)
            ...
            return model

    result = WiderClassifier().run()
    print(result.metrics["test_accuracy"])
    ```
    """

    name = ""
    description = ""
    config_class = config_lib.RecipeConfig
    # Overrides that make a run of seconds (tiny model, few epochs) for smoke
    # tests and `run NAME --quick`; the numbers are not meant to be good.
    quick = {}
    # Names of the values each row of `predict` holds after the path (the
    # columns of `predict --output`), and how a terminal line shows them.
    prediction_columns = ("prediction",)
    prediction_format = "{prediction}"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("description"):
            cls.description = getattr(cls.config_class, "description", "")

    def __init__(self, config=None, run_dir=None, resume=False, runs_root="runs"):
        if config is None:
            config = config_lib.resolve(self.config_class)
        if self.name and config.recipe != self.name:
            # A subclass run records its own name, so its config.yaml reruns it.
            config = dataclasses.replace(config, recipe=self.name)
        self.config = config
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.resume = resume
        self.runs_root = Path(runs_root)
        # Seconds a step took, and the like: `timings.json`, not `metrics.json`.
        self.timings = {}
        # Set by `run` from the config: the `tf.distribute` strategy (`None`
        # outside `run`) and the Keras dtype policy.
        self.strategy = None
        self.dtype_policy = "float32"
        self._epoch = None

    @property
    def epoch(self):
        """The `tf.Variable` holding the current epoch, for input pipelines.

        It is made on first use, so that a multi-worker strategy can be set
        up before TensorFlow runs its first op (see epoch_seeding).
        """
        if self._epoch is None:
            self._epoch = make_epoch_variable()
        return self._epoch

    # The steps, in the order `run` calls them.

    def build_data(self):
        """Returns the `Datasets` to train and evaluate on.

        Returns:
            A `Datasets`, or a recipe's subclass of it with typed fields.
        """
        raise NotImplementedError(f"{type(self).__name__} must define build_data")

    def build_model(self, data):
        """Returns the uncompiled `keras.Model` for `data`.

        `run` calls it inside the strategy's scope and the dtype policy:
        every trainable model of a recipe is made here.

        Args:
            data: What `build_data` returned.

        Returns:
            The uncompiled `keras.Model`.
        """
        raise NotImplementedError(f"{type(self).__name__} must define build_model")

    def build_loss(self, data):
        """Returns the loss passed to `compile`.

        Args:
            data: What `build_data` returned.

        Returns:
            A Keras loss, or `None` for a model that adds its own.
        """
        return None

    def build_metrics(self, data):
        """Returns the metrics passed to `compile`.

        Args:
            data: What `build_data` returned.

        Returns:
            A list of Keras metrics.
        """
        return []

    def compile(self, model, data):
        """Compiles `model` with the configured optimizer, loss and metrics.

        Args:
            model: What `build_model` returned.
            data: What `build_data` returned.
        """
        optimizer = build_optimizer(
            self.config.optimizer, data.steps_per_epoch, self.config.train.epochs
        )
        model.compile(
            optimizer=optimizer,
            loss=self.build_loss(data),
            metrics=self.build_metrics(data),
            **self.compile_options(),
        )

    def compile_options(self):
        """Returns `jit_compile` and `steps_per_execution` for `compile`."""
        train = self.config.train
        return {
            "jit_compile": train.jit_compile,
            "steps_per_execution": train.steps_per_execution,
        }

    def build_callbacks(self, data, history=None):
        """Returns the Keras callbacks the config switches on.

        `EpochSeeding` always comes first, so every epoch's shuffling,
        augmentation and dropout depend only on the seed and the epoch, and
        a resumed run ends where an uninterrupted one would.

        Args:
            data: What `build_data` returned.
            history: On resume, the history of the epochs finished before
                (metric name to values), so early stopping, the best
                checkpoint and the learning-rate schedule carry on where
                they were; `None` or `{}` for a new run.

        Returns:
            A list of `keras.callbacks.Callback`.
        """
        seeding = EpochSeeding(self.config.seed, self.epoch, data.random_layers)
        return [
            seeding,
            *build_callbacks(
                self.config.callbacks, self.run_dir, self.resume, history or {}
            ),
        ]

    def fit(self, model, data, callbacks, initial_epoch=0):
        """Trains `model` and returns its Keras `History`.

        Args:
            model: The compiled model.
            data: What `build_data` returned.
            callbacks: What `build_callbacks` returned.
            initial_epoch: Epochs finished before a resume. Defaults to `0`.

        Returns:
            The `keras.callbacks.History` of the fit.
        """
        train = self.config.train
        steps_per_epoch = train.steps_per_epoch
        if steps_per_epoch is None and never_ends(data.train):
            steps_per_epoch = data.steps_per_epoch
        return self.fit_model(
            model,
            data.train,
            validation=data.validation,
            epochs=train.epochs,
            steps_per_epoch=steps_per_epoch,
            validation_steps=train.validation_steps,
            callbacks=callbacks,
            initial_epoch=initial_epoch,
        )

    def fit_model(
        self,
        model,
        train,
        validation=None,
        epochs=1,
        steps_per_epoch=None,
        validation_steps=None,
        callbacks=(),
        initial_epoch=0,
    ):
        """Runs `Model.fit`, or its multi-worker equivalent, on a dataset.

        Recipes that train more than one model call this for each, so every
        fit honours the `distribute` section, and every epoch of an endless
        `train` is its own (`whole_epochs`).

        Args:
            model: The compiled model.
            train: The training dataset.
            validation: The validation dataset, or `None`.
            epochs: The epoch to stop after. Defaults to `1`.
            steps_per_epoch: Batches an epoch; `None` for a finite dataset.
            validation_steps: Validation batches; `None` for all.
            callbacks: Keras callbacks. Defaults to `()`.
            initial_epoch: Epochs finished before. Defaults to `0`.

        Returns:
            The `keras.callbacks.History`.
        """
        train, steps_per_epoch = whole_epochs(
            train, steps_per_epoch, model.steps_per_execution
        )
        if is_multi_worker(self.strategy):
            return fit_multi_worker(
                model,
                self.strategy,
                train,
                validation=validation,
                epochs=epochs,
                steps_per_epoch=steps_per_epoch,
                validation_steps=validation_steps,
                callbacks=callbacks,
                verbose=fit_verbosity(self.config.train.verbose),
                initial_epoch=initial_epoch,
            )
        return model.fit(
            train,
            validation_data=validation,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            validation_steps=validation_steps,
            callbacks=list(callbacks),
            shuffle=False,  # the tf.data pipeline shuffles
            verbose=fit_verbosity(self.config.train.verbose),
            initial_epoch=initial_epoch,
        )

    def evaluate(self, model, data):
        """Measures the trained model on the test set (else validation).

        Args:
            model: The trained model.
            data: What `build_data` returned.

        Returns:
            An `Evaluation` whose `metrics` go to `metrics.json`.
        """
        dataset, prefix = (
            (data.test, "test") if data.test is not None else (data.validation, "val")
        )
        if dataset is None:
            return Evaluation({})
        scores = model.evaluate(dataset, return_dict=True, verbose=0)
        return Evaluation(
            {f"{prefix}_{name}": float(value) for name, value in scores.items()}
        )

    def export(self, model, data, evaluation):
        """Writes `model` in the formats of the config's `export` section.

        `keras` saves the trained model as `model.keras`; `saved_model`,
        `onnx` and `litert` write `serving_model(model, data)` to `export/`
        (`quantize: int8` quantizes the ONNX and LiteRT weights).

        Args:
            model: The trained model.
            data: What `build_data` returned.
            evaluation: What `evaluate` returned.
        """
        from keras_recipes.exporting import write_exports

        export = self.config.export
        write_exports(
            self.run_dir,
            self.portable_model(model),
            export.formats,
            export.quantize,
            serving_model=lambda: self.serving_model(model, data),
        )

    def portable_model(self, model):
        """Returns the model `model.keras` holds: one plain Keras can load.

        Plain `keras.saving.load_model` rebuilds only Keras's own classes, so
        a recipe whose trained model is a class of this package (the VAE,
        whose class is its training step) saves a functional model of the
        same layers instead, and `model_from_portable` turns it back. The
        default is `model` itself.

        Args:
            model: The trained model, as `build_model` made it.

        Returns:
            A `keras.Model` built from Keras's classes only.

        Example:

        ```python
        recipe.portable_model(model).save("model.keras")
        ```
        """
        return model

    def model_from_portable(self, model):
        """Returns the recipe's model from what `portable_model` saved.

        `load_run` calls it on the loaded `model.keras`, so `predict`,
        `evaluate` and the other steps get the model `build_model` made.
        The default is `model` itself.

        Args:
            model: The model loaded from `model.keras`.

        Returns:
            The `keras.Model` the recipe's steps take.

        Example:

        ```python
        model = recipe.model_from_portable(keras.saving.load_model(path))
        ```
        """
        return model

    def serving_model(self, model, data):
        """Returns the model the serving formats hold: raw inputs in.

        SavedModel, ONNX and LiteRT files should need nothing of this
        package: this model takes what a user has (images with pixels in
        [0, 255], raw table rows) and does the recipe's preprocessing
        inside. The default is `model` itself, for the recipes whose model
        already takes raw inputs; a recipe whose model reads scaled inputs
        (or returns raw grids) overrides it.

        Args:
            model: The trained model, as `build_model` made it (or a
                finished run's `model.keras`).
            data: What `build_data` returned; `None` when the `export`
                command exports a finished run, whose files (in
                `self.run_dir`) then hold what the wrapper needs.

        Returns:
            A `keras.Model` with one input.
        """
        return model

    def figures(self, model, data, history, evaluation):
        """Draws the run's figures into `figures/`.

        Args:
            model: The trained model.
            data: What `build_data` returned.
            history: Metric name to per-epoch values, over the whole run.
            evaluation: What `evaluate` returned.
        """
        plot_history(
            history,
            self.figure_path("training_curves.png"),
            **self.history_marks(history),
        )

    def history_marks(self, history):
        """Returns the best epoch and the early-stopping epoch to mark on curves.

        The best epoch is the one early stopping (else the checkpoint)
        judged best by its `monitor`; the stop is marked when early stopping
        ended the run before `train.epochs`.

        Args:
            history: Metric name to per-epoch values, over the whole run.

        Returns:
            A `dict` of `best_epoch`, `stopped_epoch` (counted from 1, or
            `None`) and `monitor`: keyword arguments of `plot_history`.
        """
        callbacks = getattr(self.config, "callbacks", None)
        stop = getattr(callbacks, "early_stopping", None)
        checkpoint = getattr(callbacks, "model_checkpoint", None)
        watch = next((c for c in (stop, checkpoint) if c and c.enabled), None)
        monitor = watch.monitor if watch is not None else "val_loss"
        best = best_value(history, monitor, watch.mode if watch else "auto")
        epochs = len(history.get("loss", next(iter(history.values()), [])))
        stopped = stop is not None and stop.enabled
        stopped = stopped and 0 < epochs < getattr(self.config.train, "epochs", 0)
        if best is None:
            return {"best_epoch": None, "stopped_epoch": None, "monitor": None}
        return {
            "best_epoch": list(history[monitor]).index(best) + 1,
            "stopped_epoch": epochs if stopped else None,
            "monitor": monitor,
        }

    def predict(self, model, paths):
        """Returns one row per image file, for `keras_recipes predict`.

        Args:
            model: The run's model.
            paths: Image files, and folders searched at any depth.

        Returns:
            A list of `(path, *values)` rows; `prediction_columns` names the
            values and `prediction_format` shows them on a terminal.
        """
        raise UserError(f"recipe '{self.name}' does not support predict")

    # The driver.

    def run(self):
        """Runs every step and returns a `RunResult`.

        The steps run under the configured dtype policy, and the model is
        built and compiled in the scope of the configured distribution
        strategy. In a multi-worker cluster only the chief writes the run
        directory; the other workers write to a temporary folder. Ctrl-C
        raises `RunInterrupted`, which names the run directory to resume,
        once that directory holds `config.yaml`.

        Returns:
            The `RunResult` with the run directory, history and metrics.
        """
        # A multi-worker strategy must exist before TensorFlow runs any op.
        self.strategy = build_strategy(getattr(self.config, "distribute", None))
        # Keras will not XLA-compile a model while op determinism is on.
        jit = getattr(self.config.train, "jit_compile", "auto") is True
        set_seed(self.config.seed, deterministic=not jit)
        setting = getattr(self.config.train, "mixed_precision", "float32")
        self.dtype_policy = resolve_mixed_precision(setting, self.strategy)
        try:
            with dtype_policy(self.dtype_policy):
                return self._run_steps()
        except RunInterrupted:
            raise
        except KeyboardInterrupt:
            # Say where to resume once the run directory holds a config.
            started = self.run_dir is not None and (
                (self.run_dir / "config.yaml").is_file()
            )
            if not started or not is_chief(self.strategy):
                raise
            raise RunInterrupted(self.run_dir) from None

    def _run_steps(self):
        steps = self.timings.setdefault("step_seconds", {})
        clock = time.perf_counter()
        data = self.build_data()
        steps["build_data"] = round(time.perf_counter() - clock, 4)
        if is_multi_worker(self.strategy):
            data.train = shard_by_data(data.train)
            data.validation = shard_by_data(data.validation)
        with self.strategy.scope():
            model = self.build_model(data)
            if self.dtype_policy != "float32":
                keep_outputs_float32(model)
            if self.strategy.num_replicas_in_sync > 1:
                synchronize_batch_norm(model)
            self.compile(model, data)
        # The run directory is made only once the data and model are known to
        # be usable, so a bad folder or size leaves nothing behind.
        chief = is_chief(self.strategy)
        self.run_dir = self.prepare_run_dir() if chief else self.worker_dir()
        print(f"run directory: {self.run_dir}", flush=True)
        config_lib.save_config(self.config, self.run_dir / "config.yaml")
        self.record_run(model)
        if data.skipped_files is not None:
            data.skipped_files.report(self.run_dir)
        finished, initial_epoch = self.restore_history() if self.resume else ({}, 0)
        callbacks = self.build_callbacks(data, finished)
        clock = time.perf_counter()
        fitted = self.fit(model, data, callbacks, initial_epoch=initial_epoch)
        steps["fit"] = round(time.perf_counter() - clock, 4)
        history = read_history(self.run_dir / "history.csv") or dict(
            getattr(fitted, "history", None) or {}
        )
        self.check_finite(history)
        if is_multi_worker(self.strategy):
            print(f"weights sha256: {weights_digest(model)}", flush=True)
            # Keras's evaluate and predict share fit's multi-worker failure
            # (see multi_worker.py); every worker evaluates its own copy.
            model = local_copy(model, self.run_dir / ".local_copy.keras")
        clock = time.perf_counter()
        evaluation = self.evaluate(model, data)
        steps["evaluate"] = round(time.perf_counter() - clock, 4)
        metrics = evaluation.metrics
        write_json_atomic(self.run_dir / "metrics.json", metrics)
        write_json_atomic(self.run_dir / "timings.json", self.timings)
        for name, step in (
            ("export", lambda: self.export(model, data, evaluation)),
            ("figures", lambda: self.figures(model, data, history, evaluation)),
        ):
            clock = time.perf_counter()
            step()
            steps[name] = round(time.perf_counter() - clock, 4)
        write_json_atomic(self.run_dir / "timings.json", self.timings)
        if not chief:
            shutil.rmtree(self.run_dir, ignore_errors=True)
        return RunResult(self.run_dir, history, metrics, self.config, self.timings)

    def run_info(self, model):
        """Returns what `run.json` records: the class that ran, every automatic choice.

        Args:
            model: The compiled model.

        Returns:
            A `dict` with `recipe`, `class` (`module:qualname`, so that the
            run's `config.yaml` rebuilds this class), `resolved` (the dtype
            policy `train.mixed_precision` gave, the devices, the strategy,
            whether the train step is XLA-compiled, the fit verbosity),
            `versions` and `started` (UTC).
        """
        cls = type(self)
        module = sys.modules.get(cls.__module__)
        train = self.config.train
        distribute = getattr(self.config, "distribute", None)
        return {
            "recipe": self.config.recipe,
            "class": class_path(cls),
            "class_file": getattr(module, "__file__", None),
            "resolved": {
                "mixed_precision": self.dtype_policy,
                "devices": self.strategy.num_replicas_in_sync,
                "strategy": getattr(distribute, "strategy", "none"),
                "jit_compile": bool(getattr(model, "jit_compile", False)),
                "verbose": fit_verbosity(getattr(train, "verbose", "auto")),
            },
            "versions": versions(),
            "started": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds"
            ),
        }

    def record_run(self, model):
        """Writes `run.json` and prints the choices it records.

        Args:
            model: The compiled model.

        Returns:
            The `dict` written.
        """
        info = self.run_info(model)
        write_json_atomic(self.run_dir / RUN_INFO, info)
        resolved = info["resolved"]
        setting = getattr(self.config.train, "mixed_precision", "float32")
        print(f"recipe: {info['recipe']} ({info['class']})")
        for note in getattr(self.config, "implied_settings", ()):
            print(note)
        print(
            f"precision: {resolved['mixed_precision']} (train.mixed_precision: "
            f"{setting}); devices: {resolved['devices']} (distribute.strategy: "
            f"{resolved['strategy']}); jit_compile: "
            f"{str(resolved['jit_compile']).lower()}"
        )
        print(
            "versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()),
            flush=True,
        )
        return info

    def worker_dir(self):
        """Returns the temporary folder a non-chief worker writes into.

        It depends only on the run's place and the task, so a resumed worker
        finds its backup again; it is removed when the run finishes.
        """
        place = str((self.run_dir or self.runs_root / self.name).resolve())
        key = hashlib.sha256(place.encode()).hexdigest()[:16]
        folder = (
            Path(tempfile.gettempdir())
            / "keras_recipes_workers"
            / f"{task_name(self.strategy)}-{key}"
        )
        if not self.resume:
            shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def restore_history(self):
        """Cuts `history.csv` back to the epochs the backup holds.

        An epoch's row is written just before its backup, so after a kill the
        file may hold one epoch more than the backup; that epoch runs again.

        Returns:
            A `(history, finished)` tuple: the finished epochs' history
            (metric name to values) and their number.
        """
        pointer = read_backup_pointer(self.run_dir / "backup")
        finished = pointer["epoch"] if pointer else 0
        path = self.run_dir / "history.csv"
        if path.is_file():
            lines = path.read_text().splitlines(keepends=True)
            write_text_atomic(path, "".join(lines[: 1 + finished]))
        print(f"resuming after {finished} finished epochs", flush=True)
        return read_history(path), finished

    def check_finite(self, history):
        """Stops with one clear line when the training loss became NaN."""
        losses = history.get("loss", [])
        if losses and not all(math.isfinite(value) for value in losses):
            raise UserError(
                f"training loss became NaN or infinite at epoch {len(losses)}; "
                f"lower optimizer.learning_rate (now "
                f"{self.config.optimizer.learning_rate}) or set optimizer.clipnorm"
                f" (the best checkpoint so far is in {self.run_dir / 'checkpoints'})"
            )

    def prepare_run_dir(self):
        """Creates (or, on resume, finds) the run directory and returns it."""
        if self.resume:
            run_dir = self.run_dir or latest_unfinished_run(self.runs_root, self.name)
            if not (run_dir / "config.yaml").is_file():
                raise UserError(
                    f"cannot resume: {run_dir} has no config.yaml; "
                    f"give the run directory of an interrupted run with --run-dir"
                )
            return run_dir
        if self.run_dir is not None:
            if self.run_dir.exists() and any(self.run_dir.iterdir()):
                raise UserError(
                    f"run directory {self.run_dir} is not empty; choose a new "
                    f"--run-dir or add --resume to continue that run"
                )
            self.run_dir.mkdir(parents=True, exist_ok=True)
            return self.run_dir
        parent = self.runs_root / self.name
        parent.mkdir(parents=True, exist_ok=True)
        stamp = _timestamp()
        for attempt in range(1000):
            candidate = parent / (stamp if attempt == 0 else f"{stamp}-{attempt}")
            try:
                candidate.mkdir()
            except FileExistsError:
                continue
            return candidate
        raise UserError(f"could not create a new run directory under {parent}")

    def figure_path(self, filename):
        """Returns `figures/<filename>` in the run directory, creating the folder."""
        folder = self.run_dir / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / filename


def load_model_safely(path):
    """Loads a `.keras` model with Keras's `safe_mode` on, as it always is here.

    A model that would run arbitrary Python code when loaded (a `Lambda`
    layer holding a Python function) is refused with one line.

    Args:
        path: The `.keras` file.

    Returns:
        The `keras.Model`.

    Example:

    ```python
    model = load_model_safely("runs/small_data_classifier/x/model.keras")
    ```
    """
    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except ValueError as error:
        if "safe_mode" not in str(error):
            raise
        raise UserError(
            f"refusing to load {path}: it holds Python code that would run on "
            f"loading (e.g. a Lambda layer); this package keeps Keras's safe_mode on"
        ) from None
    return restore_compile(model, path)


def latest_unfinished_run(runs_root, name):
    """Returns the newest run directory of a recipe that has no `metrics.json`.

    Args:
        runs_root: Parent of the recipes' run folders, usually `runs`.
        name: The recipe name.

    Returns:
        The run directory's `Path`.

    Example:

    ```python
    latest_unfinished_run("runs", "small_data_classifier")
    ```
    """
    parent = Path(runs_root) / name
    runs = sorted(parent.glob("*/config.yaml")) if parent.is_dir() else []
    unfinished = [p.parent for p in runs if not (p.parent / "metrics.json").exists()]
    if not unfinished:
        raise UserError(
            f"no unfinished run of '{name}' under {parent} to resume; "
            f"name one with --run-dir"
        )
    return unfinished[-1]
