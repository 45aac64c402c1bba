"""The classifier base and the helpers the classifier recipes share."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import confusion_matrix

from keras_recipes.errors import UserError
from keras_recipes.recipes.classification import (
    ClassifierEvaluation,
    ClassifierRecipe,
    confusion_counts,
    predict_batches,
    predict_classes,
    write_class_names,
)
from keras_recipes.training import Datasets


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


class _Linear(ClassifierRecipe):
    name = "linear_classifier"

    def build_model(self, data):
        keras.utils.set_random_seed(0)
        return keras.Sequential(
            [keras.Input(data.input_shape), keras.layers.Dense(3, activation="softmax")]
        )


def _batches(x, y):
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(16)


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(90, 2)).astype("float32")
    y = (np.arange(90) % 3).astype("int32")
    x += 3 * np.eye(3, 2, dtype="float32")[y]  # three separable blobs
    data = Datasets(
        train=_batches(x[:60], y[:60]),
        validation=_batches(x[60:75], y[60:75]),
        test=_batches(x[75:], y[75:]),
        input_shape=(2,),
        class_names=["a", "b", "c"],
    )
    recipe = _Linear()
    model = recipe.build_model(data)
    recipe.compile(model, data)
    model.fit(data.train, epochs=20, shuffle=False, verbose=0)
    return recipe, model, data, (x[75:], y[75:])


def test_predict_batches_reads_the_split_once_in_order(trained):
    _, model, data, (x_test, y_test) = trained
    labels, probabilities = predict_batches(model, data.test)
    np.testing.assert_array_equal(labels, y_test)
    np.testing.assert_allclose(
        probabilities, model.predict(x_test, verbose=0), rtol=1e-5, atol=1e-6
    )
    assert probabilities.dtype == np.float32


def test_evaluate_gives_the_test_metrics_and_their_confusion(trained):
    recipe, model, data, (x_test, y_test) = trained
    evaluation = recipe.evaluate(model, data)
    assert isinstance(evaluation, ClassifierEvaluation)
    assert evaluation.split == "test"
    assert set(evaluation.metrics) == {"test_loss", "test_accuracy"}
    expected = confusion_matrix(
        y_test, model.predict(x_test, verbose=0).argmax(1), labels=range(3)
    )
    np.testing.assert_array_equal(evaluation.confusion, expected)
    accuracy = np.trace(expected) / expected.sum()
    assert evaluation.metrics["test_accuracy"] == pytest.approx(accuracy)
    # Without a test split: the validation split; without either: nothing.
    held_out = Datasets(data.train, validation=data.test, class_names=["a", "b", "c"])
    fallback = recipe.evaluate(model, held_out)
    assert fallback.split == "validation" and "val_accuracy" in fallback.metrics
    np.testing.assert_array_equal(fallback.confusion, expected)
    nothing = recipe.evaluate(model, Datasets(data.train, class_names=["a"]))
    assert (nothing.metrics, nothing.split, nothing.confusion) == ({}, None, None)


def test_export_and_figures_use_the_evaluation(trained, tmp_path):
    recipe, model, data, _ = trained
    evaluation = recipe.evaluate(model, data)
    recipe.run_dir = tmp_path
    recipe.export(model, data, evaluation)
    assert json.loads((tmp_path / "classes.json").read_text()) == ["a", "b", "c"]
    assert (tmp_path / "model.keras").is_file()
    # The confusion figure comes from the evaluation, not from the test set.
    without_test = Datasets(data.train, class_names=data.class_names)
    recipe.figures(model, without_test, {"loss": [1.0, 0.5]}, evaluation)
    figures = sorted(p.name for p in (tmp_path / "figures").glob("*.png"))
    assert figures == ["confusion_matrix.png", "training_curves.png"]
