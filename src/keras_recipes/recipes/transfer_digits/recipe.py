"""The `transfer_digits` recipe: runs the pretraining and the stages, compares them."""

import json
import shutil

from keras_recipes.config import save_config
from keras_recipes.errors import UserError
from keras_recipes.recipes.transfer_digits.comparison import (
    compare_stages,
    plot_accuracies,
    plot_labelled_digits,
    stage_accuracies,
)
from keras_recipes.recipes.transfer_digits.config import TransferDigitsConfig
from keras_recipes.recipes.transfer_digits.pretraining import (
    PRETRAINED_BASE_FILE,
    GlyphPretraining,
)
from keras_recipes.recipes.transfer_digits.stages import (
    RUN_ORDER,
    pretraining_config,
    stage_config,
)
from keras_recipes.recipes.vgg16_bottleneck.data import load_splits
from keras_recipes.recipes.vgg16_bottleneck.recipe import VGG16Bottleneck
from keras_recipes.recipes.vgg16_fine_tune.recipe import VGG16FineTune
from keras_recipes.run_files import read_history
from keras_recipes.saving import write_json_atomic
from keras_recipes.training import Recipe, RunResult


class TransferDigits(Recipe):
    """Pretrains on rendered letters, then compares three ways to learn few digits.

    It trains nothing itself: `run` runs other recipes, each a full run
    directory inside its own, and compares them. First `GlyphPretraining`
    in `pretraining/`, which saves the cut base as `pretrained_base.keras`;
    then, for each draw of the few labelled digits, the `bottleneck`
    (`VGG16Bottleneck`), `fine_tune` and `scratch` (`VGG16FineTune`) stages
    in `draw_<k>/<stage>/`. Its `metrics.json` holds the mean
    `scratch_accuracy`, `bottleneck_accuracy` and `fine_tune_accuracy` on
    the held-out digits.

    On resume, a finished pretraining is read back and an interrupted one
    continues from its backup; the stage runs, a few seconds each, run
    again from the start.

    Example:

    ```python
    import keras_recipes

    result = keras_recipes.run("transfer_digits")
    print(result.metrics["fine_tune_accuracy"], result.metrics["scratch_accuracy"])
    ```
    """

    name = "transfer_digits"
    config_class = TransferDigitsConfig
    quick = {
        "glyphs.samples_per_class": 10,
        "data.draws": 1,
        "train.epochs": 2,
        "model.filters": [8, 16],
        "model.units": 32,
        "stages.epochs": 3,
        "stages.patience": 2,
    }

    def build_data(self):
        """Refuses: the data are those of the runs `run` starts."""
        raise UserError(_RUNS_OTHERS)

    def build_model(self, data):
        """Refuses: the models are those of the runs `run` starts."""
        raise UserError(_RUNS_OTHERS)

    def run(self):
        """Runs the pretraining, then each draw's stages, and compares them.

        Returns:
            The `RunResult`: the comparison's metrics, and the history of
            the pretraining.
        """
        self.run_dir = self.prepare_run_dir()
        print(f"run directory: {self.run_dir}", flush=True)
        save_config(self.config, self.run_dir / "config.yaml")
        pretraining = self.run_pretraining()
        base_file = pretraining.run_dir / PRETRAINED_BASE_FILE
        draws = [
            self.run_draw(draw, base_file) for draw in range(self.config.data.draws)
        ]
        # Every stage of a draw reads the same splits: the scratch stage's.
        splits, _ = load_splits(draws[0]["scratch"].config)
        metrics = compare_stages(
            draws, pretraining, splits, self.config.data.labels_per_class
        )
        write_json_atomic(self.run_dir / "metrics.json", metrics)
        self.draw_comparison(draws, splits)
        return RunResult(
            self.run_dir, pretraining.history, metrics, self.config, self.timings
        )

    def run_pretraining(self):
        """Runs `GlyphPretraining` in `pretraining/`, or reads it back on resume.

        Returns:
            Its `RunResult`.
        """
        config = pretraining_config(self.config)
        folder = self.run_dir / "pretraining"
        if self.resume and (folder / PRETRAINED_BASE_FILE).is_file():
            print("pretraining: finished before, read back", flush=True)
            metrics = json.loads((folder / "metrics.json").read_text())
            return RunResult(
                folder, read_history(folder / "history.csv"), metrics, config
            )
        recipe = GlyphPretraining(
            config,
            run_dir=folder,
            resume=self.resume and (folder / "config.yaml").is_file(),
            runs_root=self.runs_root,
        )
        return recipe.run()

    def run_draw(self, draw, base_file):
        """Runs the three stages of one draw of the labelled digits.

        Args:
            draw: The draw's index, from 0.
            base_file: The pretrained base.

        Returns:
            `{stage: RunResult}`.
        """
        folder = self.run_dir / f"draw_{draw + 1}"
        results = {}
        for stage in RUN_ORDER:
            config = stage_config(
                self.config,
                stage,
                base_file,
                draw,
                top_run=folder / "bottleneck",
                feature_cache=self.runs_root / "feature_cache",
            )
            run_dir = folder / stage
            if self.resume:
                shutil.rmtree(run_dir, ignore_errors=True)
            recipe_class = VGG16Bottleneck if stage == "bottleneck" else VGG16FineTune
            print(f"draw {draw + 1}, stage {stage}: {run_dir}", flush=True)
            results[stage] = recipe_class(config, run_dir=run_dir).run()
            accuracy = results[stage].metrics["test_accuracy"]
            print(f"draw {draw + 1}, stage {stage}: test accuracy {accuracy:.4f}")
        return results

    def draw_comparison(self, draws, splits):
        """Draws the stages' accuracies and the first draw's labelled digits.

        Args:
            draws: One `{stage: RunResult}` per draw.
            splits: The first draw's `LabelledImages` splits.
        """
        plot_accuracies(
            stage_accuracies(draws),
            self.figure_path("transfer_accuracy.png"),
            title=f"{self.config.data.labels_per_class} labelled digits per class, "
            f"{len(splits['test'])} test digits, {len(draws)} draw(s)",
        )
        plot_labelled_digits(splits["train"], self.figure_path("labelled_digits.png"))


_RUNS_OTHERS = (
    "transfer_digits trains nothing itself: its data and models are those of "
    "the runs inside its run directory (pretraining/ and draw_<k>/<stage>/); "
    "use one of those"
)
