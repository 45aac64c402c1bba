"""The `char_rnn` recipe: a recurrent network that predicts the next character."""

import dataclasses
import json
import math

import keras

from keras_recipes.data.text import (
    build_vocabulary,
    decode,
    encode,
    load_text,
    sequence_dataset,
    split_blocks,
)
from keras_recipes.errors import ConfigError, UserError
from keras_recipes.exporting import unrolled_model
from keras_recipes.models.char_rnn import BitsPerCharacter, char_rnn, generate
from keras_recipes.recipes.char_rnn.config import CharRNNConfig
from keras_recipes.saving import write_json_atomic
from keras_recipes.training import Datasets, Evaluation, Recipe

VOCABULARY_FILE = "vocabulary.json"


@dataclasses.dataclass
class TextData(Datasets):
    """The sequence datasets of a text, with the size of each part.

    `class_names` holds the vocabulary: the character of each id.

    Attributes:
        train_size: Characters of the training text.
        validation_size: Characters of the validation text.

    Example:

    ```python
    data = CharRNN().build_data()
    print(data.train_size, "training characters,", len(data.class_names), "distinct")
    ```
    """

    train_size: int = 0
    validation_size: int = 0


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
        """Reads the text, holds out validation blocks and cuts both into batches.

        Returns:
            The `TextData`.
        """
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
            self.config.train.validation_split,
            data_config.block_length,
        )
        length = data_config.sequence_length
        batch_size = self.config.train.batch_size
        if len(validation_ids) <= length:
            raise UserError(
                f"the validation text has {len(validation_ids)} characters, fewer "
                f"than one sequence of {length}; raise train.validation_split "
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
        return TextData(
            train=train,
            validation=validation,
            steps_per_epoch=self.config.train.steps_per_epoch
            or int(train.cardinality()),
            input_shape=(None,),
            class_names=vocabulary,
            train_size=len(train_ids),
            validation_size=len(validation_ids),
        )

    def build_model(self, data):
        """Returns the recurrent network, and prints its size against the text's.

        Args:
            data: What `build_data` returned.

        Returns:
            The uncompiled `keras.Model`, from character ids to next-character
            logits.
        """
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
        characters = data.train_size
        print(
            f"{parameters:,} parameters for {characters:,} training characters "
            f"({parameters / characters:.2f} per character; the rule of thumb: "
            f"keep the two within one order of magnitude)",
            flush=True,
        )
        return model

    def build_loss(self, data):
        """Returns the cross-entropy of the next character, from logits."""
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def build_metrics(self, data):
        """Returns bits per character and the next-character accuracy."""
        return [
            BitsPerCharacter(),
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
        ]

    def evaluate(self, model, data):
        """Measures the validation text, beside the uniform guess's bits.

        Args:
            model: The trained model.
            data: What `build_data` returned.

        Returns:
            An `Evaluation` with `val_bits_per_char`, the parameter count,
            the training characters and `uniform_bits_per_char`.
        """
        metrics = super().evaluate(model, data).metrics
        metrics["parameters"] = model.count_params()
        metrics["train_characters"] = data.train_size
        metrics["uniform_bits_per_char"] = math.log2(len(data.class_names))
        return Evaluation(metrics)

    def export(self, model, data, evaluation):
        """Saves the model, `vocabulary.json` and a sample as `samples.txt`.

        Args:
            model: The trained model.
            data: What `build_data` returned.
            evaluation: What `evaluate` returned.
        """
        super().export(model, data, evaluation)
        write_json_atomic(self.run_dir / VOCABULARY_FILE, list(data.class_names))
        sample = self.config.sample
        text = self.sample(
            model, sample.length, sample.temperature, sample.seed_text, data.class_names
        )
        (self.run_dir / "samples.txt").write_text(text + "\n")
        print(f"sample at temperature {sample.temperature}:\n{text}\n", flush=True)

    def serving_model(self, model, data):
        """Returns the network for windows of `data.sequence_length` characters.

        Character ids (the positions in `vocabulary.json`) go in, shape
        `[N, sequence_length]`; the next-character logits at every position
        come out. The recurrent layers are unrolled over that fixed length,
        which LiteRT's builtin ops hold.

        Args:
            model: The trained network.
            data: What `build_data` returned, or `None`; not read.

        Returns:
            The serving `keras.Model`.
        """
        return unrolled_model(model, self.config.data.sequence_length)

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

        Example:

        ```python
        recipe, model = keras_recipes.load_run("runs/char_rnn/20260101-000000")
        print(recipe.sample(model, length=200, temperature=0.5))
        ```
        """
        if vocabulary is None:
            path = self.run_dir / VOCABULARY_FILE
            if not path.is_file():
                raise UserError(f"{self.run_dir} has no {VOCABULARY_FILE}")
            vocabulary = json.loads(path.read_text())
        if not seed_text:
            raise UserError("--seed-text is empty; give at least one character")
        try:
            start = encode(seed_text, vocabulary)
        except UserError as error:
            raise UserError(f"--seed-text: {error}") from None
        ids = generate(model, start, length, temperature, seed=self.config.seed)
        return seed_text + decode(ids, vocabulary)
