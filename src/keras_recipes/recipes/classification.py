"""What the classifier recipes share: the `ClassifierRecipe` base and its helpers.

`ClassifierRecipe` is a `Recipe` whose model maps inputs to class
probabilities and whose targets are integer classes. It supplies the steps
every such recipe repeats: the loss and metric, an evaluation that also
counts the confusion matrix, `classes.json` beside `model.keras`, the
confusion figure, and `predict` on image files.
"""

import dataclasses
import json

import numpy as np

from keras_recipes.data.image_files import find_image_files
from keras_recipes.data.image_folder import load_images
from keras_recipes.distribution import batch_function
from keras_recipes.errors import UserError
from keras_recipes.figures import plot_confusion_matrix
from keras_recipes.saving import write_json_atomic
from keras_recipes.training import Evaluation, Recipe

CLASSES_FILE = "classes.json"
CONFUSION_FIGURE = "confusion_matrix.png"
# Images read into memory at a time by `predict`, so a large folder fits.
PREDICT_CHUNK = 256


@dataclasses.dataclass
class ClassifierEvaluation(Evaluation):
    """What `ClassifierRecipe.evaluate` measured.

    Attributes:
        metrics: Metric name to value, written to `metrics.json`.
        split: The split the predictions are of: `"test"`, else
            `"validation"`; `None` when the data has neither.
        labels: True class of each example of `split`, shape `[N]`, or
            `None`.
        probabilities: The model's class scores for them, shape
            `[N, num_classes]`, or `None`.
        confusion: Counts of (true class, predicted class) pairs, shape
            `[num_classes, num_classes]` (rows are true classes), or `None`.

    A recipe whose later steps need more subclasses this dataclass and
    builds it from the base's result:
    `MyEvaluation(**vars(super().evaluate(model, data)), extra=...)`.

    Example:

    ```python
    evaluation = recipe.evaluate(model, data)
    evaluation.metrics["test_accuracy"], evaluation.confusion.trace()
    ```
    """

    split: str | None = None
    labels: np.ndarray | None = None
    probabilities: np.ndarray | None = None
    confusion: np.ndarray | None = None


class ClassifierRecipe(Recipe):
    """A `Recipe` for models from inputs to class probabilities.

    Subclasses implement `build_data` (a `Datasets` whose targets are integer
    classes and whose `class_names` name the output units) and
    `build_model`; this class supplies the rest of a classifier's run:

    - `build_loss`: sparse categorical cross-entropy;
    - `build_metrics`: accuracy;
    - `evaluate`: the test metrics (else validation), plus the predictions
      and confusion counts on that split, as a `ClassifierEvaluation`;
    - `export`: the model, and `classes.json` (the class of each output
      unit) beside `model.keras`;
    - `figures`: the training curves and `confusion_matrix.png`, drawn from
      the evaluation without another pass over the data;
    - `predict`: the most likely class of each image file, in files and
      folders.

    A recipe whose predictions do not come from `model` on the test batches
    (arrays held elsewhere, a model inside the exported one) overrides
    `class_scores`.

    Example:

    ```python
    class DigitsClassifier(ClassifierRecipe):
        name = "digits_classifier"
        config_class = DigitsClassifierConfig

        def build_data(self):
            ...
            return Datasets(train, validation, test, class_names=names, ...)

        def build_model(self, data):
            return small_cnn(data.input_shape, len(data.class_names))
    ```
    """

    def build_loss(self, data):
        """Returns the sparse categorical cross-entropy.

        Args:
            data: What `build_data` returned.

        Returns:
            The loss name, `"sparse_categorical_crossentropy"`.
        """
        return "sparse_categorical_crossentropy"

    def build_metrics(self, data):
        """Returns the accuracy metric.

        Args:
            data: What `build_data` returned.

        Returns:
            `["accuracy"]`.
        """
        return ["accuracy"]

    def evaluate(self, model, data):
        """Measures `model` on the test set (else validation) and counts confusion.

        Args:
            model: The trained model.
            data: What `build_data` returned.

        Returns:
            A `ClassifierEvaluation`: the metrics of `Recipe.evaluate`, the
            split's labels and predicted probabilities, and their confusion
            counts.
        """
        metrics = super().evaluate(model, data).metrics
        split, labels, probabilities = self.class_scores(model, data)
        confusion = None
        if labels is not None:
            confusion = confusion_counts(labels, probabilities, len(data.class_names))
        return ClassifierEvaluation(
            metrics,
            split=split,
            labels=labels,
            probabilities=probabilities,
            confusion=confusion,
        )

    def class_scores(self, model, data):
        """Returns the true classes and predicted probabilities of the test split.

        The test split, else the validation split, is read once.

        Args:
            model: The trained model.
            data: What `build_data` returned.

        Returns:
            A `(split, labels, probabilities)` tuple: the split's name
            (`"test"` or `"validation"`), the `[N]` labels and the
            `[N, num_classes]` probabilities; `(None, None, None)` when the
            data has neither split.
        """
        split, dataset = evaluation_split(data)
        if dataset is None:
            return None, None, None
        labels, probabilities = predict_batches(model, dataset)
        return split, labels, probabilities

    def export(self, model, data, evaluation):
        """Saves the model as configured and `classes.json` beside it.

        Args:
            model: The trained model.
            data: What `build_data` returned.
            evaluation: What `evaluate` returned.
        """
        super().export(model, data, evaluation)
        write_class_names(self.run_dir, data.class_names)

    def figures(self, model, data, history, evaluation):
        """Draws the training curves and the confusion matrix of `evaluation`.

        Args:
            model: The trained model.
            data: What `build_data` returned.
            history: Metric name to per-epoch values, over the whole run.
            evaluation: What `evaluate` returned.
        """
        super().figures(model, data, history, evaluation)
        if getattr(evaluation, "confusion", None) is not None:
            plot_confusion(
                evaluation, data.class_names, self.figure_path(CONFUSION_FIGURE)
            )

    prediction_columns = ("class", "probability")
    prediction_format = "{class} ({probability:.3f})"

    def predict(self, model, paths):
        """Returns `(path, class_name, probability)` for each image file.

        Args:
            model: The run's model, from raw pixels to class probabilities.
            paths: Image files, and folders searched at any depth.

        Returns:
            One `(path, class_name, probability)` row per file.
        """
        return predict_classes(self.run_dir, model, paths)


def evaluation_split(data):
    """Returns the split a classifier is evaluated on: test, else validation.

    Args:
        data: A `Datasets`.

    Returns:
        A `(name, dataset)` tuple; `(None, None)` when there is neither.

    Example:

    ```python
    split, dataset = evaluation_split(data)  # ("test", <the test batches>)
    ```
    """
    if data.test is not None:
        return "test", data.test
    if data.validation is not None:
        return "validation", data.validation
    return None, None


def predict_batches(model, dataset):
    """Runs `model` over `(inputs, labels)` batches in one pass.

    Args:
        model: A model from inputs to class scores.
        dataset: Finite batched `(inputs, labels)` dataset (or any iterable
            of such pairs).

    Returns:
        A `(labels, probabilities)` tuple of NumPy arrays, `[N]` and
        `[N, num_classes]` (`float32`).

    Example:

    ```python
    labels, probabilities = predict_batches(model, data.test)
    ```
    """
    scores_of = batch_function(model)
    labels, scores = [], []
    for inputs, targets in dataset:
        scores.append(np.asarray(scores_of(inputs), dtype="float32"))
        labels.append(np.asarray(targets))
    if not labels:
        return np.zeros((0,), "int64"), np.zeros((0, model.output_shape[-1]))
    return np.concatenate(labels), np.concatenate(scores)


def confusion_counts(labels, probabilities, num_classes):
    """Counts (true class, predicted class) pairs.

    Args:
        labels: Integer class of each example, shape `[N]`.
        probabilities: Predicted class scores, shape `[N, num_classes]`.
        num_classes: Number of classes.

    Returns:
        An `int64` array `[num_classes, num_classes]`; rows are true classes.

    Example:

    ```python
    confusion_counts([0, 1], np.array([[0.9, 0.1], [0.8, 0.2]]), 2)
    # array([[1, 0], [1, 0]])
    ```
    """
    matrix = np.zeros((num_classes, num_classes), dtype="int64")
    predicted = np.asarray(probabilities).argmax(axis=-1)
    np.add.at(matrix, (np.asarray(labels).astype("int64"), predicted), 1)
    return matrix


def plot_confusion(evaluation, class_names, path):
    """Draws the confusion matrix of a `ClassifierEvaluation`.

    Args:
        evaluation: A `ClassifierEvaluation` with `confusion` counted.
        class_names: The class names, in output order.
        path: PNG file to write.

    Returns:
        `path`.

    Example:

    ```python
    plot_confusion(evaluation, data.class_names, "figures/confusion_matrix.png")
    ```
    """
    return plot_confusion_matrix(
        evaluation.confusion,
        class_names,
        path,
        title=f"{evaluation.split or 'test'} confusion matrix",
    )


def write_class_names(run_dir, class_names):
    """Writes `classes.json`, the class of each output unit, into a run.

    Args:
        run_dir: The run directory.
        class_names: Class names in output order.

    Returns:
        The path written.

    Example:

    ```python
    write_class_names(run_dir, ["cats", "dogs"])
    ```
    """
    path = run_dir / CLASSES_FILE
    write_json_atomic(path, list(class_names))
    return path


def predict_classes(run_dir, model, paths):
    """Classifies image files with a finished run's model.

    The images are read `PREDICT_CHUNK` at a time, so a folder of any size
    fits in memory.

    Args:
        run_dir: The run directory, holding `classes.json`.
        model: Its model, from raw pixels to class probabilities.
        paths: Image files, and folders searched at any depth for them.

    Returns:
        One `(path, class_name, probability)` row per image file.

    Example:

    ```python
    recipe, model = keras_recipes.api.load_run(run_dir)
    predict_classes(run_dir, model, ["cat.jpg"])
    ```
    """
    classes_file = run_dir / CLASSES_FILE
    if not classes_file.is_file():
        raise UserError(f"{run_dir} has no {CLASSES_FILE}; was the run finished?")
    class_names = json.loads(classes_file.read_text())
    files = find_image_files(paths)
    _, height, width, channels = model.input_shape
    rows = []
    for start in range(0, len(files), PREDICT_CHUNK):
        chunk = files[start : start + PREDICT_CHUNK]
        images = load_images(chunk, (height, width), channels)
        scores = np.asarray(model.predict(images, verbose=0), dtype="float32")
        for path, probabilities in zip(chunk, scores, strict=True):
            index = int(probabilities.argmax())
            rows.append((str(path), class_names[index], float(probabilities[index])))
    return rows
