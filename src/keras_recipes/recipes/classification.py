"""What the image classifier recipes share: classes.json, confusion, predict."""

import json

import numpy as np

from keras_recipes.data.image_folder import load_images
from keras_recipes.errors import UserError
from keras_recipes.figures import plot_confusion_matrix
from keras_recipes.saving import write_json_atomic

CLASSES_FILE = "classes.json"


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
    np.add.at(matrix, (np.asarray(labels), predicted), 1)
    return matrix


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


def plot_split_confusion(recipe, data):
    """Draws `figures/confusion_matrix.png` from `recipe.confusion`, if any.

    Args:
        recipe: A `Recipe` whose `evaluate` set `confusion`.
        data: The run's `Datasets`.

    Returns:
        The figure's path, or `None` when there is no confusion matrix.

    Example:

    ```python
    plot_split_confusion(self, data)
    ```
    """
    if getattr(recipe, "confusion", None) is None:
        return None
    split = "test" if data.test is not None else "validation"
    path = recipe.figure_path("confusion_matrix.png")
    plot_confusion_matrix(
        recipe.confusion, data.class_names, path, title=f"{split} confusion matrix"
    )
    return path


def predict_classes(run_dir, model, paths):
    """Classifies image files with a finished run's model.

    Args:
        run_dir: The run directory, holding `classes.json`.
        model: Its model, from raw pixels to class probabilities.
        paths: Image file paths.

    Returns:
        One `(path, class_name, probability)` row per file.

    Example:

    ```python
    recipe, model = Recipe.from_run_dir(run_dir)
    predict_classes(run_dir, model, ["cat.jpg"])
    ```
    """
    classes_file = run_dir / CLASSES_FILE
    if not classes_file.is_file():
        raise UserError(f"{run_dir} has no {CLASSES_FILE}; was the run finished?")
    class_names = json.loads(classes_file.read_text())
    _, height, width, channels = model.input_shape
    images = load_images(paths, (height, width), channels)
    probabilities = np.asarray(model.predict(images, verbose=0), dtype="float32")
    best = probabilities.argmax(axis=-1)
    return [
        (str(path), class_names[index], float(probabilities[row, index]))
        for row, (path, index) in enumerate(zip(paths, best, strict=True))
    ]
