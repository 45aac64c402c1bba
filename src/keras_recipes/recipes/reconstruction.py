"""What the autoencoder recipes share: the PCA baseline, errors, figures.

PCA with `k` components is the best linear code of size `k` for squared
error, so it is the yardstick for every autoencoder: a linear autoencoder
should match it and a non-linear one beat it.
"""

import numpy as np
from sklearn.decomposition import PCA

from keras_recipes.figures import plot_image_grid

EXAMPLES = 10  # images per row of the comparison figures


def fit_pca(train_images, components):
    """Fits PCA to flattened images, with at most as many components as fit.

    Args:
        train_images: Array `[N, ...]` of training images. No default.
        components: Number of components wanted. No default.

    Returns:
        A fitted `sklearn.decomposition.PCA`; its `n_components_` is
        `min(components, N, pixels)`.

    Example:

    ```python
    pca = fit_pca(arrays.train, components=8)
    ```
    """
    flat = np.asarray(train_images, "float64").reshape(len(train_images), -1)
    count = min(int(components), *flat.shape)
    return PCA(n_components=count, svd_solver="full").fit(flat)


def pca_reconstruct(pca, images):
    """Projects images onto a fitted PCA's components and maps them back.

    Args:
        pca: A PCA from `fit_pca`. No default.
        images: Array `[N, ...]` of images. No default.

    Returns:
        Float32 reconstructions of the shape of `images`.

    Example:

    ```python
    reconstructions = pca_reconstruct(fit_pca(x_train, 8), x_test)
    ```
    """
    images = np.asarray(images, "float64")
    flat = images.reshape(len(images), -1)
    restored = pca.inverse_transform(pca.transform(flat))
    return restored.reshape(images.shape).astype("float32")


def mean_squared_error(a, b, axis=None):
    """Returns the mean squared difference of two arrays (per image if asked).

    Args:
        a: An array. No default.
        b: An array of the same shape. No default.
        axis: `None` for one number, or `"image"` for one per image.
            Defaults to `None`.

    Returns:
        A float, or a float array `[N]` for `axis="image"`.

    Example:

    ```python
    mean_squared_error(reconstructions, images)
    ```
    """
    squared = np.square(np.asarray(a, "float64") - np.asarray(b, "float64"))
    if axis == "image":
        return squared.reshape(len(squared), -1).mean(axis=1)
    return float(squared.mean())


def class_examples(labels, count=EXAMPLES):
    """Returns indices of `count` images, one per class first where possible.

    Args:
        labels: Int labels, `-1` for none. No default.
        count: How many indices. Defaults to `10`.

    Returns:
        A list of at most `count` indices into `labels`.

    Example:

    ```python
    class_examples(np.array([1, 1, 0, 2]), count=3)  # [2, 0, 3]
    ```
    """
    labels = np.asarray(labels)
    chosen = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels) if c >= 0]
    chosen = chosen[:count]
    rest = [i for i in range(len(labels)) if i not in chosen]
    return chosen + rest[: count - len(chosen)]


def plot_rows(rows, labels, path):
    """Draws equally long rows of images, one label per row.

    Args:
        rows: Arrays `[columns, height, width, channels]` in `[0, 1]`; values
            outside are clipped. No default.
        labels: One label per row. No default.
        path: PNG file to write. No default.

    Returns:
        `path`.

    Example:

    ```python
    plot_rows([images, reconstructions], ["original", "autoencoder"], "r.png")
    ```
    """
    columns = len(rows[0])
    grid = np.concatenate([np.clip(row, 0.0, 1.0) for row in rows])
    return plot_image_grid(grid, path, columns=columns, row_labels=labels)


def plot_examples(rows, labels, test_labels, path):
    """Draws the same few test images, one of each class first, in each row.

    Args:
        rows: Arrays `[N, height, width, channels]` in `[0, 1]` that follow
            the test set image for image: the test images themselves, and
            their reconstructions by a model or PCA. No default.
        labels: One label per row. No default.
        test_labels: Int labels of the test images, `-1` for none; they
            pick the columns with `class_examples`. No default.
        path: PNG file to write. No default.

    Returns:
        `path`.

    Example:

    ```python
    plot_examples([x_test, reconstructions], ["original", "model"], y_test, "r.png")
    ```
    """
    chosen = class_examples(test_labels)
    return plot_rows([np.asarray(row)[chosen] for row in rows], labels, path)
