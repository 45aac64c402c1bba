"""Character-level language model: an LSTM, GRU or simple RNN that writes text.

Run it with `python -m keras_recipes run char_rnn`, then
`python -m keras_recipes sample <run> --temperature 0.8`.
"""

import dataclasses
import json
import math
import sys
from typing import Literal

import keras

from keras_recipes.config import RecipeConfig, param, section
from keras_recipes.data.text import (
    PYDOC_TOPICS,
    build_vocabulary,
    decode,
    encode,
    load_text,
    sequence_dataset,
    split_blocks,
)
from keras_recipes.errors import ConfigError, UserError
from keras_recipes.models.char_rnn import BitsPerCharacter, char_rnn, generate
from keras_recipes.registry import register
from keras_recipes.training import Datasets, Recipe, write_json_atomic


@dataclasses.dataclass
class TextDataConfig:
    """Which text, and how it is cut into training sequences."""

    source: str = param(
        PYDOC_TOPICS, doc="pydoc_topics (CPython's bundled docs) or a UTF-8 file."
    )
    sequence_length: int = param(
        64, minimum=2, doc="Characters per sequence (back-propagation steps)."
    )
    validation_fraction: float = param(
        0.1, minimum=0, below=1, doc="Share of the text held out, in blocks."
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

    recipe: str = param("char_rnn")
    data: TextDataConfig = section(TextDataConfig)
    model: CharRNNModelConfig = section(CharRNNModelConfig)
    sample: SampleConfig = section(SampleConfig)

    def validate(self, key):
        super().validate(key)
        if self.data.validation_fraction == 0:
            raise ConfigError(
                "data.validation_fraction is 0, so there is no validation text "
                "to report bits per character on; use e.g. 0.1"
            )


@register
class CharRNN(Recipe):
    """Trains a character-level recurrent language model and samples from it.

    The text (CPython's bundled `pydoc_data.topics` by default, or any UTF-8
    file) is cut into sequences; the network learns to predict each next
    character. Reports `val_bits_per_char` (validation cross-entropy in
    bits), prints the parameter count against the number of training
    characters, and writes a sample to `samples.txt`.

    Example:

    ```python
    from keras_recipes import load_config
    from keras_recipes.recipes import CharRNN

    result = CharRNN(load_config("char_rnn", {"train.epochs": 1})).run()
    print(result.metrics["val_bits_per_char"])
    ```
    """

    name = "char_rnn"
    description = "Character-level LSTM / GRU / simple RNN language model; sample."
    config_class = CharRNNConfig
    quick = {
        "model.units": 16,
        "model.embedding_dim": 8,
        "data.sequence_length": 32,
        "train.epochs": 1,
        "train.steps_per_epoch": 10,
        "train.validation_steps": 5,
        "sample.length": 40,
    }

    def build_data(self):
        data_config = self.config.data
        text = load_text(data_config.source)
        vocabulary = build_vocabulary(text)
        if len(vocabulary) < 2:
            raise UserError(
                f"{data_config.source} uses fewer than two distinct characters; "
                f"give a real text"
            )
        train_ids, validation_ids = split_blocks(
            encode(text, vocabulary),
            data_config.validation_fraction,
            data_config.block_length,
        )
        length = data_config.sequence_length
        batch_size = self.config.train.batch_size
        if len(validation_ids) <= length:
            raise UserError(
                f"the validation text has {len(validation_ids)} characters, fewer "
                f"than one sequence of {length}; raise data.validation_fraction "
                f"or lower data.sequence_length"
            )
        if (len(train_ids) - 1) // length < batch_size:
            raise UserError(
                f"the training text ({len(train_ids)} characters) makes fewer "
                f"than one batch of {batch_size} sequences of {length}; lower "
                f"train.batch_size or data.sequence_length"
            )
        train = sequence_dataset(train_ids, length, batch_size, seed=self.config.seed)
        validation = sequence_dataset(
            validation_ids, length, batch_size, shuffle=False, drop_remainder=False
        )
        return Datasets(
            train=train,
            validation=validation,
            steps_per_epoch=self.config.train.steps_per_epoch
            or int(train.cardinality()),
            input_shape=(None,),
            class_names=vocabulary,
            info={
                "train_size": len(train_ids),
                "validation_size": len(validation_ids),
            },
        )

    def build_model(self, data):
        model_config = self.config.model
        try:
            model = char_rnn(
                vocabulary_size=len(data.class_names),
                cell=model_config.cell,
                units=model_config.units,
                num_layers=model_config.num_layers,
                embedding_dim=model_config.embedding_dim,
                dropout=model_config.dropout,
            )
        except ValueError as error:
            raise ConfigError(f"model: {error}") from None
        parameters = model.count_params()
        characters = data.info["train_size"]
        print(
            f"{parameters:,} parameters for {characters:,} training characters "
            f"({parameters / characters:.2f} per character; the rule of thumb: "
            f"keep the two within one order of magnitude)",
            flush=True,
        )
        return model

    def build_loss(self):
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def build_metrics(self):
        return [
            BitsPerCharacter(),
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
        ]

    def evaluate(self, model, data):
        metrics = super().evaluate(model, data)
        metrics["parameters"] = model.count_params()
        metrics["train_characters"] = data.info["train_size"]
        metrics["uniform_bits_per_char"] = math.log2(len(data.class_names))
        return metrics

    def export(self, model, data):
        super().export(model, data)
        write_json_atomic(self.run_dir / "vocabulary.json", list(data.class_names))
        sample = self.config.sample
        text = self.sample(
            model, sample.length, sample.temperature, sample.seed_text, data.class_names
        )
        (self.run_dir / "samples.txt").write_text(text + "\n")
        print(
            f"sample at temperature {sample.temperature}:\n{text}\n",
            flush=True,
        )

    def sample(
        self, model, length=400, temperature=0.8, seed_text="The ", vocabulary=None
    ):
        """Returns `seed_text` continued by `length` sampled characters.

        Args:
            model: The trained model.
            length: Characters to sample. Defaults to `400`.
            temperature: Sampling temperature (0 picks the likeliest).
                Defaults to `0.8`.
            seed_text: Text to continue. Defaults to `"The "`.
            vocabulary: The characters, or `None` to read the run's
                `vocabulary.json`. Defaults to `None`.

        Returns:
            The text, starting with `seed_text`.
        """
        if vocabulary is None:
            path = self.run_dir / "vocabulary.json"
            if not path.is_file():
                raise UserError(f"{self.run_dir} has no vocabulary.json")
            vocabulary = json.loads(path.read_text())
        if not seed_text:
            raise UserError("--seed-text is empty; give at least one character")
        try:
            start = encode(seed_text, vocabulary)
        except UserError as error:
            raise UserError(f"--seed-text: {error}") from None
        ids = generate(model, start, length, temperature, seed=self.config.seed)
        return seed_text + decode(ids, vocabulary)


def sample_command(args):
    """Prints text sampled from a finished `char_rnn` run.

    Args:
        args: Parsed arguments with `run_dir`, `temperature`, `length`,
            `seed_text` and `seed`.

    Returns:
        The exit status, 0.

    Example:

    ```python
    main(["sample", "runs/char_rnn/x", "--temperature", "0.5"])
    ```
    """
    recipe, model = Recipe.from_run_dir(args.run_dir)
    if not hasattr(recipe, "sample"):
        raise UserError(
            f"{args.run_dir} is a '{recipe.name}' run; sample needs a char_rnn run"
        )
    if args.seed is not None:
        recipe.config.seed = args.seed
    print(recipe.sample(model, args.length, args.temperature, args.seed_text))
    return 0


if __name__ == "__main__":
    from keras_recipes.cli import main

    sys.exit(main(["run", CharRNN.name, *sys.argv[1:]]))
