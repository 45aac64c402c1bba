"""Model selection: K-fold cross-validation, ensembles, test-time augmentation."""

import dataclasses
import datetime
from pathlib import Path

import keras
import numpy as np

from keras_recipes.api import load_config, load_run
from keras_recipes.catalog import get_recipe
from keras_recipes.config import to_dict
from keras_recipes.data.folds import validation_fold
from keras_recipes.errors import UserError
from keras_recipes.saving import write_json_atomic
from keras_recipes.seeding import set_seed


@dataclasses.dataclass
class CrossValidation:
    """What `cross_validate` returns.

    Attributes:
        parent: The folder that holds one run directory per fold.
        run_dirs: The fold run directories, in fold order.
        scores: Metric name to its value in each fold: the validation
            metrics of the fold's held-out part (`val_*`) and the run's own
            `metrics.json` values (`test_*` on the common test set).
    """

    parent: Path
    run_dirs: list
    scores: dict

    def mean(self, name):
        """Returns the mean of metric `name` over the folds."""
        return float(np.mean(self.scores[name]))

    def std(self, name):
        """Returns the sample standard deviation (n - 1) of metric `name`."""
        return float(np.std(self.scores[name], ddof=1))

    def summary(self):
        """Returns `{name: {"mean", "std", "folds"}}` for every metric."""
        return {
            name: {"mean": self.mean(name), "std": self.std(name), "folds": values}
            for name, values in self.scores.items()
        }


def _stamp():
    return datetime.datetime.now().strftime("%Y%m%d-%H%M%S")


def _numeric(metrics):
    return {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def cross_validate(name_or_path, folds=5, overrides=None, runs_root="runs"):
    """Trains a recipe K times, each holding out another fold for validation.

    The recipe's validation split (`split_validation` or `holdout_split`)
    becomes fold k of a K-fold partition of its training data, with the
    config's seed; its test set stays the same. Each fold is an ordinary run
    directory `runs/<recipe>/cv-<timestamp>/fold-<k>`; the parent also gets
    `cv.json` with every fold's metrics and their mean and standard deviation.

    Args:
        name_or_path: A recipe name or a YAML config naming its recipe.
        folds: Number of folds K, at least 2. Defaults to `5`.
        overrides: `a.b=value` strings or a mapping, as for `run`.
            Defaults to `None`.
        runs_root: Parent of the recipes' run folders. Defaults to `"runs"`.

    Returns:
        A `CrossValidation`.

    Example:

    ```python
    cv = cross_validate("mlp", folds=5, overrides={"train.epochs": 20})
    print(cv.mean("val_accuracy"), cv.std("val_accuracy"))
    ```
    """
    if folds < 2:
        raise UserError(f"--folds must be at least 2. Received: {folds}")
    config = load_config(name_or_path, overrides)
    recipe_class = get_recipe(config.recipe)
    parent = Path(runs_root) / recipe_class.name / f"cv-{_stamp()}"
    scores, run_dirs = {}, []
    for index in range(folds):
        print(f"fold {index + 1}/{folds}", flush=True)
        recipe = recipe_class(
            load_config(name_or_path, overrides),
            run_dir=parent / f"fold-{index + 1}",
        )
        held_out = {}
        with validation_fold(index, folds, seed=config.seed) as fold:
            recipe.build_data = _checked(recipe.build_data, fold, recipe.name)
            recipe.evaluate = _scoring_validation(recipe.evaluate, held_out)
            result = recipe.run()
        metrics = dict(_numeric(result.metrics))
        metrics.update({f"val_{k}": float(v) for k, v in held_out.items()})
        for name, value in metrics.items():
            scores.setdefault(name, []).append(value)
        run_dirs.append(result.run_dir)
        keras.backend.clear_session()
    scores = {k: v for k, v in scores.items() if len(v) == folds}
    outcome = CrossValidation(parent, run_dirs, scores)
    write_json_atomic(
        parent / "cv.json",
        {
            "recipe": recipe_class.name,
            "folds": folds,
            "overrides": overrides if isinstance(overrides, dict) else overrides or [],
            "run_dirs": [str(p) for p in run_dirs],
            "metrics": outcome.summary(),
        },
    )
    return outcome


def _scoring_validation(evaluate, scores):
    """Wraps a recipe's `evaluate` to also score the fold's validation split.

    The scores go into `scores`, not into the run's `metrics.json`.
    """

    def evaluate_and_score(model, data):
        if data.validation is not None:
            scores.update(model.evaluate(data.validation, return_dict=True, verbose=0))
        return evaluate(model, data)

    return evaluate_and_score


def _checked(build_data, fold, name):
    """Wraps a recipe's `build_data` to stop when it ignores the fold."""

    def build():
        data = build_data()
        if fold.uses == 0:
            raise UserError(
                f"recipe '{name}' does not split its validation data with "
                f"keras_recipes.data.split_validation, so cv cannot give it folds"
            )
        return data

    return build


def _arrays(dataset):
    inputs, targets = [], []
    for batch in dataset:
        inputs.append(keras.ops.convert_to_numpy(batch[0]))
        targets.append(keras.ops.convert_to_numpy(batch[1]))
    return np.concatenate(inputs), np.concatenate(targets)


def _probabilities(outputs):
    """Returns `outputs` as probabilities, applying softmax to logits."""
    outputs = np.asarray(outputs, dtype="float64")
    sums = outputs.sum(axis=-1)
    if outputs.min() >= 0 and np.allclose(sums, 1.0, atol=1e-3):
        return outputs
    shifted = np.exp(outputs - outputs.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def score_predictions(outputs, targets):
    """Returns the accuracy and cross-entropy, or the squared error, of outputs.

    Args:
        outputs: Class probabilities or logits `[..., classes]` (for integer
            targets `[...]`), or regression values.
        targets: Integer class labels or numeric targets.

    Returns:
        `{"accuracy", "cross_entropy"}` (cross-entropy in nats) for class
        labels, `{"mse"}` otherwise.

    Example:

    ```python
    score_predictions(np.array([[0.9, 0.1]]), np.array([0]))["accuracy"]  # 1.0
    ```
    """
    targets = np.asarray(targets)
    outputs = np.asarray(outputs)
    if np.issubdtype(targets.dtype, np.integer) and outputs.ndim == targets.ndim + 1:
        probabilities = _probabilities(outputs)
        picked = np.take_along_axis(probabilities, targets[..., None], axis=-1)
        return {
            "accuracy": float(np.mean(probabilities.argmax(-1) == targets)),
            "cross_entropy": float(-np.mean(np.log(np.maximum(picked, 1e-12)))),
        }
    error = outputs.reshape(targets.shape) - targets
    return {"mse": float(np.mean(error**2))}


def ensemble(run_dirs):
    """Averages the predictions of several runs of one recipe on its test set.

    Class outputs are averaged as probabilities (logits go through softmax
    first), regression outputs as values. The runs must share the recipe and
    the `data` config and see the same test examples; each run prepares them
    its own way (its own standardisation, for instance). The validation set
    is used when the recipe has no test set.

    Args:
        run_dirs: Two or more finished run directories.

    Returns:
        A `dict` with `members` (each run's scores), `member_mean` (their
        average), `ensemble` (the averaged predictions' scores) and `split`.

    Example:

    ```python
    report = ensemble(["runs/mlp/a", "runs/mlp/b", "runs/mlp/c"])
    report["ensemble"]["accuracy"], report["member_mean"]["accuracy"]
    ```
    """
    if len(run_dirs) < 2:
        raise UserError("ensemble needs at least two run directories")
    loaded = [load_run(path) for path in run_dirs]
    first = loaded[0][0]
    for path, (recipe, _) in zip(run_dirs, loaded, strict=True):
        if recipe.name != first.name:
            raise UserError(
                f"{path} is a '{recipe.name}' run but {run_dirs[0]} is "
                f"'{first.name}'; ensemble runs of one recipe"
            )
        if to_dict(recipe.config)["data"] != to_dict(first.config)["data"]:
            raise UserError(
                f"{path} has another data config than {run_dirs[0]}, so their "
                f"test sets may differ; ensemble runs with the same data section"
            )
    outputs, targets, split = [], None, None
    for path, (recipe, model) in zip(run_dirs, loaded, strict=True):
        # Each run prepares the test set its own way (e.g. standardised with
        # the statistics of its own training split).
        set_seed(recipe.config.seed)
        data = recipe.build_data()
        split = "test" if data.test is not None else "validation"
        dataset = data.test if data.test is not None else data.validation
        if dataset is None:
            raise UserError(f"recipe '{recipe.name}' has no test or validation data")
        inputs, labels = _arrays(dataset)
        if targets is None:
            targets = labels
        elif labels.shape != targets.shape or not np.allclose(labels, targets):
            raise UserError(
                f"{path} evaluates on other {split} examples than {run_dirs[0]}; "
                f"ensemble runs that share their {split} set"
            )
        predicted = np.asarray(model.predict(inputs, verbose=0), dtype="float64")
        classes = np.issubdtype(labels.dtype, np.integer)
        outputs.append(_probabilities(predicted) if classes else predicted)
    members = [score_predictions(output, targets) for output in outputs]
    return {
        "split": split,
        "members": [
            dict(score, run_dir=str(path))
            for score, path in zip(members, run_dirs, strict=True)
        ],
        "member_mean": {
            name: float(np.mean([score[name] for score in members]))
            for name in members[0]
        },
        "ensemble": score_predictions(np.mean(outputs, axis=0), targets),
    }


TTA_MODES = ("flip", "crop")


def tta_views(images, modes=TTA_MODES, margin=0.05):
    """Returns the test-time augmented versions of a batch of images.

    `"crop"` pads each image by `margin` of its size and takes the four
    corner crops and the centre at the original size (the multi-crop of
    AlexNet, without resizing); `"flip"` adds the mirror image of every
    view. The first view is always the image itself.

    Args:
        images: Array `[N, H, W, C]`.
        modes: A subset of `("flip", "crop")`. Defaults to both.
        margin: Crop offset as a fraction of height and width (at least one
            pixel). Defaults to `0.05`.

    Returns:
        A list of arrays shaped like `images`: 1, 2, 5 or 10 views.

    Example:

    ```python
    len(tta_views(np.zeros((4, 16, 16, 1)), ("flip", "crop")))  # 10
    ```

    Reference:
        https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks
    """
    unknown = set(modes) - set(TTA_MODES)
    if unknown:
        raise ValueError(
            f"modes must be taken from {TTA_MODES}. Received: modes={modes}"
        )
    images = np.asarray(images)
    if images.ndim != 4:
        raise UserError(
            f"test-time augmentation works on images [N, H, W, C]; this model's "
            f"inputs have shape {images.shape[1:]}"
        )
    views = [images]
    if "crop" in modes:
        height, width = images.shape[1:3]
        dy = max(1, round(margin * height))
        dx = max(1, round(margin * width))
        padded = np.pad(images, ((0, 0), (dy, dy), (dx, dx), (0, 0)))
        for top, left in ((0, 0), (0, 2 * dx), (2 * dy, 0), (2 * dy, 2 * dx)):
            views.append(padded[:, top : top + height, left : left + width])
    if "flip" in modes:
        views += [view[:, :, ::-1] for view in views]
    return views


def tta_metrics(model, data, modes=TTA_MODES, margin=0.05):
    """Scores a classifier on its test set with and without test-time augmentation.

    Args:
        model: A trained image classifier.
        data: The recipe's `Datasets`; its test set (else validation) is used.
        modes: A subset of `("flip", "crop")`. Defaults to both.
        margin: Crop offset, as in `tta_views`. Defaults to `0.05`.

    Returns:
        `{"<split>_accuracy_single", "<split>_accuracy_tta", "tta_views"}`
        (and the two cross-entropies).

    Example:

    ```python
    recipe, model = load_run("runs/small_data_classifier/x")
    tta_metrics(model, recipe.build_data(), ("crop",))
    ```
    """
    dataset = data.test if data.test is not None else data.validation
    split = "test" if data.test is not None else "val"
    if dataset is None:
        raise UserError("the recipe has no test or validation data to evaluate")
    images, labels = _arrays(dataset)
    views = tta_views(images, modes, margin)
    outputs = [_probabilities(model.predict(view, verbose=0)) for view in views]
    single = score_predictions(outputs[0], labels)
    averaged = score_predictions(np.mean(outputs, axis=0), labels)
    return {
        f"{split}_accuracy_single": single["accuracy"],
        f"{split}_accuracy_tta": averaged["accuracy"],
        f"{split}_cross_entropy_single": single["cross_entropy"],
        f"{split}_cross_entropy_tta": averaged["cross_entropy"],
        "tta_views": len(views),
    }
