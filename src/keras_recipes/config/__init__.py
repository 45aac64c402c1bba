"""Typed config trees: the shared sections and the engine that resolves them.

`engine` reads, merges, checks and saves config trees; `schema` holds the
sections every recipe shares. Neither imports TensorFlow, so a bad config
fails fast and a recipe's config can be shown without starting TensorFlow.
"""

from keras_recipes.config.engine import (
    check_keys,
    param,
    parse_override,
    read_yaml,
    resolve,
    save_config,
    section,
    to_dict,
)
from keras_recipes.config.schema import (
    CallbacksConfig,
    CSVLoggerConfig,
    DistributeConfig,
    EarlyStoppingConfig,
    ExportConfig,
    ImageCacheConfig,
    ModelCheckpointConfig,
    OptimizerConfig,
    RecipeConfig,
    ReduceLROnPlateauConfig,
    ScheduleConfig,
    SwitchConfig,
    TensorBoardConfig,
    TrainConfig,
)

__all__ = [
    "CSVLoggerConfig",
    "CallbacksConfig",
    "DistributeConfig",
    "EarlyStoppingConfig",
    "ExportConfig",
    "ImageCacheConfig",
    "ModelCheckpointConfig",
    "OptimizerConfig",
    "RecipeConfig",
    "ReduceLROnPlateauConfig",
    "ScheduleConfig",
    "SwitchConfig",
    "TensorBoardConfig",
    "TrainConfig",
    "check_keys",
    "param",
    "parse_override",
    "read_yaml",
    "resolve",
    "save_config",
    "section",
    "to_dict",
]
