"""What a recipe's steps hand on: `Datasets`, `Evaluation`, and `RunResult`."""

import dataclasses
from pathlib import Path


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
