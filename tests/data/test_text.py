"""The character corpus, vocabulary, block split and sequence batching."""

import numpy as np
import pytest

from keras_recipes.data.text import (
    build_vocabulary,
    decode,
    encode,
    load_text,
    sequence_dataset,
    split_blocks,
)
from keras_recipes.errors import DataError


def test_pydoc_topics_is_real_prose():
    text = load_text()
    assert len(text) > 300_000
    assert 'The "assert" statement' in text
    assert load_text() == text  # the same order every time


def test_a_text_file_and_its_errors(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text("héllo wörld\n", encoding="utf-8")
    assert load_text(str(path)) == "héllo wörld\n"
    with pytest.raises(DataError, match="text file not found"):
        load_text(str(tmp_path / "missing.txt"))
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        load_text(str(latin))


def test_encode_decode_round_trip():
    text = "the cat sat on the mat"
    vocabulary = build_vocabulary(text)
    assert vocabulary == sorted(set(text))
    ids = encode(text, vocabulary)
    assert ids.dtype == np.int32
    assert decode(ids, vocabulary) == text
    assert ids[0] == vocabulary.index("t")
    with pytest.raises(DataError, match="'brz'"):
        encode("zebra", vocabulary)


def test_split_blocks_holds_out_spread_blocks():
    ids = np.arange(100)
    train, validation = split_blocks(ids, 0.2, block_length=10)
    assert validation.tolist() == list(range(40, 50)) + list(range(90, 100))
    assert sorted(train.tolist() + validation.tolist()) == ids.tolist()
    train, validation = split_blocks(ids, 0.0, block_length=10)
    assert len(validation) == 0 and len(train) == 100
    with pytest.raises(ValueError, match="validation_fraction=1"):
        split_blocks(ids, 1)


def test_sequence_targets_are_inputs_shifted_by_one():
    ids = np.arange(1, 42, dtype="int32")  # 41 ids: 4 windows of 10 + 1
    dataset = sequence_dataset(ids, 10, batch_size=2, shuffle=False)
    batches = list(dataset.as_numpy_iterator())
    assert len(batches) == 2
    inputs = np.concatenate([x for x, _ in batches])
    targets = np.concatenate([y for _, y in batches])
    assert inputs.shape == (4, 10)
    assert inputs[:, 0].tolist() == [1, 11, 21, 31]
    np.testing.assert_array_equal(targets, inputs + 1)


def test_shuffled_windows_are_the_same_windows():
    ids = np.arange(101, dtype="int32")
    dataset = sequence_dataset(ids, 10, batch_size=5, shuffle=True, seed=0)
    windows = np.concatenate([x for x, _ in dataset.as_numpy_iterator()])
    assert sorted(windows[:, 0].tolist()) == list(range(0, 100, 10))
    assert windows[:, 0].tolist() != list(range(0, 100, 10))


def test_too_short_a_text_is_a_data_error():
    with pytest.raises(DataError, match="too few for one sequence of 64"):
        sequence_dataset(np.arange(10), 64, batch_size=1)
