"""Text for character models: the bundled corpus, a vocabulary, sequence batches."""

from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_recipes.errors import DataError

PYDOC_TOPICS = "pydoc_topics"


def load_text(source=PYDOC_TOPICS):
    """Returns the text of CPython's bundled documentation topics or of a file.

    `pydoc_data.topics` ships with every CPython: about 465,000 characters
    of real English prose and code from the language reference (the text of
    `help("assert")`, `help("for")`, ...). The topics are joined in sorted
    order, so the text is the same on every run of one Python version.

    Args:
        source: `"pydoc_topics"`, or the path of a UTF-8 text file.
            Defaults to `"pydoc_topics"`.

    Returns:
        The text as one `str`.

    Example:

    ```python
    text = load_text()
    len(text)  # about 465,000
    ```
    """
    if source == PYDOC_TOPICS:
        from pydoc_data.topics import topics

        return "\n".join(topics[key] for key in sorted(topics))
    path = Path(source)
    if not path.is_file():
        raise DataError(
            f"text file not found: {path} (set data.source to a text file or "
            f"to {PYDOC_TOPICS})"
        )
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DataError(
            f"{path} is not UTF-8 text (byte {error.start}); convert it, e.g. "
            f"iconv -t utf-8"
        ) from None


def build_vocabulary(text):
    """Returns the sorted list of distinct characters in `text`.

    Args:
        text: A `str`.

    Returns:
        A `list` of one-character strings; index `i` is character id `i`.

    Example:

    ```python
    build_vocabulary("abca")  # ["a", "b", "c"]
    ```
    """
    return sorted(set(text))


def encode(text, vocabulary):
    """Returns the character ids of `text` under `vocabulary`.

    Args:
        text: A `str`.
        vocabulary: The list from `build_vocabulary`.

    Returns:
        An int32 NumPy array with one id per character.

    Example:

    ```python
    encode("cab", ["a", "b", "c"])  # array([2, 0, 1])
    ```
    """
    index = {char: i for i, char in enumerate(vocabulary)}
    unknown = sorted(set(text) - set(index))
    if unknown:
        raise DataError(
            f"characters not in the vocabulary: {''.join(unknown)!r}; the text "
            f"must use the characters the model was trained on"
        )
    return np.fromiter((index[char] for char in text), dtype="int32", count=len(text))


def decode(ids, vocabulary):
    """Returns the text of character ids.

    Args:
        ids: Iterable of ints.
        vocabulary: The list from `build_vocabulary`.

    Returns:
        A `str`.

    Example:

    ```python
    decode([2, 0, 1], ["a", "b", "c"])  # "cab"
    ```
    """
    return "".join(vocabulary[int(i)] for i in ids)


def split_blocks(ids, validation_fraction=0.1, block_length=5000):
    """Splits a character stream into training and validation parts by blocks.

    The stream is cut into blocks of `block_length` characters and evenly
    spaced blocks are held out, so validation text comes from every part of
    the corpus rather than only its end.

    Args:
        ids: 1-D array of character ids.
        validation_fraction: Fraction of the blocks held out, in [0, 1).
            Defaults to `0.1`.
        block_length: Characters per block. Defaults to `5000`.

    Returns:
        `(train_ids, validation_ids)`; each joins its blocks in order. The
        validation part is empty when `validation_fraction` is 0.

    Example:

    ```python
    train, val = split_blocks(np.arange(100), 0.2, block_length=10)
    val  # blocks 4 and 9: array([40, ..., 49, 90, ..., 99])
    ```
    """
    if not 0 <= validation_fraction < 1:
        raise ValueError(
            f"validation_fraction must be in [0, 1). "
            f"Received: validation_fraction={validation_fraction}"
        )
    if block_length < 1:
        raise ValueError(
            f"block_length must be positive. Received: block_length={block_length}"
        )
    ids = np.asarray(ids)
    blocks = [ids[i : i + block_length] for i in range(0, len(ids), block_length)]
    held = round(validation_fraction * len(blocks))
    if held == 0:
        return ids, ids[:0]
    step = len(blocks) / held
    chosen = {int((k + 1) * step) - 1 for k in range(held)}
    train = [b for i, b in enumerate(blocks) if i not in chosen]
    validation = [b for i, b in enumerate(blocks) if i in chosen]
    return np.concatenate(train), np.concatenate(validation)


def sequence_dataset(
    ids, sequence_length, batch_size, shuffle=True, seed=None, drop_remainder=True
):
    """Batches a character stream into `(inputs, next_characters)` windows.

    The stream is cut into non-overlapping windows of `sequence_length + 1`
    ids; each window gives the input `window[:-1]` and the target
    `window[1:]`, the same characters shifted by one, so the model learns to
    predict every next character of the window.

    Args:
        ids: 1-D array of character ids.
        sequence_length: Characters per training sequence (the number of steps
            the gradient is back-propagated through).
        batch_size: Sequences per batch.
        shuffle: Shuffle the windows every epoch. Defaults to `True`.
        seed: Shuffle seed. Defaults to `None`.
        drop_remainder: Drop the last incomplete batch. Defaults to `True`.

    Returns:
        A `tf.data.Dataset` of `(int32 [batch, sequence_length],
        int32 [batch, sequence_length])`.

    Example:

    ```python
    dataset = sequence_dataset(encode(text, vocab), 100, batch_size=64)
    ```
    """
    if sequence_length < 1:
        raise ValueError(
            f"sequence_length must be positive. Received: "
            f"sequence_length={sequence_length}"
        )
    count = (len(ids) - 1) // sequence_length
    if count < 1:
        raise DataError(
            f"the text has {len(ids)} characters, too few for one sequence of "
            f"{sequence_length}; lower data.sequence_length or give more text"
        )
    ids = np.asarray(ids, dtype="int32")
    inputs = ids[: count * sequence_length].reshape(count, sequence_length)
    targets = ids[1 : count * sequence_length + 1].reshape(count, sequence_length)
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle:
        dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size, drop_remainder=drop_remainder).prefetch(
        tf.data.AUTOTUNE
    )
