"""scikit-learn's diabetes data as a small real regression set."""

from sklearn.datasets import load_diabetes as _sklearn_diabetes
from sklearn.model_selection import train_test_split

DIABETES_TEST_FRACTION = 0.2
DIABETES_SPLIT_SEED = 0


def load_diabetes():
    """Returns the 442 diabetes patients with a fixed test split.

    Ten baseline measurements (age, sex, body-mass index, blood pressure and
    six blood serum values) per patient; the target is a measure of disease
    progression one year later (25 to 346). The held-out fifth is the same
    for every config and seed.

    Returns:
        `((x_train, y_train), (x_test, y_test), feature_names)` with float32
        features `[N, 10]` (as scikit-learn scales them) and float32 targets
        `[N]`.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test), names = load_diabetes()
    x_train.shape  # (353, 10)
    ```
    """
    data = _sklearn_diabetes()
    x = data.data.astype("float32")
    y = data.target.astype("float32")
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=DIABETES_TEST_FRACTION, random_state=DIABETES_SPLIT_SEED
    )
    return (x_train, y_train), (x_test, y_test), list(data.feature_names)
