"""Features of a frozen base, computed once and cached on disk.

Running a large frozen base over every image is the slow part of training a
top model on bottleneck features, and its result never changes while nothing
that goes into it changes. So the features are stored in a `.npz` file whose
name is a digest of a key naming everything they depend on: the base and
its weights (a content hash for a local file), the input size, the
preprocessing, the cut layer and the data (its files' paths, sizes and
modification times, or their content hashes). The key is stored inside the
file as well and compared on every read, so a changed key never reads a
stale entry. Files are written to a temporary name and renamed into place,
so an interrupted extraction leaves no half-written entry.
"""

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import keras
import numpy as np

CACHE_FORMAT = 1
FINGERPRINT_MODES = ("stat", "content")
_KEY_ENTRY = "__key__"
_CHUNK = 1 << 20


def _sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_fingerprint(paths, mode="stat"):
    """Returns a digest of a list of files that changes when any of them does.

    Args:
        paths: The files, in a fixed order.
        mode: `"stat"` hashes each absolute path with its size and
            modification time (fast: no file is read); `"content"` hashes
            each path with the SHA-256 of its bytes (survives `touch` and
            copies that keep the bytes). Defaults to `"stat"`.

    Returns:
        A hex SHA-256 string.

    Example:

    ```python
    file_fingerprint(sorted(Path("data/train").rglob("*.jpg")))
    ```
    """
    if mode not in FINGERPRINT_MODES:
        raise ValueError(
            f"mode must be one of {FINGERPRINT_MODES}. Received: mode={mode}"
        )
    digest = hashlib.sha256()
    for path in paths:
        path = Path(path).resolve()
        if mode == "stat":
            stat = path.stat()
            entry = f"{path}\t{stat.st_size}\t{stat.st_mtime_ns}\n"
        else:
            entry = f"{path}\t{_sha256_file(path)}\n"
        digest.update(entry.encode())
    return digest.hexdigest()


def array_fingerprint(*arrays):
    """Returns a digest of arrays' dtypes, shapes and values.

    Args:
        *arrays: NumPy arrays (or array-likes).

    Returns:
        A hex SHA-256 string.

    Example:

    ```python
    array_fingerprint(x_train, y_train)
    ```
    """
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def weights_fingerprint(weights):
    """Returns the cache-key entry of a weights setting.

    Args:
        weights: `"imagenet"`, `None`, or the path of a local file.

    Returns:
        `"imagenet"`, `None`, or `"sha256:<hex>"` of the local file's bytes,
        so a retrained file at the same path gives a new key.

    Example:

    ```python
    weights_fingerprint("my_base.weights.h5")  # 'sha256:9f86d0...'
    ```
    """
    if weights is None or weights == "imagenet":
        return weights
    return f"sha256:{_sha256_file(Path(weights).expanduser())}"


def key_digest(key):
    """Returns the digest that names a key's cache file.

    Args:
        key: A JSON-serialisable mapping.

    Returns:
        The first 24 hex digits of the SHA-256 of the key's canonical JSON.

    Example:

    ```python
    key_digest({"base": "VGG16", "input_size": [150, 150]})
    ```
    """
    text = json.dumps(key, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class FeatureCache:
    """A folder of cached feature arrays, one `.npz` file per key.

    Args:
        directory: The cache folder; created on the first write.
        verbose: Print a line for each hit and each miss. Defaults to `True`.

    Example:

    ```python
    cache = FeatureCache("runs/feature_cache")
    arrays, hit = cache.get_or_extract(key, lambda: {"features": f(x)}, "train")
    ```
    """

    def __init__(self, directory, verbose=True):
        self.directory = Path(directory).expanduser()
        self.verbose = verbose

    def path(self, key, name="features"):
        """Returns the file that holds the entry of `key`.

        Args:
            key: A JSON-serialisable mapping.
            name: Readable prefix of the file name. Defaults to `"features"`.

        Returns:
            A `Path` in the cache folder.

        Example:

        ```python
        cache.path({"base": "VGG16"}, "vgg16-train")
        ```
        """
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        return self.directory / f"{safe}-{key_digest(key)}.npz"

    def load(self, key, name="features"):
        """Returns the arrays stored for `key`, or `None` when there are none.

        An entry whose stored key differs from `key`, or that cannot be
        read, counts as missing.

        Args:
            key: A JSON-serialisable mapping.
            name: Readable prefix of the file name. Defaults to `"features"`.

        Returns:
            A `dict` of name to array, or `None`.

        Example:

        ```python
        arrays = cache.load(key, "vgg16-train")
        ```
        """
        path = self.path(key, name)
        if not path.is_file():
            return None
        wanted = json.dumps({**key, "format": CACHE_FORMAT}, sort_keys=True)
        try:
            with np.load(path, allow_pickle=False) as stored:
                if _KEY_ENTRY not in stored or str(stored[_KEY_ENTRY]) != wanted:
                    self._say(f"feature cache: {path.name} has another key; ignored")
                    return None
                return {n: stored[n] for n in stored.files if n != _KEY_ENTRY}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile):
            self._say(f"feature cache: {path.name} is unreadable; ignored")
            return None

    def save(self, key, arrays, name="features"):
        """Stores arrays under `key`, atomically.

        Args:
            key: A JSON-serialisable mapping.
            arrays: A `dict` of name to array.
            name: Readable prefix of the file name. Defaults to `"features"`.

        Returns:
            The `Path` written.

        Example:

        ```python
        cache.save(key, {"features": features, "labels": labels}, "train")
        ```
        """
        if _KEY_ENTRY in arrays:
            raise ValueError(f"'{_KEY_ENTRY}' is reserved. Received: {list(arrays)}")
        path = self.path(key, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        stored = json.dumps({**key, "format": CACHE_FORMAT}, sort_keys=True)
        handle, temp = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.stem}.", suffix=".partial"
        )
        try:
            with os.fdopen(handle, "wb") as file:
                np.savez(file, **{_KEY_ENTRY: np.array(stored)}, **arrays)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return path

    def get_or_extract(self, key, extract, name="features"):
        """Returns the cached arrays of `key`, extracting and storing them once.

        Args:
            key: A JSON-serialisable mapping of everything that changes the
                arrays.
            extract: A function of no arguments returning a `dict` of arrays;
                called only on a miss.
            name: Readable prefix of the file name. Defaults to `"features"`.

        Returns:
            `(arrays, hit)`: the `dict` of arrays, and whether it came from
            the cache.

        Example:

        ```python
        arrays, hit = cache.get_or_extract(key, extract, "vgg16-train")
        ```
        """
        arrays = self.load(key, name)
        path = self.path(key, name)
        if arrays is not None:
            self._say(f"feature cache hit: {name} from {path}")
            return arrays, True
        self._say(f"feature cache miss: extracting {name} into {path}")
        arrays = extract()
        self.save(key, arrays, name)
        return arrays, False

    def _say(self, text):
        if self.verbose:
            print(text, flush=True)


def extract_features(model, dataset, verbose=1):
    """Runs `model` over a batched dataset, showing a progress bar.

    Args:
        model: The feature extractor (e.g. a frozen base with its
            preprocessing), called in inference mode.
        dataset: A batched `tf.data.Dataset` of `(images, labels)`.
        verbose: 1 shows a `keras.utils.Progbar`, 0 nothing. Defaults to `1`.

    Returns:
        `(features, labels)` as NumPy arrays, in the dataset's order.

    Example:

    ```python
    features, labels = extract_features(base, images.batch(32))
    ```
    """
    steps = int(dataset.cardinality())
    progress = keras.utils.Progbar(
        steps if steps > 0 else None, verbose=verbose, unit_name="batch"
    )
    features, labels = [], []
    for step, (images, batch_labels) in enumerate(dataset, start=1):
        # float32 whatever the dtype policy, so the cache reads back anywhere.
        features.append(np.asarray(model.predict_on_batch(images), "float32"))
        labels.append(np.asarray(batch_labels))
        progress.update(step)
    if not features:
        raise ValueError("dataset is empty. Received: an empty dataset")
    return np.concatenate(features), np.concatenate(labels)
