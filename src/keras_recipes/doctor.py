"""The training doctor: reads a run and says, with numbers, what went wrong.

`python -m keras_recipes diagnose RUN_DIR` compares the training and
validation curves of `history.csv` (the gap between them and where each was
heading), checks where training stopped against the best epoch, sets the
parameter count against the training-set size, reads the dead-ReLU log, and
names the remedies for what it finds.
"""

import dataclasses
import math
from pathlib import Path

import numpy as np

from keras_recipes.api import load_config
from keras_recipes.errors import UserError
from keras_recipes.monitors import DEAD_RELU_FILE, read_dead_relu
from keras_recipes.run_files import read_history

# A rise of the validation loss this far over its minimum, while the training
# loss keeps falling, is over-fitting.
RISE = 0.10
# Train and validation accuracy this many points apart is over-fitting; for
# models without accuracy, a validation loss this many times the training loss.
ACCURACY_GAP = 0.05
LOSS_RATIO = 1.5
# Validation loss within this fraction of the training loss ("about equal")
# while the training accuracy is below FITS_TRAINING is under-fitting.
LOSS_CLOSE = 0.10
FITS_TRAINING = 0.97
# Still falling by this fraction per epoch at the end: stopped too early.
STILL_FALLING = 0.01
# Training loss ending this far above its lowest: the steps are too large.
UNSTABLE = 0.25
# A layer with this fraction of dead ReLU units is reported as a problem.
DEAD_RELU = 0.40

EARLY_STOPPING = (
    "early stopping (callbacks.early_stopping.enabled=true, patience about 10) "
    "with restore_best_weights=true"
)
LOWER_LEARNING_RATE = "a lower learning rate (optimizer.learning_rate, 3-10x lower)"
REMEDIES = {
    "over-fitting": [
        "more dropout (model.dropout) or an L2 penalty (model.l2)",
        "a smaller net (fewer units or layers)",
        "more training data, or data augmentation",
        EARLY_STOPPING,
    ],
    "under-fitting": [
        "a larger net (more units or layers)",
        "less regularisation (lower model.dropout, model.l2)",
        "train longer (train.epochs), or a higher learning rate",
    ],
    "stopped too early": [
        "train longer (raise train.epochs, or callbacks.early_stopping.patience)",
    ],
    "stopped too late": [EARLY_STOPPING],
    "unstable": [
        LOWER_LEARNING_RATE,
        "learning-rate decay (optimizer.schedule.name=exponential or cosine)",
        "gradient clipping (optimizer.clipnorm)",
    ],
    "dead relu": [
        LOWER_LEARNING_RATE,
        "He initialisation (model.kernel_initializer=he_normal)",
    ],
}


@dataclasses.dataclass
class Finding:
    """One observation of the doctor.

    Attributes:
        kind: `"over-fitting"`, `"under-fitting"`, `"stopped too early"`,
            `"stopped too late"`, `"unstable"`, `"dead relu"` or `"note"`.
        message: What was seen, with the numbers.
    """

    kind: str
    message: str


@dataclasses.dataclass
class Diagnosis:
    """What `diagnose` finds in a run.

    Attributes:
        verdict: `"over-fitting"`, `"under-fitting"`, `"healthy"`, or
            `"diverged"` when the loss became NaN or infinite.
        findings: The `Finding`s, most important first.
        facts: The numbers behind them (epochs, best epoch, losses, sizes).
    """

    verdict: str
    findings: list
    facts: dict

    def remedies(self):
        """Returns the remedies for the problems found, without repeats."""
        seen = []
        kinds = [finding.kind for finding in self.findings]
        if "dead relu" in kinds:
            # Dead units explain the poor fit; a larger net would not help.
            kinds = ["dead relu", *(k for k in kinds if k != "under-fitting")]
        for kind in kinds:
            for remedy in REMEDIES.get(kind, []):
                if remedy == EARLY_STOPPING and self.facts.get("restores_best_weights"):
                    continue  # already on
                if remedy not in seen:
                    seen.append(remedy)
        return seen

    def report(self):
        """Returns the diagnosis as text for people."""
        lines = [f"verdict: {self.verdict.upper()}"]
        lines += [f"- {finding.message}" for finding in self.findings]
        remedies = self.remedies()
        if remedies:
            lines.append("remedies:")
            lines += [f"- {remedy}" for remedy in remedies]
        return "\n".join(lines)


def _percent(value):
    return f"{100 * value:.0f}%"


def _still_falling(val_loss):
    """Returns `(fall per epoch, start, end, epochs)` if val loss still falls.

    That is: the last epoch is the best and the loss fell at least
    `STILL_FALLING` per epoch over the last (up to) three epochs.
    """
    count = len(val_loss)
    window = min(3, count - 1)
    if window < 1 or int(np.argmin(val_loss)) != count - 1:
        return None
    start, end = val_loss[count - 1 - window], val_loss[-1]
    per_epoch = 1 - (end / start) ** (1 / window) if start > 0 else 0.0
    return (per_epoch, start, end, window) if per_epoch >= STILL_FALLING else None


def _rise(history, kept):
    """Returns a finding when validation loss rose while training loss fell."""
    loss, val_loss = history["loss"], history["val_loss"]
    best = int(np.argmin(val_loss))
    last = len(loss) - 1
    rise = val_loss[last] / val_loss[best] - 1 if val_loss[best] > 0 else 0.0
    fall = 1 - loss[last] / loss[best] if loss[best] > 0 else 0.0
    if rise < RISE or fall <= 0:
        return []
    message = (
        f"validation loss rose {_percent(rise)} over its minimum (epoch "
        f"{best + 1}: {val_loss[best]:.4f} -> epoch {last + 1}: "
        f"{val_loss[last]:.4f}) while training loss fell {_percent(fall)} "
        f"({loss[best]:.4f} -> {loss[last]:.4f}): over-fitting"
    )
    if kept == best:
        # The saved model predates the rise; its own gap decides the verdict.
        message += f" after epoch {best + 1}, whose weights early stopping kept"
        return [Finding("note", message)]
    return [Finding("over-fitting", message)]


def _gap(fit, kept, falling=None):
    """Returns the over- or under-fitting finding from the kept epoch's numbers."""
    at = f"at epoch {kept + 1}"
    loss, val_loss = fit["loss"], fit["val_loss"]
    accuracy, val_accuracy = fit.get("accuracy"), fit.get("val_accuracy")
    wide = None
    if accuracy is not None and val_accuracy is not None:
        gap = accuracy - val_accuracy
        if gap >= ACCURACY_GAP:
            wide = (
                f"{at} training accuracy is {accuracy:.1%} but validation "
                f"accuracy {val_accuracy:.1%}: a gap of {100 * gap:.1f} points "
                f"(over-fitting above {100 * ACCURACY_GAP:.0f})"
            )
    elif loss > 0 and val_loss / loss >= LOSS_RATIO:
        wide = (
            f"{at} validation loss {val_loss:.4f} is {val_loss / loss:.1f}x the "
            f"training loss {loss:.4f} (over-fitting above {LOSS_RATIO}x)"
        )
    if wide and falling:
        # Still generalising better every epoch: the gap is not yet a problem.
        return Finding(
            "note",
            f"{wide}, but the validation loss is still falling "
            f"{_percent(falling[0])} per epoch: not over-fitting yet",
        )
    if wide:
        return Finding("over-fitting", wide)
    closeness = (val_loss - loss) / loss if loss > 0 else 0.0
    fits = accuracy is not None and accuracy >= FITS_TRAINING
    if closeness <= LOSS_CLOSE and not fits:
        detail = "" if accuracy is None else f" and training accuracy is {accuracy:.1%}"
        return Finding(
            "under-fitting",
            f"{at} training loss {loss:.4f} and validation loss {val_loss:.4f} are "
            f"about equal ({closeness:+.0%}){detail}: the model does not fit even "
            f"its training data: under-fitting",
        )
    if accuracy is not None and val_accuracy is not None:
        how = (
            f"training accuracy {accuracy:.1%} vs validation {val_accuracy:.1%} "
            f"(a gap of {100 * (accuracy - val_accuracy):.1f} points, under "
            f"{100 * ACCURACY_GAP:.0f})"
        )
    else:
        how = (
            f"validation loss {val_loss:.4f} is {val_loss / loss:.2f}x the "
            f"training loss {loss:.4f} (under {LOSS_RATIO}x)"
        )
    return Finding(
        "note",
        f"{at} {how}: a small gap, so neither over-fitting (a large gap) nor "
        f"under-fitting (no gap, training data not fit): healthy",
    )


def _stopping(history, kept, early_stopping, epochs_configured):
    loss, val_loss = history["loss"], history["val_loss"]
    findings = []
    count = len(val_loss)
    best = int(np.argmin(val_loss))
    falling = _still_falling(val_loss)
    if falling:
        per_epoch, start, end, window = falling
        of = f" of {epochs_configured}" if epochs_configured else ""
        findings.append(
            Finding(
                "stopped too early",
                f"validation loss was still falling {_percent(per_epoch)} per "
                f"epoch over the last {window} epochs ({start:.4f} -> {end:.4f}) "
                f"when training ended after {count}{of} epochs: it stopped too "
                f"early",
            )
        )
    idle = count - 1 - best
    stops = early_stopping is not None and early_stopping.get("enabled")
    if not stops and idle >= max(5, 0.2 * count):
        findings.append(
            Finding(
                "stopped too late",
                f"the best validation loss was at epoch {best + 1} of {count}; the "
                f"last {idle} epochs did not improve it and the saved model is "
                f"the last epoch's: it stopped too late",
            )
        )
    elif stops and not early_stopping.get("restore_best_weights") and idle >= 3:
        findings.append(
            Finding(
                "stopped too late",
                f"early stopping ended {idle} epochs after the best one (epoch "
                f"{best + 1}) without restore_best_weights, so the saved model "
                f"is the last epoch's",
            )
        )
    lowest = int(np.argmin(loss))
    if len(loss) >= 3 and loss[-1] >= (1 + UNSTABLE) * loss[lowest]:
        worst = max(range(1, len(loss)), key=lambda i: loss[i] / loss[i - 1])
        findings.append(
            Finding(
                "unstable",
                f"training loss ended {_percent(loss[-1] / loss[lowest] - 1)} above "
                f"its lowest ({loss[lowest]:.4f} at epoch {lowest + 1} -> "
                f"{loss[-1]:.4f}; worst jump +"
                f"{_percent(loss[worst] / loss[worst - 1] - 1)} at epoch "
                f"{worst + 1}): the learning rate is probably too high",
            )
        )
    return findings


def _diverged(history, epoch, epochs_configured):
    """Diagnoses a run whose loss became NaN or infinite at `epoch` (from 0)."""
    message = (
        f"the loss became {history['loss'][epoch]} at epoch {epoch + 1}: the "
        f"updates were so large that the weights overflowed (diverged)"
    )
    findings = [Finding("unstable", message)]
    if epoch >= 2:
        finite = {name: values[:epoch] for name, values in history.items()}
        earlier = diagnose_history(finite, None, epochs_configured)
        findings.append(
            Finding("note", f"before that, over {epoch} epochs: {earlier.verdict}")
        )
    return Diagnosis("diverged", findings, {"epochs": len(history["loss"])})


def diagnose_history(
    history, early_stopping=None, epochs_configured=None, train_scores=None
):
    """Diagnoses over- and under-fitting and the stopping point from curves.

    Args:
        history: Metric name to per-epoch values, with `loss` and `val_loss`
            (and `accuracy`, `val_accuracy` when the model has them).
        early_stopping: The run's `callbacks.early_stopping` config as a
            `dict`, or `None` if it had none. Defaults to `None`.
        epochs_configured: The run's `train.epochs`, or `None`.
            Defaults to `None`.
        train_scores: The kept model's `loss` (and `accuracy`) on the
            training data, measured again with dropout off; they replace the
            history's training values at the kept epoch, which dropout makes
            look worse. Defaults to `None`.

    Returns:
        A `Diagnosis`.

    Example:

    ```python
    diagnosis = diagnose_history({"loss": [1.0, 0.5, 0.2, 0.1],
                                  "val_loss": [1.0, 0.6, 0.7, 0.9]})
    diagnosis.verdict  # "over-fitting"
    ```
    """
    if not history.get("loss"):
        raise UserError("the history has no training loss to diagnose")
    if not history.get("val_loss"):
        raise UserError(
            "the history has no val_loss: without validation data the doctor "
            "cannot tell over- from under-fitting (set train.validation_split)"
        )
    history = {k: [float(v) for v in values] for k, values in history.items() if values}
    finite = [
        math.isfinite(a) and math.isfinite(b)
        for a, b in zip(history["loss"], history["val_loss"], strict=False)
    ]
    if not all(finite):
        return _diverged(history, finite.index(False), epochs_configured)
    val_loss = history["val_loss"]
    best = int(np.nanargmin(val_loss))
    restores = bool(
        early_stopping
        and early_stopping.get("enabled")
        and early_stopping.get("restore_best_weights")
        and early_stopping.get("monitor", "val_loss") == "val_loss"
    )
    kept = best if restores else len(val_loss) - 1
    fit = {
        name: history[name][kept]
        for name in ("loss", "val_loss", "accuracy", "val_accuracy")
        if name in history
    }
    notes = []
    if train_scores:
        remeasured = {k: float(v) for k, v in train_scores.items() if k in fit}
        during = ", ".join(f"{k} {fit[k]:.4f}" for k in remeasured)
        again = ", ".join(f"{k} {v:.4f}" for k, v in remeasured.items())
        notes.append(
            Finding(
                "note",
                f"measured again on the training data, the saved model (epoch "
                f"{kept + 1}) scores {again}; the history's running average over "
                f"that epoch, with dropout on if the model has it, was {during}; "
                f"the gap above uses the former",
            )
        )
        fit.update(remeasured)
    falling = _still_falling(val_loss)
    rise, gap = _rise(history, kept), _gap(fit, kept, falling)
    kinds = {finding.kind for finding in [*rise, gap]}
    verdict = (
        "over-fitting"
        if "over-fitting" in kinds
        else "under-fitting"
        if "under-fitting" in kinds
        else "healthy"
    )
    rising = any(finding.kind == "over-fitting" for finding in rise)
    ordered = [*rise, gap] if rising else [gap, *rise]
    findings = [
        *ordered,
        *notes,
        *_stopping(history, kept, early_stopping, epochs_configured),
    ]
    facts = {
        "epochs": len(val_loss),
        "best_epoch": best + 1,
        "kept_epoch": kept + 1,
        "val_loss_rise": val_loss[-1] / val_loss[best] - 1,
        "restores_best_weights": restores,
        **fit,
    }
    return Diagnosis(verdict, findings, facts)


def capacity_finding(parameters, examples, verdict):
    """Sets the parameter count against the number of training examples.

    Args:
        parameters: The model's parameter count.
        examples: Training examples (characters for a character model).
        verdict: The fitting verdict, which decides the advice.

    Returns:
        A `Finding`.

    Example:

    ```python
    capacity_finding(80_000, 100, "over-fitting").message
    ```
    """
    ratio = parameters / max(1, examples)
    message = (
        f"{parameters:,} parameters for {examples:,} training examples "
        f"({ratio:,.2f} per example)"
    )
    if ratio > 10:
        message += ": more than 10x, enough capacity to memorise the training set"
        if verdict == "over-fitting":
            message += "; a smaller net is one remedy"
    elif ratio < 0.1:
        message += ": under a tenth, a small model for this much data"
        if verdict == "under-fitting":
            message += "; a larger net is the remedy"
    else:
        message += ": within one order of magnitude, as the rule of thumb asks"
    return Finding("note", message)


def _since(epochs, fractions):
    if len(epochs) < 2:
        return ""
    return f" (from {_percent(fractions[0])} at epoch {epochs[0]})"


def dead_relu_findings(layers):
    """Reports the dead ReLU units of each layer at the last logged epoch.

    Args:
        layers: `read_dead_relu` output: layer name to `(epochs, fractions)`.

    Returns:
        A list of `Finding`s (empty without a log).

    Example:

    ```python
    dead_relu_findings({"hidden_1": ([1, 2], [0.1, 0.6])})
    ```
    """
    findings = []
    for name, (epochs, fractions) in layers.items():
        if fractions[-1] >= DEAD_RELU:
            findings.append(
                Finding(
                    "dead relu",
                    f"{name}: {_percent(fractions[-1])} of its ReLU units are dead "
                    f"at epoch {epochs[-1]}{_since(epochs, fractions)}: they output "
                    f"zero for every probe example",
                )
            )
    if layers and not findings:
        name = max(layers, key=lambda n: layers[n][1][-1])
        findings.append(
            Finding(
                "note",
                f"dead ReLU units: at most {_percent(layers[name][1][-1])} in any "
                f"layer ({name}) at the last epoch",
            )
        )
    return findings


def _remeasure(run_dir, config):
    """Returns the saved model's size, training-set size and training scores.

    The scores are the saved model's loss and metrics on one pass over the
    training data in inference mode; `None` when the run has no model.
    """
    import keras

    from keras_recipes.catalog import get_recipe
    from keras_recipes.saving import restore_compile
    from keras_recipes.seeding import set_seed

    path = run_dir / "model.keras"
    if not path.is_file():
        return None, None, None
    recipe = get_recipe(config.recipe)(config, run_dir=run_dir)
    model = recipe.model_from_portable(
        restore_compile(keras.saving.load_model(path), path)
    )
    set_seed(config.seed)
    try:
        data = recipe.build_data()
    except UserError as error:  # e.g. the data folder has moved
        print(f"note: the training data could not be loaded ({error})")
        return model.count_params(), None, None
    batches = data.train.take(data.steps_per_epoch)
    examples = getattr(data, "train_size", None)
    if examples is None:
        examples = sum(int(batch[0].shape[0]) for batch in batches)
    scores = None
    if model.compiled:
        scores = model.evaluate(batches, return_dict=True, verbose=0)
    return model.count_params(), int(examples), scores


def diagnose(run_dir):
    """Diagnoses a finished (or interrupted) run from its directory.

    The saved model is also scored again on the training data with dropout
    off, so that dropout does not hide how well it fits them.

    Args:
        run_dir: A run directory with `config.yaml` and `history.csv`.

    Returns:
        A `Diagnosis` whose findings include the parameter count against the
        training-set size and, when the run logged them, dead ReLU units.

    Example:

    ```python
    print(diagnose("runs/mlp/20260101-000000").report())
    ```
    """
    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file():
        raise UserError(f"not a run directory (no config.yaml): {run_dir}")
    history = read_history(run_dir / "history.csv")
    if not history:
        raise UserError(
            f"{run_dir} has no history.csv (callbacks.csv_logger was off or the "
            f"run did not finish an epoch); the doctor needs the curves"
        )
    config = load_config(run_dir / "config.yaml")
    parameters, examples, scores = _remeasure(run_dir, config)
    diagnosis = diagnose_history(
        history,
        dataclasses.asdict(config.callbacks.early_stopping),
        config.train.epochs,
        train_scores=scores,
    )
    if examples is not None:
        diagnosis.facts.update(parameters=parameters, train_examples=examples)
        diagnosis.findings.append(
            capacity_finding(parameters, examples, diagnosis.verdict)
        )
    diagnosis.findings += dead_relu_findings(read_dead_relu(run_dir / DEAD_RELU_FILE))
    return diagnosis
