"""scikit-learn's handwritten digits as an image classification set."""

import numpy as np
from sklearn.datasets import load_digits as _sklearn_digits
from sklearn.model_selection import train_test_split

from keras_recipes.data.folds import active_fold

DIGITS_TEST_FRACTION = 0.2
DIGITS_SPLIT_SEED = 0


def load_digits():
    """Returns the 1,797 real 8x8 handwritten digits with a fixed test split.

    The pixels, 0 to 16 in the original, are scaled to 0 to 255 so the digits
    look like any other 8-bit grayscale image to a model. The held-out test
    split is stratified, one fifth of the set, and the same for every config
    and seed, so test accuracies are comparable across runs.

    Returns:
        `((x_train, y_train), (x_test, y_test), class_names)` with images of
        shape `[N, 8, 8, 1]`, float32, labels int32 0-9, and class names
        `"0"` to `"9"`.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test), names = load_digits()
    x_train.shape  # (1437, 8, 8, 1)
    ```
    """
    digits = _sklearn_digits()
    images = (digits.images * (255.0 / 16.0)).astype("float32")[..., None]
    labels = digits.target.astype("int32")
    x_train, x_test, y_train, y_test = train_test_split(
        images,
        labels,
        test_size=DIGITS_TEST_FRACTION,
        random_state=DIGITS_SPLIT_SEED,
        stratify=labels,
    )
    class_names = [str(i) for i in range(10)]
    return (x_train, y_train), (x_test, y_test), class_names


def split_validation(x, y, fraction, seed):
    """Splits arrays into training and validation parts, stratified by label.

    Inside `keras_recipes.data.folds.validation_fold(k, K)` (cross-validation)
    the split is fold `k` of a stratified K-fold partition instead.

    Args:
        x: Inputs, first axis the examples.
        y: Integer labels.
        fraction: Fraction for validation, in [0, 1). `0` gives no validation.
        seed: Seed of the split.

    Returns:
        `((x_train, y_train), (x_val, y_val))`; the validation pair is
        `(None, None)` when `fraction` is 0.

    Example:

    ```python
    (x_tr, y_tr), (x_va, y_va) = split_validation(x, y, 0.2, seed=42)
    ```
    """
    if active_fold() is not None:
        return active_fold().split(x, y)
    if fraction <= 0:
        return (x, y), (None, None)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=fraction, random_state=seed, stratify=y
    )
    return (x_train, y_train), (x_val, y_val)


def class_counts(labels, num_classes):
    """Returns how many examples each class has.

    Args:
        labels: Integer labels.
        num_classes: Number of classes.

    Returns:
        An int array of length `num_classes`.

    Example:

    ```python
    class_counts([0, 1, 1], 3)  # array([1, 2, 0])
    ```
    """
    return np.bincount(np.asarray(labels, dtype="int64"), minlength=num_classes)
