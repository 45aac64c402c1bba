"""The tables the basics recipes learn from, standardised and batched."""

import dataclasses

import numpy as np
import tensorflow as tf

from keras_recipes.data.digits import load_digits
from keras_recipes.data.folds import holdout_split
from keras_recipes.training import Datasets


@dataclasses.dataclass
class TabularData(Datasets):
    """The `Datasets` of a table, with the arrays behind them.

    Attributes:
        train_size: Training examples, after the validation split and
            `data.train_examples`.
        train_arrays: `(features, targets)` of the training examples, scaled.
        test_arrays: `(features, targets)` of the test examples, scaled.
        scaling: The statistics that scaled them: `x_mean`, `x_std` (per
            feature, or scalars when `data.standardize` is off), and
            `y_mean`, `y_std` of a numeric target (`0` and `1` for classes).

    Example:

    ```python
    data = MLP().build_data()
    x_test, y_test = data.test_arrays
    ```
    """

    train_size: int = 0
    train_arrays: tuple = ()
    test_arrays: tuple = ()
    scaling: dict = dataclasses.field(default_factory=dict)


def digit_pixels():
    """Returns the 8x8 digits as rows of 64 pixel features in [0, 1].

    Returns:
        `((x_train, y_train), (x_test, y_test), class_names)`, with the fixed
        test split of `keras_recipes.data.digits.load_digits`.

    Example:

    ```python
    (x_train, y_train), _, class_names = digit_pixels()
    x_train.shape  # (1437, 64)
    ```
    """
    (x_train, y_train), (x_test, y_test), class_names = load_digits()
    flat = (x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1))
    return (flat[0] / 255.0, y_train), (flat[1] / 255.0, y_test), class_names


def tabular_data(arrays, config, classify):
    """Splits, standardises and batches a table into `TabularData`.

    The validation split honours cross-validation folds. Features are
    standardised with the statistics of the whole training part (before the
    validation split), and so is a numeric target, so that one learning
    rate suits every optimizer; those statistics do not depend on the seed
    or fold, so every run of a config scales the test set alike and their
    predictions can be averaged.

    Args:
        arrays: `((x_train, y_train), (x_test, y_test), names)`, features in
            rows; `names` are the class names (or the feature names of a
            regression, which the model does not use).
        config: The recipe's config; its `data`, `train` and `seed` are read.
        classify: Whether the targets are class labels (stratified split, no
            target scaling) rather than numbers.

    Returns:
        The `TabularData`.

    Example:

    ```python
    data = tabular_data(digit_pixels(), MLPConfig(), classify=True)
    data.train_size  # 1221
    ```
    """
    (x_train, y_train), (x_test, y_test), names = arrays
    (x_fit, y_fit), (x_val, y_val) = holdout_split(
        x_train, y_train, config.train.validation_split, config.seed, stratify=classify
    )
    limit = config.data.train_examples
    if limit is not None:
        x_fit, y_fit = x_fit[:limit], y_fit[:limit]
    scaling = _scaling(x_train, y_train, config.data.standardize, classify)
    train_arrays = _scaled(x_fit, y_fit, scaling)
    validation_arrays = _scaled(x_val, y_val, scaling)
    test_arrays = _scaled(x_test, y_test, scaling)
    batch_size = config.train.batch_size
    train = tf.data.Dataset.from_tensor_slices(train_arrays).shuffle(
        min(len(x_fit), config.data.shuffle_buffer), seed=config.seed
    )
    return TabularData(
        train=train.batch(batch_size).prefetch(tf.data.AUTOTUNE),
        validation=None
        if validation_arrays is None
        else tf.data.Dataset.from_tensor_slices(validation_arrays).batch(batch_size),
        test=tf.data.Dataset.from_tensor_slices(test_arrays).batch(batch_size),
        steps_per_epoch=config.train.steps_per_epoch or -(-len(x_fit) // batch_size),
        input_shape=(x_fit.shape[1],),
        class_names=list(names) if classify else [],
        train_size=len(x_fit),
        train_arrays=train_arrays,
        test_arrays=test_arrays,
        scaling=scaling,
    )


def _scaling(x, y, standardize, classify):
    """Returns the statistics that standardise features (and a numeric target)."""
    scaling = {"x_mean": 0.0, "x_std": 1.0, "y_mean": 0.0, "y_std": 1.0}
    if standardize:
        std = x.std(axis=0)
        scaling["x_mean"] = x.mean(axis=0)
        scaling["x_std"] = np.where(std > 1e-8, std, 1.0)  # constant pixels
    if not classify:
        scaling["y_mean"], scaling["y_std"] = float(y.mean()), float(y.std())
    return scaling


def _scaled(x, y, scaling):
    if x is None:
        return None
    x = ((x - scaling["x_mean"]) / scaling["x_std"]).astype("float32")
    if np.issubdtype(y.dtype, np.floating):
        y = ((y - scaling["y_mean"]) / scaling["y_std"]).astype("float32")
    return x, y
