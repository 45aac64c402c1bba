"""The `Recipe` base class: one data flow from config to a run directory."""

import csv
import dataclasses
import datetime
import hashlib
import math
import shutil
import tempfile
from pathlib import Path

import keras

from keras_recipes import config as config_lib
from keras_recipes.callbacks import build_callbacks, read_backup_pointer
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
from keras_recipes.errors import ConfigError, UserError
from keras_recipes.figures import plot_history
from keras_recipes.multi_worker import fit_multi_worker, local_copy, weights_digest
from keras_recipes.optimizers import build_optimizer
from keras_recipes.precision import (
    dtype_policy,
    keep_outputs_float32,
    resolve_mixed_precision,
)
from keras_recipes.registry import get_recipe
from keras_recipes.saving import save_model_atomic, write_json_atomic
from keras_recipes.seeding import set_seed

CONFIG_DIR = Path(__file__).parent / "configs"


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
        info: Anything else a recipe wants to keep (arrays, sizes).
    """

    train: object
    validation: object = None
    test: object = None
    steps_per_epoch: int = 1
    input_shape: tuple = ()
    class_names: list = dataclasses.field(default_factory=list)
    random_layers: list = dataclasses.field(default_factory=list)
    info: dict = dataclasses.field(default_factory=dict)


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
    """

    run_dir: Path
    history: dict
    metrics: dict
    config: object
    timings: dict = dataclasses.field(default_factory=dict)


def load_config(name_or_path, overrides=None):
    """Resolves a recipe's config from its name or a YAML file.

    A name gives the recipe's defaults merged with its shipped
    `configs/<name>.yaml`; a file must name its recipe in a `recipe:` key and
    is merged over that recipe's defaults. Overrides come last.

    Args:
        name_or_path: A registered recipe name, or the path of a YAML file
            such as a run directory's `config.yaml`.
        overrides: `a.b=value` strings or a `{"a.b": value}` mapping.
            Defaults to `None`.

    Returns:
        The validated config dataclass of the recipe.

    Example:

    ```python
    config = load_config("small_data_classifier", {"train.epochs": 3})
    ```
    """
    name_or_path = str(name_or_path)
    if name_or_path.endswith((".yaml", ".yml")) or Path(name_or_path).is_file():
        data = config_lib.read_yaml(name_or_path)
        name = data.get("recipe")
        if not name:
            raise ConfigError(
                f"{name_or_path}: no 'recipe:' key; add the recipe name, "
                f"e.g. recipe: small_data_classifier"
            )
        recipe = get_recipe(str(name))
        layers = [(name_or_path, data)]
    else:
        recipe = get_recipe(name_or_path)
        shipped = CONFIG_DIR / f"{recipe.name}.yaml"
        layers = (
            [(str(shipped), config_lib.read_yaml(shipped))] if shipped.is_file() else []
        )
    config = config_lib.resolve(recipe.config_class, layers, overrides)
    if config.recipe != recipe.name:
        raise ConfigError(
            f"config key 'recipe' is '{config.recipe}' but the config is for "
            f"'{recipe.name}'"
        )
    return config


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


class Recipe:
    """Wires data, model, compile, callbacks, fit, evaluation, export and figures.

    Subclasses set `name`, `description` and `config_class`, and implement
    `build_data` and `build_model`; every other step has a default that a
    subclass may override. `run()` calls the steps in order and writes the
    run directory:

        config.yaml  model.keras  checkpoints/  logs/  history.csv
        metrics.json  figures/*.png  backup/ (while a run is unfinished)

    Args:
        config: The resolved config, from `load_config` or the recipe's
            `config_class`. Defaults to the recipe's shipped config.
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

    def __init__(self, config=None, run_dir=None, resume=False, runs_root="runs"):
        self.config = config if config is not None else load_config(self.name)
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.resume = resume
        self.runs_root = Path(runs_root)
        self.finished_history = None
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
        """Returns the `Datasets` to train and evaluate on."""
        raise NotImplementedError(f"{type(self).__name__} must define build_data")

    def build_model(self, data):
        """Returns the uncompiled `keras.Model` for `data`."""
        raise NotImplementedError(f"{type(self).__name__} must define build_model")

    def build_loss(self):
        """Returns the loss passed to `compile`."""
        return None

    def build_metrics(self):
        """Returns the metrics passed to `compile`."""
        return []

    def compile(self, model, data):
        """Compiles `model` with the configured optimizer, loss and metrics."""
        optimizer = build_optimizer(
            self.config.optimizer, data.steps_per_epoch, self.config.train.epochs
        )
        model.compile(
            optimizer=optimizer,
            loss=self.build_loss(),
            metrics=self.build_metrics(),
            **self.compile_options(),
        )

    def compile_options(self):
        """Returns `jit_compile` and `steps_per_execution` for `compile`."""
        train = self.config.train
        return {
            "jit_compile": train.jit_compile,
            "steps_per_execution": train.steps_per_execution,
        }

    def build_callbacks(self):
        """Returns the Keras callbacks the config switches on.

        `EpochSeeding` always comes first, so every epoch's shuffling,
        augmentation and dropout depend only on the seed and the epoch, and
        a resumed run ends where an uninterrupted one would.
        """
        seeding = EpochSeeding(self.config.seed, self.epoch, self.data.random_layers)
        return [
            seeding,
            *build_callbacks(self.config.callbacks, self.run_dir, self.resume),
        ]

    def fit(self, model, data, callbacks):
        """Trains `model` and returns its Keras `History`."""
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
    ):
        """Runs `Model.fit`, or its multi-worker equivalent, on a dataset.

        Recipes that train more than one model call this for each, so every
        fit honours the `distribute` section, and every epoch of an endless
        `train` is its own (`whole_epochs`).
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
                verbose=self.config.train.verbose,
            )
        return model.fit(
            train,
            validation_data=validation,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            validation_steps=validation_steps,
            callbacks=list(callbacks),
            shuffle=False,  # the tf.data pipeline shuffles
            verbose=self.config.train.verbose,
        )

    def evaluate(self, model, data):
        """Returns test metrics (validation ones when there is no test set)."""
        dataset, prefix = (
            (data.test, "test")
            if data.test is not None
            else (
                data.validation,
                "val",
            )
        )
        if dataset is None:
            return {}
        scores = model.evaluate(dataset, return_dict=True, verbose=0)
        return {f"{prefix}_{name}": float(value) for name, value in scores.items()}

    def export(self, model, data):
        """Saves `model` as the config's `export` section asks."""
        if self.config.export.keras:
            save_model_atomic(model, self.run_dir / "model.keras")
        if self.config.export.saved_model:
            target = self.run_dir / "export" / "saved_model"
            temp = target.with_name(".saved_model.partial")
            shutil.rmtree(temp, ignore_errors=True)
            model.export(str(temp), verbose=False)
            temp.replace(target)

    def figures(self, model, data, history):
        """Draws the run's figures into `figures/`."""
        plot_history(history, self.figure_path("training_curves.png"))

    def predict(self, model, paths):
        """Returns one result row per input file, for `keras_recipes predict`."""
        raise UserError(f"recipe '{self.name}' does not support predict")

    # The driver.

    def run(self):
        """Runs every step and returns a `RunResult`.

        The steps run under the configured dtype policy, and the model is
        built and compiled in the scope of the configured distribution
        strategy. In a multi-worker cluster only the chief writes the run
        directory; the other workers write to a temporary folder.

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
        with dtype_policy(self.dtype_policy):
            return self._run_steps()

    def _run_steps(self):
        self.data = self.build_data()
        if is_multi_worker(self.strategy):
            self.data.train = shard_by_data(self.data.train)
            self.data.validation = shard_by_data(self.data.validation)
        with self.strategy.scope():
            self.model = self.build_model(self.data)
            if self.dtype_policy != "float32":
                keep_outputs_float32(self.model)
            if self.strategy.num_replicas_in_sync > 1:
                synchronize_batch_norm(self.model)
            self.compile(self.model, self.data)
        # The run directory is made only once the data and model are known to
        # be usable, so a bad folder or size leaves nothing behind.
        chief = is_chief(self.strategy)
        self.run_dir = self.prepare_run_dir() if chief else self.worker_dir()
        print(f"run directory: {self.run_dir}", flush=True)
        config_lib.save_config(self.config, self.run_dir / "config.yaml")
        self.finished_history = self.restore_history() if self.resume else None
        callbacks = self.build_callbacks()
        fit_history = self.fit(self.model, self.data, callbacks)
        history = read_history(self.run_dir / "history.csv") or dict(
            fit_history.history
        )
        self.check_finite(history)
        if is_multi_worker(self.strategy):
            print(f"weights sha256: {weights_digest(self.model)}", flush=True)
            # Keras's evaluate and predict share fit's multi-worker failure
            # (see multi_worker.py); every worker evaluates its own copy.
            self.model = local_copy(self.model, self.run_dir / ".local_copy.keras")
        metrics = self.evaluate(self.model, self.data)
        write_json_atomic(self.run_dir / "metrics.json", metrics)
        if self.timings:
            write_json_atomic(self.run_dir / "timings.json", self.timings)
        self.export(self.model, self.data)
        self.figures(self.model, self.data, history)
        if not chief:
            shutil.rmtree(self.run_dir, ignore_errors=True)
        return RunResult(self.run_dir, history, metrics, self.config, self.timings)

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
        """Cuts `history.csv` back to the epochs the backup holds; returns it.

        An epoch's row is written just before its backup, so after a kill the
        file may hold one epoch more than the backup; that epoch runs again.
        """
        pointer = read_backup_pointer(self.run_dir / "backup")
        finished = pointer["epoch"] if pointer else 0
        path = self.run_dir / "history.csv"
        if path.is_file():
            lines = path.read_text().splitlines(keepends=True)
            config_lib.write_text_atomic(path, "".join(lines[: 1 + finished]))
        print(f"resuming after {finished} finished epochs", flush=True)
        return read_history(path)

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

    @classmethod
    def from_run_dir(cls, run_dir):
        """Returns the recipe, its config and its trained model from a run.

        Args:
            run_dir: A finished run directory.

        Returns:
            A `(recipe, model)` tuple; the recipe's `run_dir` is set.

        Example:

        ```python
        recipe, model = Recipe.from_run_dir("runs/small_data_classifier/x")
        ```
        """
        run_dir = Path(run_dir)
        if not (run_dir / "config.yaml").is_file():
            raise UserError(f"not a run directory (no config.yaml): {run_dir}")
        config = load_config(run_dir / "config.yaml")
        recipe_class = get_recipe(config.recipe) if cls is Recipe else cls
        recipe = recipe_class(config, run_dir=run_dir)
        model_path = run_dir / "model.keras"
        if not model_path.is_file():
            raise UserError(
                f"{run_dir} has no model.keras (the run did not finish, "
                f"or export.keras was off)"
            )
        return recipe, load_model_safely(model_path)


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
        return keras.saving.load_model(path, safe_mode=True)
    except ValueError as error:
        if "safe_mode" not in str(error):
            raise
        raise UserError(
            f"refusing to load {path}: it holds Python code that would run on "
            f"loading (e.g. a Lambda layer); this package keeps Keras's safe_mode on"
        ) from None


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
