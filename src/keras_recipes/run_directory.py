"""`RunDirectory`: where a recipe's run writes, and what it records there."""

import datetime
import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

from keras_recipes.callbacks import read_backup_pointer
from keras_recipes.distribution import task_name
from keras_recipes.errors import UserError
from keras_recipes.run_files import (
    RUN_INFO,
    class_path,
    fit_verbosity,
    latest_unfinished_run,
    read_history,
    timestamp,
    versions,
)
from keras_recipes.saving import write_json_atomic, write_text_atomic


class RunDirectory:
    """The run-directory side of `Recipe`: making it, resuming it, recording.

    A mixin of `Recipe`; it reads the recipe's `config`, `name`, `run_dir`,
    `runs_root`, `resume`, `strategy` and `dtype_policy`.

    Example:

    ```python
    recipe.run_dir = recipe.prepare_run_dir()
    recipe.record_run(model)
    ```
    """

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
        stamp = timestamp()
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
