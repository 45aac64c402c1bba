"""The parts `transfer_digits` runs: the pretraining, then three stages a draw."""

from keras_recipes.config import resolve, to_dict
from keras_recipes.recipes.transfer_digits.config import GlyphPretrainingConfig
from keras_recipes.recipes.vgg16_bottleneck.config import VGG16BottleneckConfig
from keras_recipes.recipes.vgg16_fine_tune.config import VGG16FineTuneConfig

# The stages in the order they are reported; `RUN_ORDER` is the order they
# run in, since fine-tuning starts from the bottleneck stage's top.
STAGES = ("scratch", "bottleneck", "fine_tune")
RUN_ORDER = ("bottleneck", "fine_tune", "scratch")


def pretraining_config(config):
    """Returns the `glyph_pretraining` config of a `transfer_digits` config.

    Its `glyphs`, `model`, `optimizer`, `train` and `callbacks` sections,
    at the image size of the digits.

    Args:
        config: A `TransferDigitsConfig`.

    Returns:
        The resolved `GlyphPretrainingConfig`.

    Example:

    ```python
    pretraining_config(load_config("transfer_digits")).train.epochs  # 15
    ```
    """
    glyphs = {**to_dict(config.glyphs), "image_size": list(config.data.image_size)}
    overrides = {
        "seed": config.seed,
        "data": glyphs,
        **{
            name: to_dict(getattr(config, name))
            for name in (
                "model",
                "optimizer",
                "train",
                "callbacks",
                "export",
                "distribute",
            )
        },
    }
    return resolve(GlyphPretrainingConfig, overrides=overrides)


def stage_config(config, stage, base_file, draw, top_run, feature_cache):
    """Returns the config of one stage run of one draw of the labelled digits.

    Every stage of a draw has the seed `seed + draw`, so the same few
    labelled digits, validation digits and test digits, the same epoch
    budget and early stopping; the stages differ only in their optimizer
    and in what they start from.

    Args:
        config: A `TransferDigitsConfig`.
        stage: `"scratch"`, `"bottleneck"` or `"fine_tune"`.
        base_file: The pretrained base, `pretrained_base.keras`.
        draw: The draw's index, from 0.
        top_run: The draw's `bottleneck` run directory, whose top
            `fine_tune` starts from.
        feature_cache: The folder of the bottleneck features' cache.

    Returns:
        The resolved `VGG16BottleneckConfig` (`bottleneck`) or
        `VGG16FineTuneConfig` (`fine_tune`, `scratch`).

    Example:

    ```python
    stage_config(config, "scratch", "pretrained_base.keras", 0, "b", "cache")
    ```
    """
    data, stages, model = config.data, config.stages, config.model
    overrides = {
        "seed": config.seed + draw,
        "approach": stages.approach,
        "data.source": "digits",
        "data.image_size": list(data.image_size),
        "data.color_mode": "grayscale",
        "data.labels_per_class": data.labels_per_class,
        "data.validation_per_class": data.validation_per_class,
        "base.name": str(base_file),
        "base.weights": "saved",
        "base.preprocessing": "none",
        "cache.directory": str(feature_cache),
        "model.units": model.units,
        "model.dropout": model.dropout,
        "train.epochs": stages.epochs,
        "train.batch_size": stages.batch_size,
        "train.verbose": stages.verbose,
        "train.mixed_precision": config.train.mixed_precision,
        "train.jit_compile": config.train.jit_compile,
        "train.steps_per_execution": config.train.steps_per_execution,
        "distribute": to_dict(config.distribute),
        "callbacks.early_stopping.patience": stages.patience,
        "callbacks.model_checkpoint.enabled": False,
        "callbacks.tensorboard.enabled": False,
        "callbacks.backup_and_restore.enabled": False,
    }
    if stage == "bottleneck":
        overrides["optimizer"] = to_dict(stages.bottleneck_optimizer)
        return resolve(VGG16BottleneckConfig, overrides=overrides)
    overrides["data.augmentation"] = to_dict(data.augmentation)
    if stage == "fine_tune":
        overrides["optimizer"] = to_dict(stages.fine_tune_optimizer)
        overrides["fine_tune.top_run"] = str(top_run)
    else:
        overrides["optimizer"] = to_dict(stages.scratch_optimizer)
        overrides["base.weights"] = None  # the same network, random weights
        overrides["fine_tune.train_top_first"] = False
        overrides["fine_tune.trainable_from"] = 0
    return resolve(VGG16FineTuneConfig, overrides=overrides)
