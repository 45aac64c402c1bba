"""Enrolment, identification and verification of image files on a finished run.

The library side of the `enroll`, `identify` and `verify` commands: they read
the threshold and distance a `face_triplet` run chose (`verification.json`) and
its enrolment database (`enrolled.npz`).
"""

import json
from pathlib import Path

import numpy as np

from keras_recipes.data.image_files import IMAGE_EXTENSIONS
from keras_recipes.data.image_folder import load_images
from keras_recipes.errors import DataError, UserError
from keras_recipes.faces.recognition import EnrollmentDatabase, embed_images

DATABASE = "enrolled.npz"


def read_verification(run_dir):
    """Returns the threshold and distance a `face_triplet` run chose.

    Args:
        run_dir: A finished run directory.

    Returns:
        A `dict` with `threshold` and `distance`.

    Example:

    ```python
    read_verification("runs/face_triplet/20260101-000000")["threshold"]
    ```
    """
    path = Path(run_dir) / "verification.json"
    if not path.is_file():
        raise UserError(
            f"{run_dir} has no verification.json; give a finished face_triplet run"
        )
    return json.loads(path.read_text())


def model_images(model, paths):
    """Loads image files at the size and channels `model` takes.

    Args:
        model: A model with one image input.
        paths: Image files.

    Returns:
        float32 array `[N, H, W, C]` in [0, 255].

    Example:

    ```python
    images = model_images(model, ["face.jpg"])
    ```
    """
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        raise DataError(f"image file not found: {missing[0]}")
    _, height, width, channels = model.input_shape
    return load_images([Path(p) for p in paths], (height, width), channels)


def enrollment_files(folder):
    """Lists the images of a folder to enrol, with the name of each.

    A subfolder is one identity named after it, holding one or more images;
    an image file directly in `folder` is one identity named after the file
    (one-shot enrolment from a single photo).

    Args:
        folder: The folder.

    Returns:
        A list of `(name, path)`, sorted.

    Example:

    ```python
    enrollment_files("people")  # [("ada", Path("people/ada.jpg")), ...]
    ```
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"enrolment folder not found: {folder}")
    files = []
    for entry in sorted(folder.iterdir()):
        if entry.is_dir():
            images = sorted(
                p
                for p in entry.rglob("*")
                if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
            )
            files += [(entry.name, path) for path in images]
        elif entry.suffix.lower() in IMAGE_EXTENSIONS:
            files.append((entry.stem, entry))
    if not files:
        raise DataError(
            f"no images in {folder}; put one subfolder of images per person, "
            f"or one image per person named after them"
        )
    return files


def _load_database(path, verification):
    if path.is_file():
        return EnrollmentDatabase.load(path)
    return EnrollmentDatabase(verification["distance"], verification["threshold"])


def enroll_folder(run_dir, model, folder, database_path=None):
    """Embeds a folder of people and adds them to the run's database.

    A name already enrolled is replaced by the new images.

    Args:
        run_dir: A finished `face_triplet` run.
        model: Its embedding model.
        folder: See `enrollment_files`.
        database_path: The database file. Defaults to `None`, which means
            `RUN_DIR/enrolled.npz`.

    Returns:
        `(database, counts)`: the saved `EnrollmentDatabase` and a `dict` of
        name to number of images enrolled.

    Example:

    ```python
    database, counts = enroll_folder(run_dir, model, "people")
    ```
    """
    path = Path(database_path or Path(run_dir) / DATABASE)
    database = _load_database(path, read_verification(run_dir))
    files = enrollment_files(folder)
    embeddings = embed_images(model, model_images(model, [p for _, p in files]))
    names = np.asarray([name for name, _ in files])
    counts = {}
    for name in dict.fromkeys(names.tolist()):
        database.forget(name)
        database.enroll(name, embeddings[names == name])
        counts[name] = int(np.sum(names == name))
    database.save(path)
    return database, counts


def identify_files(run_dir, model, paths, database_path=None):
    """Names the person in each image, or `"unknown"`.

    Args:
        run_dir: A finished `face_triplet` run.
        model: Its embedding model.
        paths: Image files.
        database_path: The database file. Defaults to `None`, which means
            `RUN_DIR/enrolled.npz`.

    Returns:
        A list of `(path, name, distance)`.

    Example:

    ```python
    identify_files(run_dir, model, ["query.png"])  # [("query.png", "ada", 0.3)]
    ```
    """
    path = Path(database_path or Path(run_dir) / DATABASE)
    if not path.is_file():
        raise UserError(
            f"no enrolment database at {path}; enrol people first with "
            f"`python -m keras_recipes enroll {run_dir} FOLDER`"
        )
    database = EnrollmentDatabase.load(path)
    if not len(database):
        raise UserError(f"the enrolment database {path} is empty")
    embeddings = embed_images(model, model_images(model, paths))
    answers = database.identify(embeddings)
    return [
        (str(p), name, distance)
        for p, (name, distance) in zip(paths, answers, strict=True)
    ]


def verify_files(run_dir, model, first, second):
    """Decides whether two images show the same person.

    Args:
        run_dir: A finished `face_triplet` run (for its threshold).
        model: Its embedding model.
        first: The first image file.
        second: The second image file.

    Returns:
        `(same, distance, threshold)`.

    Example:

    ```python
    same, distance, threshold = verify_files(run_dir, model, "a.png", "b.png")
    ```
    """
    verification = read_verification(run_dir)
    embeddings = embed_images(model, model_images(model, [first, second]))
    squared = float(np.sum((embeddings[0] - embeddings[1]) ** 2))
    distance = (
        squared if verification["distance"] == "squared_euclidean" else squared**0.5
    )
    threshold = float(verification["threshold"])
    return distance <= threshold, distance, threshold
