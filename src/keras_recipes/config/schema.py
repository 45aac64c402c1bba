"""The config sections every recipe shares: optimizer, train, callbacks, export.

Each recipe's own config class inherits `RecipeConfig` and adds its `data` and
`model` sections (and any section of its own) beside these.
"""

import dataclasses
from pathlib import Path
from typing import Any, ClassVar, Literal

from keras_recipes.config.engine import param, section
from keras_recipes.errors import ConfigError


@dataclasses.dataclass
class ScheduleConfig:
    """Learning-rate schedule; decay lengths are counted in epochs."""

    name: Literal["constant", "exponential", "cosine", "step"] = param(
        "constant", doc="constant | exponential | cosine | step"
    )
    decay_epochs: float | None = param(
        None,
        minimum=0,
        doc="exponential: epochs per decay_rate factor (default 1); "
        "cosine: epochs to decay over (default: all epochs).",
    )
    decay_rate: float = param(0.9, minimum=0, maximum=1, doc="exponential factor.")
    staircase: bool = param(False, doc="exponential: decay in whole steps.")
    alpha: float = param(0.0, minimum=0, maximum=1, doc="cosine: final lr fraction.")
    warmup_epochs: float = param(0.0, minimum=0, doc="cosine: linear warm-up.")
    boundaries: list[float] = param([], doc="step: epochs where the lr drops.")
    factor: float = param(0.1, minimum=0, doc="step: lr multiplier at each drop.")

    def validate(self, key):
        if self.name == "step" and not self.boundaries:
            raise ConfigError(
                f"{key}.boundaries is empty but {key}.name is 'step'; "
                f"give the epochs where the learning rate drops, e.g. [10, 20]"
            )
        if sorted(self.boundaries) != list(self.boundaries):
            raise ConfigError(
                f"{key}.boundaries must increase. Received: {self.boundaries}"
            )


@dataclasses.dataclass
class OptimizerConfig:
    """Optimizer and learning rate."""

    name: Literal["sgd", "rmsprop", "adagrad", "adam", "adamw"] = param(
        "adam", doc="sgd | rmsprop | adagrad | adam | adamw"
    )
    learning_rate: float = param(1e-3, minimum=0, doc="Initial learning rate.")
    momentum: float = param(0.0, minimum=0, below=1, doc="sgd and rmsprop momentum.")
    nesterov: bool = param(False, doc="sgd: Nesterov momentum.")
    weight_decay: float | None = param(None, minimum=0, doc="Decoupled decay.")
    clipnorm: float | None = param(None, minimum=0, doc="Clip gradient norms.")
    schedule: ScheduleConfig = section(ScheduleConfig)

    def validate(self, key):
        if self.learning_rate <= 0:
            raise ConfigError(
                f"{key}.learning_rate must be positive. Received: {self.learning_rate}"
            )
        if self.nesterov and self.name != "sgd":
            raise ConfigError(
                f"{key}.nesterov applies to sgd only. Received: name={self.name}"
            )
        if self.nesterov and self.momentum == 0:
            raise ConfigError(
                f"{key}.nesterov needs {key}.momentum > 0. Received: momentum=0"
            )


@dataclasses.dataclass
class TrainConfig:
    """How long and in what batches to train."""

    epochs: int = param(10, minimum=1, doc="Passes over the training data.")
    batch_size: int = param(32, minimum=1, doc="Images per step.")
    validation_split: float = param(
        0.2, minimum=0, below=1, doc="Fraction held out when no validation set."
    )
    steps_per_epoch: int | None = param(None, minimum=1, doc="Default: all data.")
    validation_steps: int | None = param(None, minimum=1, doc="Default: all data.")
    verbose: Literal["auto", 0, 1, 2] = param(
        "auto",
        doc="auto: progress bars on a terminal, one line per epoch otherwise; "
        "0: silent; 1: bars; 2: one line per epoch.",
    )
    mixed_precision: Literal["auto", "float32", "mixed_float16", "mixed_bfloat16"] = (
        param(
            "auto",
            doc="Dtype policy; auto: bfloat16 where the hardware has it, else float32.",
        )
    )
    jit_compile: Literal["auto", True, False] = param(
        "auto", doc="XLA-compile the train step; auto: Keras decides."
    )
    steps_per_execution: int = param(
        1, minimum=1, doc="Train steps per call into the compiled function."
    )


@dataclasses.dataclass
class EarlyStoppingConfig:
    enabled: bool = param(True)
    monitor: str = param("val_loss")
    mode: Literal["auto", "min", "max"] = param("auto")
    patience: int = param(10, minimum=0)
    min_delta: float = param(0.0, minimum=0)
    restore_best_weights: bool = param(True)


@dataclasses.dataclass
class ModelCheckpointConfig:
    enabled: bool = param(True)
    monitor: str = param("val_loss")
    mode: Literal["auto", "min", "max"] = param("auto")
    save_best_only: bool = param(True)


@dataclasses.dataclass
class TensorBoardConfig:
    enabled: bool = param(True)
    histogram_freq: int = param(0, minimum=0, doc="Epochs between histograms.")
    write_images: bool = param(False, doc="Write weights as images.")
    write_graph: bool = param(False)
    update_freq: Literal["epoch", "batch"] = param("epoch")


@dataclasses.dataclass
class CSVLoggerConfig:
    enabled: bool = param(True)


@dataclasses.dataclass
class ReduceLROnPlateauConfig:
    enabled: bool = param(False)
    monitor: str = param("val_loss")
    mode: Literal["auto", "min", "max"] = param("auto")
    factor: float = param(0.5, minimum=0, below=1)
    patience: int = param(5, minimum=0)
    min_lr: float = param(1e-6, minimum=0)


@dataclasses.dataclass
class SwitchConfig:
    enabled: bool = param(True)


@dataclasses.dataclass
class CallbacksConfig:
    """Keras callbacks; each can be switched off or tuned."""

    early_stopping: EarlyStoppingConfig = section(EarlyStoppingConfig)
    model_checkpoint: ModelCheckpointConfig = section(ModelCheckpointConfig)
    tensorboard: TensorBoardConfig = section(TensorBoardConfig)
    csv_logger: CSVLoggerConfig = section(CSVLoggerConfig)
    reduce_lr_on_plateau: ReduceLROnPlateauConfig = section(ReduceLROnPlateauConfig)
    terminate_on_nan: SwitchConfig = section(SwitchConfig)
    backup_and_restore: SwitchConfig = section(SwitchConfig)


@dataclasses.dataclass
class ExportConfig:
    """What is written after training, and by the `export` command.

    `keras` is `model.keras`, the trained model, which `evaluate`, `predict`
    and `export` read back; the serving formats, in `export/`, hold the
    recipe's serving model (raw inputs in, its preprocessing inside).
    """

    formats: list[Literal["keras", "saved_model", "onnx", "litert"]] = param(
        ["keras"],
        doc="keras (model.keras) | saved_model | onnx | litert (export/).",
    )
    quantize: Literal["none", "int8"] = param(
        "none", doc="int8: ONNX and LiteRT weights as 8-bit integers."
    )
    # The switches of earlier versions, still read in old config.yaml files:
    # true adds the format to `formats`, false removes it.
    keras: bool | None = param(None, doc="Old switch: true = formats has keras.")
    saved_model: bool | None = param(
        None, doc="Old switch: true = formats has saved_model."
    )

    def validate(self, key):
        formats = list(dict.fromkeys(self.formats))
        for name in ("keras", "saved_model"):
            switch = getattr(self, name)
            if switch is True and name not in formats:
                formats.append(name)
            elif switch is False and name in formats:
                formats.remove(name)
            setattr(self, name, None)
        self.formats = formats
        if self.quantize == "int8" and not {"onnx", "litert"} & set(formats):
            raise ConfigError(
                f"{key}.quantize=int8 applies to onnx and litert; add one of "
                f"them to {key}.formats (now {formats})"
            )


@dataclasses.dataclass
class ImageCacheConfig:
    """Decoded images of a folder, kept on disk between epochs and runs."""

    enabled: bool = param(
        True, doc="Decode a folder's images once; read them from the cache."
    )
    directory: str | None = param(None, doc="Default: <runs root>/image_cache.")
    fingerprint: Literal["stat", "content"] = param(
        "stat",
        doc="stat (paths, sizes, modification times) | content (file hashes).",
    )

    def folder(self, runs_root):
        """Returns the cache folder, or `None` when the cache is off.

        Args:
            runs_root: The parent of the run folders.

        Returns:
            `directory`, or `<runs_root>/image_cache`, or `None`.

        Example:

        ```python
        image_cache = config.data.cache.folder(recipe.runs_root)
        ```
        """
        if not self.enabled:
            return None
        return self.directory or str(Path(runs_root) / "image_cache")


@dataclasses.dataclass
class DistributeConfig:
    """Where training runs: one device, many devices, many machines, a TPU.

    `train.batch_size` is the global batch: it is split evenly among the
    replicas.
    """

    strategy: Literal["none", "mirrored", "multi_worker", "tpu"] = param(
        "none",
        doc="mirrored: this machine's GPUs; multi_worker: the TF_CONFIG cluster.",
    )
    cpu_devices: int = param(
        0, minimum=0, doc="mirrored: split the CPU into this many devices."
    )
    tpu: str = param("", doc="tpu: TPU name or address; empty: from the environment.")


@dataclasses.dataclass
class RecipeConfig:
    """The sections every recipe shares; recipes subclass it.

    Subclasses replace `data` and `model` with their own sections and set the
    default of `recipe` to their registered name.
    """

    # The recipe's one-line description, shown by `list`.
    description: ClassVar[str] = ""

    recipe: str = param("", doc="Registered recipe name.")
    seed: int = param(42, minimum=0, doc="Python, NumPy, Keras and TF seed.")
    data: Any = None
    model: Any = None
    optimizer: OptimizerConfig = section(OptimizerConfig)
    train: TrainConfig = section(TrainConfig)
    callbacks: CallbacksConfig = section(CallbacksConfig)
    export: ExportConfig = section(ExportConfig)
    distribute: DistributeConfig = section(DistributeConfig)

    def validate(self, key):
        reduce_lr = self.callbacks.reduce_lr_on_plateau.enabled
        if reduce_lr and self.optimizer.schedule.name != "constant":
            raise ConfigError(
                "callbacks.reduce_lr_on_plateau cannot change a scheduled "
                f"learning rate (optimizer.schedule.name="
                f"{self.optimizer.schedule.name}); switch one of them off"
            )
