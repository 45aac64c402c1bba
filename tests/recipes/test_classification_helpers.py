"""The helpers the classifier recipes share."""

import json

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from keras_recipes.errors import UserError
from keras_recipes.recipes.classification import (
    confusion_counts,
    predict_classes,
    write_class_names,
)


def test_confusion_counts_match_scikit_learn():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 200)
    probabilities = rng.random((200, 4))
    expected = confusion_matrix(labels, probabilities.argmax(1), labels=range(4))
    np.testing.assert_array_equal(confusion_counts(labels, probabilities, 4), expected)


def test_predict_needs_the_class_names_of_a_finished_run(tmp_path):
    with pytest.raises(UserError, match="has no classes.json"):
        predict_classes(tmp_path, None, [])
    path = write_class_names(tmp_path, ["a", "b"])
    assert json.loads(path.read_text()) == ["a", "b"]
