"""A character-level recurrent language model and sampling from it."""

import math

import keras
import numpy as np
import tensorflow as tf

_CELLS = {
    "lstm": keras.layers.LSTM,
    "gru": keras.layers.GRU,
    "simple_rnn": keras.layers.SimpleRNN,
}


def char_rnn(
    vocabulary_size,
    cell="gru",
    units=256,
    num_layers=1,
    embedding_dim=64,
    dropout=0.0,
    name="char_rnn",
):
    """Builds EMBEDDING -> [RNN -> DROPOUT]*L -> DENSE, a next-character model.

    For every position of an input sequence of character ids the model
    outputs logits over the vocabulary for the character that follows.

    Args:
        vocabulary_size: Number of distinct characters.
        cell: `"lstm"`, `"gru"` or `"simple_rnn"`. Defaults to `"gru"`.
        units: Units of each recurrent layer. Defaults to `256`.
        num_layers: Number of stacked recurrent layers. Defaults to `1`.
        embedding_dim: Size of the learned character embedding.
            Defaults to `64`.
        dropout: Dropout rate after each recurrent layer, in [0, 1).
            Defaults to `0.0`.
        name: Model name. Defaults to `"char_rnn"`.

    Returns:
        An uncompiled `keras.Sequential` from int ids `[batch, time]` to
        logits `[batch, time, vocabulary_size]`.

    Example:

    ```python
    model = char_rnn(vocabulary_size=100, cell="lstm", units=128)
    ```

    Reference:
        http://karpathy.github.io/2015/05/21/rnn-effectiveness/
    """
    if cell not in _CELLS:
        raise ValueError(
            f"cell must be one of {sorted(_CELLS)}. Received: cell={cell!r}"
        )
    if vocabulary_size < 2:
        raise ValueError(
            f"vocabulary_size must be at least 2. "
            f"Received: vocabulary_size={vocabulary_size}"
        )
    if units < 1 or num_layers < 1 or embedding_dim < 1:
        raise ValueError(
            f"units, num_layers and embedding_dim must be positive. Received: "
            f"units={units}, num_layers={num_layers}, embedding_dim={embedding_dim}"
        )
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1). Received: dropout={dropout}")
    layers = [
        keras.Input(shape=(None,), dtype="int32", name="characters"),
        keras.layers.Embedding(vocabulary_size, embedding_dim, name="embedding"),
    ]
    for index in range(1, num_layers + 1):
        layers.append(
            _CELLS[cell](units, return_sequences=True, name=f"{cell}_{index}")
        )
        if dropout:
            layers.append(keras.layers.Dropout(dropout, name=f"dropout_{index}"))
    layers.append(keras.layers.Dense(vocabulary_size, name="logits"))
    return keras.Sequential(layers, name=name)


@keras.saving.register_keras_serializable(package="keras_recipes")
class BitsPerCharacter(keras.metrics.MeanMetricWrapper):
    """Mean cross-entropy of next-character logits in bits (log base 2).

    A model that guesses uniformly among `V` characters scores `log2(V)`
    bits per character; English text compressed by a good model needs
    roughly 1 to 2.

    Args:
        name: Metric name. Defaults to `"bits_per_char"`.
        dtype: Metric dtype. Defaults to `None`.

    Example:

    ```python
    model.compile(loss=..., metrics=[BitsPerCharacter()])
    ```
    """

    def __init__(self, name="bits_per_char", dtype=None):
        super().__init__(fn=_bits_per_char, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


def _bits_per_char(y_true, y_pred):
    nats = keras.losses.sparse_categorical_crossentropy(
        y_true, y_pred, from_logits=True
    )
    return nats / math.log(2.0)


def _stateful_twin(layer):
    """Returns a copy of a recurrent layer that also returns its state."""
    config = dict(layer.get_config(), return_state=True, return_sequences=True)
    twin = type(layer).from_config(config)
    features = layer.cell.kernel.shape[0]
    twin(np.zeros((1, 1, features), dtype="float32"))
    twin.set_weights(layer.get_weights())
    return twin


def generate(model, start_ids, length, temperature=1.0, seed=None):
    """Samples `length` character ids from a `char_rnn` model.

    The start ids run through the network once; then each sampled character
    is fed back one step at a time while the recurrent state is carried
    over, so the context is the whole text so far, not a fixed window.

    Args:
        model: A trained model built by `char_rnn`.
        start_ids: Non-empty sequence of character ids to start from.
        length: Number of characters to sample.
        temperature: Divides the logits before sampling: below 1 picks likely
            characters more often (safer, more repetitive text), above 1 less
            often; `0` always takes the most likely one. Defaults to `1.0`.
        seed: Seed of the sampler, or `None`. Defaults to `None`.

    Returns:
        An int NumPy array of the `length` sampled ids (without the start).

    Example:

    ```python
    ids = generate(model, encode("The ", vocab), 200, temperature=0.8, seed=0)
    ```
    """
    if len(start_ids) == 0:
        raise ValueError("start_ids must hold at least one character id.")
    if temperature < 0:
        raise ValueError(
            f"temperature must be >= 0. Received: temperature={temperature}"
        )
    rng = np.random.default_rng(seed)
    layers, states = [], []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dropout):
            continue
        if isinstance(layer, keras.layers.RNN):
            layer = _stateful_twin(layer)
            sizes = layer.cell.state_size
            sizes = sizes if isinstance(sizes, (list, tuple)) else [sizes]
            states.append([tf.zeros((1, size)) for size in sizes])
        layers.append(layer)

    @tf.function(reduce_retracing=True)
    def step(inputs, states):
        outputs, states, index = inputs, list(states), 0
        for layer in layers:
            if isinstance(layer, keras.layers.RNN):
                outputs, *states[index] = layer(outputs, initial_state=states[index])
                index += 1
            else:
                outputs = layer(outputs)
        return outputs[0, -1], states

    inputs = tf.constant(np.asarray(start_ids, dtype="int32")[None, :])
    sampled = []
    for _ in range(length):
        logits, states = step(inputs, states)
        logits = logits.numpy().astype("float64")
        if temperature == 0:
            choice = int(np.argmax(logits))
        else:
            scaled = logits / temperature
            probabilities = np.exp(scaled - scaled.max())
            probabilities /= probabilities.sum()
            choice = int(rng.choice(len(probabilities), p=probabilities))
        sampled.append(choice)
        inputs = tf.constant([[choice]], dtype="int32")
    return np.array(sampled, dtype="int64")
