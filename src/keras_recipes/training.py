"""The `Recipe` base class: one data flow from config to a run directory."""

import dataclasses
import math
import shutil
import time
from pathlib import Path

from keras_recipes import config as config_lib
from keras_recipes.callbacks import InterruptCheck, best_value, build_callbacks
from keras_recipes.distribution import (
    build_strategy,
    is_chief,
    is_multi_worker,
    shard_by_data,
    synchronize_batch_norm,
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
from keras_recipes.results import Datasets, Evaluation, RunResult
from keras_recipes.run_directory import RunDirectory
from keras_recipes.run_files import fit_verbosity, read_history
from keras_recipes.saving import (
    write_json_atomic,
)
from keras_recipes.seeding import set_seed

__all__ = ["Datasets", "Evaluation", "Recipe", "RunInterrupted", "RunResult"]


class RunInterrupted(KeyboardInterrupt):
    """A `KeyboardInterrupt` during `Recipe.run`, with the run directory to resume.

    Attributes:
        run_dir: The run directory, which holds `config.yaml` and (after the
            first finished epoch) the backup `--resume` continues from.
    """

    def __init__(self, run_dir):
        super().__init__(str(run_dir))
        self.run_dir = Path(run_dir)


class Recipe(RunDirectory):
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
            callbacks: Keras callbacks; an `InterruptCheck` joins them, so
                Ctrl-C stops training. Defaults to `()`.
            initial_epoch: Epochs finished before. Defaults to `0`.

        Returns:
            The `keras.callbacks.History`.
        """
        train, steps_per_epoch = whole_epochs(
            train, steps_per_epoch, model.steps_per_execution
        )
        callbacks = [*callbacks, InterruptCheck()]
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
            callbacks=callbacks,
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
