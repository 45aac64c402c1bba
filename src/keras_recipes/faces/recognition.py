"""Face recognition: a database of enrolled identities, and one-shot scores."""

import os
from pathlib import Path

import numpy as np

from keras_recipes.faces.verification import DISTANCES

UNKNOWN = "unknown"


class EnrollmentDatabase:
    """Names and precomputed embeddings of the enrolled identities.

    Embeddings are computed once, when a person is enrolled, and saved; at
    run time a new face is embedded and compared with the saved ones only,
    which is how a face recognition system stays fast with many people. An
    identity may be enrolled from a single image (one-shot learning: no
    retraining), or from several.

    Args:
        distance: `"squared_euclidean"` or `"euclidean"`, as the embedding
            was trained with. Defaults to `"squared_euclidean"`.
        threshold: Largest distance at which a face is recognised, or
            `None` to always name the nearest identity. Defaults to `None`.

    Example:

    ```python
    database = EnrollmentDatabase(threshold=1.0)
    database.enroll("ada", model.predict(ada_image[None]))
    database.save("enrolled.npz")
    EnrollmentDatabase.load("enrolled.npz").identify(model.predict(query))
    # [("ada", 0.31)]
    ```
    """

    def __init__(self, distance="squared_euclidean", threshold=None):
        if distance not in DISTANCES:
            raise ValueError(
                f"distance must be one of {DISTANCES}. Received: distance={distance}"
            )
        self.distance = distance
        self.threshold = None if threshold is None else float(threshold)
        self.names = np.zeros((0,), dtype=str)
        self.embeddings = None

    def __len__(self):
        return len(self.names)

    @property
    def identities(self):
        """The distinct enrolled names, sorted."""
        return sorted(set(self.names.tolist()))

    def enroll(self, name, embeddings):
        """Adds one or more embeddings of the identity `name`.

        Args:
            name: The identity's name; not `"unknown"`.
            embeddings: Array `[D]` (one image) or `[n, D]`.

        Returns:
            `self`, so calls chain.

        Example:

        ```python
        database.enroll("ada", embedding)
        ```
        """
        name = str(name)
        if not name or name == UNKNOWN:
            raise ValueError(
                f"name must be a non-empty string other than {UNKNOWN!r}. "
                f"Received: name={name!r}"
            )
        embeddings = np.atleast_2d(np.asarray(embeddings, dtype="float32"))
        if self.embeddings is None:
            self.embeddings = embeddings
        elif embeddings.shape[1] != self.embeddings.shape[1]:
            raise ValueError(
                f"embeddings must have {self.embeddings.shape[1]} dimensions like "
                f"the enrolled ones. Received: shape={embeddings.shape}"
            )
        else:
            self.embeddings = np.concatenate([self.embeddings, embeddings])
        self.names = np.concatenate([self.names, np.full(len(embeddings), name)])
        return self

    def forget(self, name):
        """Removes every embedding of the identity `name`.

        Args:
            name: The identity's name.

        Returns:
            The number of embeddings removed.

        Example:

        ```python
        database.forget("ada")
        ```
        """
        keep = self.names != str(name)
        removed = int(np.sum(~keep))
        if removed:
            self.names = self.names[keep]
            self.embeddings = self.embeddings[keep] if keep.any() else None
        return removed

    def nearest(self, embeddings):
        """Returns the nearest enrolled identity of each embedding.

        Args:
            embeddings: Array `[D]` or `[n, D]`.

        Returns:
            `(names, distances)`: arrays `[n]` of the nearest enrolled name
            and its distance.

        Example:

        ```python
        names, distances = database.nearest(query_embeddings)
        ```
        """
        if not len(self):
            raise ValueError("the database is empty; enroll identities first")
        queries = np.atleast_2d(np.asarray(embeddings, dtype="float64"))
        enrolled = self.embeddings.astype("float64")
        squared = (
            np.sum(queries**2, axis=1)[:, None]
            - 2.0 * queries @ enrolled.T
            + np.sum(enrolled**2, axis=1)[None, :]
        )
        squared = np.maximum(squared, 0.0)
        best = np.argmin(squared, axis=1)
        distances = squared[np.arange(len(queries)), best]
        if self.distance == "euclidean":
            distances = np.sqrt(distances)
        return self.names[best], distances

    def identify(self, embeddings, threshold=None):
        """Names each embedding, or `"unknown"` when nobody is near enough.

        Args:
            embeddings: Array `[D]` or `[n, D]`.
            threshold: Largest distance of a match. Defaults to `None`, which
                uses the database's own threshold (and with none, always
                names the nearest identity).

        Returns:
            A list of `(name, distance)`, `name` being `"unknown"` beyond the
            threshold.

        Example:

        ```python
        database.identify(model.predict(images), threshold=1.0)
        ```
        """
        threshold = self.threshold if threshold is None else threshold
        names, distances = self.nearest(embeddings)
        return [
            (str(name) if threshold is None or d <= threshold else UNKNOWN, float(d))
            for name, d in zip(names, distances, strict=True)
        ]

    def save(self, path):
        """Writes the database to an `.npz` file, atomically.

        Args:
            path: Destination file, ending in `.npz`.

        Returns:
            The `Path` written.

        Example:

        ```python
        database.save("runs/face_triplet/x/enrolled.npz")
        ```
        """
        path = Path(path)
        temp = path.with_name(f".{path.stem}.partial.npz")
        embeddings = self.embeddings if self.embeddings is not None else np.zeros((0,))
        np.savez(
            temp,
            names=self.names,
            embeddings=embeddings,
            distance=np.asarray(self.distance),
            threshold=np.asarray(np.nan if self.threshold is None else self.threshold),
        )
        os.replace(temp, path)
        return path

    @classmethod
    def load(cls, path):
        """Reads a database written by `save`.

        Args:
            path: The `.npz` file.

        Returns:
            An `EnrollmentDatabase`.

        Example:

        ```python
        database = EnrollmentDatabase.load("enrolled.npz")
        ```
        """
        with np.load(path, allow_pickle=False) as stored:
            threshold = float(stored["threshold"])
            database = cls(
                distance=str(stored["distance"]),
                threshold=None if np.isnan(threshold) else threshold,
            )
            if len(stored["names"]):
                database.names = stored["names"]
                database.embeddings = stored["embeddings"]
        return database


def enroll_one_per_identity(
    embeddings,
    labels,
    names,
    seed=0,
    distance="squared_euclidean",
    threshold=None,
):
    """Enrols one random image of every identity, as a one-shot gallery.

    Args:
        embeddings: Array `[N, D]`.
        labels: Integer identity of each item, `[N]`.
        names: Name of each identity, indexed by label.
        seed: Seed of the draws. Defaults to `0`.
        distance: `"squared_euclidean"` or `"euclidean"`. Defaults to
            `"squared_euclidean"`.
        threshold: Largest distance of a match, or `None`. Defaults to
            `None`.

    Returns:
        `(database, gallery)`: the `EnrollmentDatabase` and the int64 index
        of each enrolled item, one per identity in label order.

    Example:

    ```python
    database, gallery = enroll_one_per_identity(embeddings, labels, names)
    ```
    """
    labels = np.asarray(labels).reshape(-1)
    rng = np.random.default_rng(seed)
    gallery = np.asarray(
        [rng.choice(np.flatnonzero(labels == label)) for label in np.unique(labels)],
        dtype="int64",
    )
    database = _gallery_database(
        [names[label] for label in labels[gallery]],
        embeddings,
        gallery,
        distance,
        threshold,
    )
    return database, gallery


def _gallery_database(names, embeddings, gallery, distance, threshold=None):
    # One image per name, enrolled at once: enrolling them one by one
    # copies the growing gallery at every step.
    database = EnrollmentDatabase(distance, threshold)
    vectors = np.asarray(embeddings)
    database.embeddings = vectors[gallery].reshape(len(gallery), -1).astype("float32")
    database.names = np.asarray([str(name) for name in names])
    return database


def _draw_queries(queries, max_queries, rng):
    if max_queries is None or len(queries) <= max_queries:
        return queries
    return np.sort(rng.choice(queries, max_queries, replace=False))


def embed_images(model, images, batch_size=256):
    """Returns the embeddings of `images` as a NumPy array.

    Args:
        model: The embedding `keras.Model`.
        images: Array `[N, H, W, C]`, as the model takes them, or an
            `ImageSet` giving them out, read batch by batch.
        batch_size: Images per forward pass. Defaults to `256`.

    Returns:
        float32 array `[N, D]`.

    Example:

    ```python
    embeddings = embed_images(model, images)
    ```
    """
    if not len(images):
        return np.zeros((0, model.output_shape[-1]), dtype="float32")
    if hasattr(images, "batches"):  # an `ImageSet`: stream it
        images = images.batches(batch_size).prefetch(-1)
    return np.asarray(model.predict(images, batch_size=batch_size, verbose=0))


def _one_shot_split(labels, identities, rng):
    gallery = np.asarray(
        [rng.choice(np.flatnonzero(labels == i)) for i in identities], dtype="int64"
    )
    queries = np.setdiff1d(np.arange(len(labels)), gallery)
    return gallery, queries


def one_shot_accuracy(
    embeddings,
    labels,
    trials=10,
    seed=0,
    distance="squared_euclidean",
    max_queries=None,
):
    """Scores recognition with one enrolled image per identity.

    In each trial one random image of every identity is enrolled, and every
    other image (or `max_queries` of them, drawn at random) is named by its
    nearest enrolled image. Identities with a single image are enrolled but
    not queried.

    Args:
        embeddings: Array `[N, D]` (or raw images, flattened).
        labels: Identity of each item, `[N]`.
        trials: Random enrolments averaged. Defaults to `10`.
        seed: Seed of the enrolment draws. Defaults to `0`.
        distance: `"squared_euclidean"` or `"euclidean"`. Defaults to
            `"squared_euclidean"`.
        max_queries: Most queries of a trial, or `None` for all. With as
            many identities as images grow, all queries against all
            enrolled images would cost the square of the data. Defaults to
            `None`.

    Returns:
        The mean fraction of queries named right, a float in [0, 1].

    Example:

    ```python
    one_shot_accuracy(model.predict(images), labels)
    ```
    """
    embeddings = np.asarray(embeddings).reshape(len(labels), -1)
    labels = np.asarray(labels).reshape(-1)
    identities = np.unique(labels)
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(trials):
        gallery, queries = _one_shot_split(labels, identities, rng)
        queries = _draw_queries(queries, max_queries, rng)
        database = _gallery_database(labels[gallery], embeddings, gallery, distance)
        names, _ = database.nearest(embeddings[queries])
        scores.append(np.mean(names == labels[queries].astype(str)))
    return float(np.mean(scores))


def open_set_accuracy(
    embeddings,
    labels,
    threshold,
    trials=10,
    seed=0,
    enrolled_fraction=0.5,
    distance="squared_euclidean",
    max_queries=None,
):
    """Scores recognition when some people were never enrolled.

    In each trial a random `enrolled_fraction` of the identities is enrolled
    from one image each. A query of an enrolled identity is right when it is
    named correctly within `threshold`; a query of anybody else is right
    when it comes back `"unknown"`.

    Args:
        embeddings: Array `[N, D]`.
        labels: Identity of each item, `[N]`.
        threshold: Largest distance of a match.
        trials: Random enrolments averaged. Defaults to `10`.
        seed: Seed of the draws. Defaults to `0`.
        enrolled_fraction: Fraction of identities enrolled, in (0, 1).
            Defaults to `0.5`.
        distance: `"squared_euclidean"` or `"euclidean"`. Defaults to
            `"squared_euclidean"`.
        max_queries: Most queries of a trial, drawn at random, or `None`
            for all. Defaults to `None`.

    Returns:
        The mean fraction of queries answered right, a float in [0, 1].

    Example:

    ```python
    open_set_accuracy(embeddings, labels, threshold=1.0)
    ```
    """
    if not 0 < enrolled_fraction < 1:
        raise ValueError(
            f"enrolled_fraction must be in (0, 1). "
            f"Received: enrolled_fraction={enrolled_fraction}"
        )
    embeddings = np.asarray(embeddings).reshape(len(labels), -1)
    labels = np.asarray(labels).reshape(-1)
    identities = np.unique(labels)
    count = max(1, round(enrolled_fraction * len(identities)))
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(trials):
        enrolled = rng.choice(identities, count, replace=False)
        gallery, queries = _one_shot_split(labels, enrolled, rng)
        queries = _draw_queries(queries, max_queries, rng)
        database = _gallery_database(
            labels[gallery], embeddings, gallery, distance, threshold
        )
        answers = [name for name, _ in database.identify(embeddings[queries])]
        truth = [
            str(label) if label in enrolled else UNKNOWN for label in labels[queries]
        ]
        scores.append(np.mean(np.asarray(answers) == np.asarray(truth)))
    return float(np.mean(scores))
