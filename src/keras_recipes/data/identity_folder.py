"""Images of people (or any identities): one subfolder per identity.

The layout of LFW (`lfw/George_W_Bush/George_W_Bush_0001.jpg`): each
subfolder is one identity, named by the folder, and holds its images.
"""

import numpy as np

from keras_recipes.data.image_folder import load_images, scan_class_folder
from keras_recipes.errors import DataError


def scan_identity_folder(directory, min_images_per_identity=1, skipped=None):
    """Lists a folder of identity subfolders: image files, identities, names.

    Args:
        directory: Folder with one subfolder of images per identity.
        min_images_per_identity: Identities with fewer images are left out
            (LFW has thousands of people with one image). Defaults to `1`.
        skipped: A `SkippedFiles` recording the hidden, system and (if it
            allows) unreadable files left out. Defaults to `None`.

    Returns:
        `(paths, labels, names)`: the checked image files, int32 labels
        `[N]` indexing `names`, the identity names.

    Example:

    ```python
    paths, labels, names = scan_identity_folder("lfw", 10)
    ```
    """
    found, files = scan_class_folder(directory, skipped=skipped)
    labels = np.asarray([label for _, label in files], dtype="int64")
    counts = np.bincount(labels, minlength=len(found))
    kept = np.flatnonzero(counts >= min_images_per_identity)
    if len(kept) < 2:
        raise DataError(
            f"{directory} has {len(kept)} identities with at least "
            f"{min_images_per_identity} images; at least 2 are needed (lower "
            f"data.min_images_per_identity or add images)"
        )
    new_label = {old: new for new, old in enumerate(kept)}
    paths = [path for path, label in files if label in new_label]
    labels = np.asarray(
        [new_label[label] for _, label in files if label in new_label], dtype="int32"
    )
    return paths, labels, [found[i] for i in kept]


def load_identity_folder(
    directory, image_size, channels, min_images_per_identity=1, skipped=None
):
    """Loads a folder of identity subfolders into memory, checked and resized.

    Args:
        directory: Folder with one subfolder of images per identity.
        image_size: `(height, width)` the images are resized to.
        channels: 1 for grayscale, 3 for RGB.
        min_images_per_identity: Identities with fewer images are left out.
            Defaults to `1`.
        skipped: A `SkippedFiles` recording the files left out. Defaults to
            `None`.

    Returns:
        `(images, labels, names)`: uint8 `[N, height, width, channels]`,
        int32 labels `[N]` indexing `names`, the identity names.

    Example:

    ```python
    images, labels, names = load_identity_folder("lfw", (64, 64), 1, 10)
    ```
    """
    paths, labels, names = scan_identity_folder(
        directory, min_images_per_identity, skipped
    )
    images = load_images(paths, tuple(image_size), channels, dtype="uint8")
    return images, labels, names


def split_identities(labels, unseen_fraction=0.3, unseen=(), names=None, seed=0):
    """Splits identities into seen (trained on) and unseen ones.

    Args:
        labels: Identity of each image, `[N]`.
        unseen_fraction: Fraction of the identities held out, drawn at
            random, when `unseen` is empty. Defaults to `0.3`.
        unseen: Names (or labels, without `names`) of the identities to hold
            out. Defaults to `()`.
        names: Name of each label, to look `unseen` up. Defaults to `None`.
        seed: Seed of the draw. Defaults to `0`.

    Returns:
        `(seen, unseen)`: sorted arrays of labels.

    Example:

    ```python
    seen, unseen = split_identities(labels, unseen=["7", "8", "9"], names=names)
    ```
    """
    identities = np.unique(np.asarray(labels))
    if len(unseen):
        lookup = {str(n): i for i, n in enumerate(names)} if names else None
        held = []
        for name in unseen:
            key = str(name)
            label = lookup.get(key) if lookup is not None else int(name)
            if label is None or label not in identities:
                known = ", ".join(map(str, names if names else identities))
                raise DataError(
                    f"unseen identity '{key}' is not in the data (known: {known})"
                )
            held.append(label)
        held = np.unique(held)
    else:
        count = int(round(unseen_fraction * len(identities)))
        rng = np.random.default_rng(seed)
        held = np.sort(rng.choice(identities, count, replace=False))
    seen = np.setdiff1d(identities, held)
    if len(seen) < 2 or len(held) < 2:
        raise DataError(
            f"{len(seen)} seen and {len(held)} unseen identities; each side "
            f"needs at least 2 (change data.unseen_identities or "
            f"data.unseen_fraction)"
        )
    return seen, held


def split_images(labels, fractions, seed=0):
    """Splits each identity's images at random into parts of given sizes.

    Args:
        labels: Identity of each image, `[N]`.
        fractions: Fraction of each identity's images for every part after
            the first, e.g. `(0.15, 0.2)` for validation and test; the first
            part keeps the rest. Each part gets the fraction rounded down, so
            an identity with few images stays in the first part.
        seed: Seed of the shuffles. Defaults to `0`.

    Returns:
        A list of `len(fractions) + 1` sorted index arrays.

    Example:

    ```python
    train, validation, test = split_images(labels, (0.15, 0.2))
    ```
    """
    labels = np.asarray(labels).reshape(-1)
    if sum(fractions) >= 1 or min(fractions, default=0) < 0:
        raise ValueError(
            f"fractions must be non-negative and sum below 1. Received: {fractions}"
        )
    rng = np.random.default_rng(seed)
    parts = [[] for _ in range(len(fractions) + 1)]
    for identity in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == identity))
        start = 0
        for part, fraction in enumerate(fractions, start=1):
            size = int(np.floor(fraction * len(members)))
            parts[part].append(members[start : start + size])
            start += size
        parts[0].append(members[start:])
    return [np.sort(np.concatenate(p)).astype("int64") for p in parts]
