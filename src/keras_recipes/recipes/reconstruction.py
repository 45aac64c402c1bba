"""What the autoencoder recipes share: the PCA baseline, errors, figures.

PCA with `k` components is the best linear code of size `k` for squared
error, so it is the yardstick for every autoencoder: a linear autoencoder
should match it and a non-linear one beat it. It is fitted on a fixed
sample of the training images, and the test errors are summed batch by
batch, so memory holds a sample and a batch, whatever the data's size.
"""

import itertools

import numpy as np
from sklearn.decomposition import PCA

from keras_recipes.data.image_stream import sample_indices
from keras_recipes.figures import plot_image_grid

EXAMPLES = 10  # images per row of the comparison figures
# Up to this many values (images x pixels) the PCA's SVD is exact and quick.
FULL_SVD_MAX_VALUES = 250_000


def fit_pca(train_images, components, seed=0, overwrite=False):
    """Fits PCA to flattened images in float32, with as many components as fit.

    The SVD is exact (`svd_solver="full"`) for up to `FULL_SVD_MAX_VALUES`
    values, which the embedded digits stay under. Above, the exact SVD's
    cost grows as images x pixels x min(images, pixels) (minutes for 5,000
    RGB images of 64x64), so the randomized solver (Halko et al.), seeded
    with `seed`, finds the leading components at a cost of images x pixels
    x components instead. On the digits the two give test errors within
    1e-5 (relative) of each other.

    Args:
        train_images: Array `[N, ...]` of training images. No default.
        components: Number of components wanted. No default.
        seed: Seed of the randomized solver. Defaults to `0`.
        overwrite: Let the fit centre a float32 `train_images` in place
            instead of in a copy, which saves the copy; the array is then
            no longer the images. Defaults to `False`.

    Returns:
        A fitted `sklearn.decomposition.PCA`; its `n_components_` is
        `min(components, N, pixels)` and its `n_samples_` is `N`.

    Example:

    ```python
    pca = fit_pca(x_train, components=8, seed=42)
    ```
    """
    flat = np.asarray(train_images, "float32").reshape(len(train_images), -1)
    count = min(int(components), *flat.shape)
    solver = "full" if flat.size <= FULL_SVD_MAX_VALUES else "randomized"
    pca = PCA(count, copy=not overwrite, svd_solver=solver, random_state=seed)
    return pca.fit(flat)


def fit_pca_on_sample(images, components, max_images, seed):
    """Fits PCA to a fixed sample of at most `max_images` images of a set.

    Only the sample is read, into one float32 array, so the fit costs the
    same for any larger set.

    Args:
        images: The training `ImageSet`. No default.
        components: Number of components wanted. No default.
        max_images: Most images to fit on. No default.
        seed: Seed of the sample and of the solver. No default.

    Returns:
        A fitted `sklearn.decomposition.PCA`; `n_samples_` is the number of
        images it was fitted on, `min(max_images, len(images))`.

    Example:

    ```python
    pca = fit_pca_on_sample(data.images.train, 8, max_images=5000, seed=42)
    ```
    """
    sample = images.read(sample_indices(len(images), max_images, seed))
    return fit_pca(sample, components, seed=seed, overwrite=True)


def pca_reconstruct(pca, images):
    """Projects images onto a fitted PCA's components and maps them back.

    Args:
        pca: A PCA from `fit_pca`. No default.
        images: Array `[N, ...]` of images, such as one batch. No default.

    Returns:
        Float32 reconstructions of the shape of `images`.

    Example:

    ```python
    reconstructions = pca_reconstruct(fit_pca(x_train, 8), x_test)
    ```
    """
    images = np.asarray(images, "float32")
    flat = images.reshape(len(images), -1)
    restored = pca.inverse_transform(pca.transform(flat))
    return restored.reshape(images.shape).astype("float32", copy=False)


class SquaredErrors:
    """Mean squared errors of several reconstructions, summed batch by batch.

    The sums are kept in float64, so the means equal those of the whole
    arrays, while only one batch is in memory at a time.

    Example:

    ```python
    errors = SquaredErrors()
    for images in test_batches:
        errors.add("model", reconstruct(images), images)
    errors.means()  # {"model": 0.0162}
    ```
    """

    def __init__(self):
        self.sums = {}
        self.counts = {}

    def add(self, name, reconstructions, images):
        """Adds one batch's squared differences to the sum called `name`.

        Args:
            name: Which error. No default.
            reconstructions: Array of the shape of `images`. No default.
            images: The batch of images. No default.
        """
        difference = np.asarray(reconstructions, "float64") - np.asarray(
            images, "float64"
        )
        self.sums[name] = self.sums.get(name, 0.0) + float(np.square(difference).sum())
        self.counts[name] = self.counts.get(name, 0) + difference.size

    def means(self):
        """Returns each error's mean over every value added.

        Returns:
            A `dict` of name to float.
        """
        return {name: self.sums[name] / self.counts[name] for name in self.sums}


class ExampleRows:
    """Keeps the rows at a few chosen positions of a test set as it streams by.

    Args:
        positions: Positions in the test set, in the order the rows are
            wanted. No default.

    Example:

    ```python
    rows = ExampleRows([4, 0, 9])
    for start, images in enumerate_batches(test_batches):
        rows.keep(start, original=images)
    rows.stacked("original")  # the images at 4, 0 and 9
    ```
    """

    def __init__(self, positions):
        self.positions = np.asarray(positions, dtype="int64")
        self.rows = {}

    def keep(self, start, **batches):
        """Keeps the chosen rows of batches that start at position `start`.

        Args:
            start: Position in the test set of the batches' first row.
                No default.
            **batches: Name to a batch (array) of rows. Defaults to none.
        """
        for name, batch in batches.items():
            batch = np.asarray(batch)
            inside = (self.positions >= start) & (self.positions < start + len(batch))
            kept = self.rows.setdefault(name, {})
            for position in self.positions[inside]:
                kept[int(position)] = batch[position - start]

    def stacked(self, name):
        """Returns the kept rows called `name`, in the order of `positions`.

        Args:
            name: A name given to `keep`. No default.

        Returns:
            An array with one row per position.
        """
        kept = self.rows[name]
        return np.stack([kept[int(position)] for position in self.positions])


def enumerate_batches(batches):
    """Yields each batch with the position of its first element.

    Args:
        batches: An iterable of batches: arrays, tensors, or tuples of them
            (the first sets the size). No default.

    Yields:
        `(start, batch)` pairs.

    Example:

    ```python
    for start, (inputs, targets) in enumerate_batches(data.test):
        ...
    ```
    """
    start = 0
    for batch in batches:
        yield start, batch
        first = batch[0] if isinstance(batch, tuple) else batch
        start += len(first)


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
    rest = (i for i in range(len(labels)) if i not in chosen)
    return chosen + list(itertools.islice(rest, count - len(chosen)))


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
