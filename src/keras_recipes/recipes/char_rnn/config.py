"""The settings of the `char_rnn` recipe; no TensorFlow is imported."""

import dataclasses
from typing import ClassVar, Literal

from keras_recipes.config import (
    OptimizerConfig,
    RecipeConfig,
    TrainConfig,
    param,
    section,
)
from keras_recipes.errors import ConfigError


@dataclasses.dataclass
class TextDataConfig:
    """Which text, and how it is cut into training sequences.

    `train.validation_split` of the text is held out for validation, in
    evenly spaced blocks of `block_length` characters.
    """

    source: str = param(
        "pydoc_topics", doc="pydoc_topics (CPython's bundled docs) or a UTF-8 file."
    )
    sequence_length: int = param(
        64, minimum=2, doc="Characters per sequence (back-propagation steps)."
    )
    block_length: int = param(
        5000, minimum=1, doc="Characters per held-out block of the split."
    )


@dataclasses.dataclass
class CharRNNModelConfig:
    """The recurrent network."""

    cell: Literal["lstm", "gru", "simple_rnn"] = param("gru")
    units: int = param(256, minimum=1, doc="Units per recurrent layer.")
    num_layers: int = param(1, minimum=1, doc="Stacked recurrent layers.")
    embedding_dim: int = param(64, minimum=1)
    dropout: float = param(0.0, minimum=0, below=1, doc="After each RNN layer.")


@dataclasses.dataclass
class SampleConfig:
    """The text written at the end of the run (samples.txt)."""

    length: int = param(400, minimum=1, doc="Characters to sample.")
    temperature: float = param(0.8, minimum=0, doc="Below 1: safer text.")
    seed_text: str = param("The ", doc="Text the sample continues.")


@dataclasses.dataclass
class CharRNNConfig(RecipeConfig):
    """Config of the `char_rnn` recipe."""

    description: ClassVar[str] = (
        "Character-level LSTM / GRU / simple RNN language model; sample."
    )

    recipe: str = param("char_rnn")
    data: TextDataConfig = section(TextDataConfig)
    model: CharRNNModelConfig = section(CharRNNModelConfig)
    sample: SampleConfig = section(SampleConfig)
    optimizer: OptimizerConfig = section(
        OptimizerConfig, name="adam", learning_rate=0.003, clipnorm=5.0
    )
    train: TrainConfig = section(
        TrainConfig, epochs=6, batch_size=32, validation_split=0.1
    )

    def validate(self, key):
        super().validate(key)
        if self.train.validation_split == 0:
            raise ConfigError(
                "train.validation_split is 0, so there is no validation text "
                "to report bits per character on; use e.g. 0.1"
            )
