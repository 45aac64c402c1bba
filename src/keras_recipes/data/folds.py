"""K-fold validation splits, and the scope that hands one fold to a recipe.

Cross-validation trains a recipe K times, each time holding out a different
fold of its training data for validation. A recipe needs no code for this:
its data step splits validation data with `split_validation` (or
`holdout_split`), and inside `validation_fold(k, K)` that split returns fold
`k` of a K-fold partition instead of a random fraction.
"""

import contextlib
import contextvars
import dataclasses

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

_ACTIVE_FOLD = contextvars.ContextVar("keras_recipes_active_fold", default=None)


def _is_class_labels(y, count):
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        return False
    return np.bincount(y - y.min()).min(initial=count) >= count


def kfold_split(x, y, index, count, seed=0, stratify=None):
    """Returns fold `index` of a shuffled K-fold partition as validation data.

    Args:
        x: Inputs, first axis the examples.
        y: Targets.
        index: The fold held out, from 0 to `count - 1`.
        count: Number of folds K, at least 2.
        seed: Seed of the shuffle that assigns examples to folds; the same
            seed gives the same partition for every `index`. Defaults to `0`.
        stratify: Keep the class proportions in every fold; `None` does so
            when `y` holds integer class labels with at least `count`
            examples per class. Defaults to `None`.

    Returns:
        `((x_train, y_train), (x_val, y_val))`.

    Example:

    ```python
    (x_tr, y_tr), (x_va, y_va) = kfold_split(x, y, index=0, count=5)
    ```
    """
    if count < 2:
        raise ValueError(f"count must be at least 2. Received: count={count}")
    if not 0 <= index < count:
        raise ValueError(
            f"index must be in [0, {count}). Received: index={index}, count={count}"
        )
    if len(x) < count:
        raise ValueError(
            f"cannot make {count} folds of {len(x)} examples. Received: count={count}"
        )
    if stratify is None:
        stratify = _is_class_labels(y, count)
    splitter = (StratifiedKFold if stratify else KFold)(
        n_splits=count, shuffle=True, random_state=seed
    )
    train, validation = list(splitter.split(np.zeros(len(x)), y))[index]
    return (x[train], y[train]), (x[validation], y[validation])


@dataclasses.dataclass
class Fold:
    """The fold a `validation_fold` scope hands out.

    Attributes:
        index: The fold held out for validation, from 0.
        count: Number of folds K.
        seed: Seed of the partition.
        uses: How many splits were made with this fold so far; zero after a
            run means the recipe never asked for a validation split.
    """

    index: int
    count: int
    seed: int = 0
    uses: int = 0

    def split(self, x, y, stratify=None):
        """Returns `((x_train, y_train), (x_val, y_val))` for this fold.

        Args:
            x: Inputs.
            y: Targets.
            stratify: As in `kfold_split`. Defaults to `None`.

        Returns:
            The two pairs.
        """
        self.uses += 1
        return kfold_split(x, y, self.index, self.count, self.seed, stratify)


@contextlib.contextmanager
def validation_fold(index, count, seed=0):
    """Makes validation splits inside the scope return one K-fold fold.

    Args:
        index: The fold held out, from 0 to `count - 1`.
        count: Number of folds K.
        seed: Seed of the partition. Defaults to `0`.

    Yields:
        The active `Fold`.

    Example:

    ```python
    with validation_fold(2, 5) as fold:
        result = keras_recipes.run("small_data_classifier")
    assert fold.uses > 0
    ```
    """
    fold = Fold(index, count, seed)
    token = _ACTIVE_FOLD.set(fold)
    try:
        yield fold
    finally:
        _ACTIVE_FOLD.reset(token)


def active_fold():
    """Returns the `Fold` of the enclosing `validation_fold` scope, or `None`.

    Returns:
        A `Fold` or `None`.

    Example:

    ```python
    active_fold()  # None outside cross-validation
    ```
    """
    return _ACTIVE_FOLD.get()


def holdout_split(x, y, fraction, seed, stratify=True):
    """Splits off a validation fraction, or the active cross-validation fold.

    Args:
        x: Inputs, first axis the examples.
        y: Targets.
        fraction: Fraction for validation, in [0, 1); `0` gives none.
        seed: Seed of the split.
        stratify: Keep class proportions (for class labels). Defaults to
            `True`.

    Returns:
        `((x_train, y_train), (x_val, y_val))`; the validation pair is
        `(None, None)` when `fraction` is 0 and no fold is active.

    Example:

    ```python
    (x_tr, y_tr), (x_va, y_va) = holdout_split(x, y, 0.2, seed=0, stratify=False)
    ```
    """
    fold = active_fold()
    if fold is not None:
        return fold.split(x, y, stratify=stratify)
    if fraction <= 0:
        return (x, y), (None, None)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=fraction, random_state=seed, stratify=y if stratify else None
    )
    return (x_train, y_train), (x_val, y_val)
