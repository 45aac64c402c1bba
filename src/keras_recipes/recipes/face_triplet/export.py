"""What a `face_triplet` run keeps: threshold, enrolment, projector files."""

import numpy as np

from keras_recipes import faces
from keras_recipes.faces.commands import DATABASE
from keras_recipes.saving import write_json_atomic


def write_verification(run_dir, evaluation, distance):
    """Writes `verification.json` and the unseen identities' `enrolled.npz`.

    The `verify` command reads the threshold and distance back, and
    `identify` names faces against the enrolment database.

    Args:
        run_dir: The run directory.
        evaluation: The run's `FaceEvaluation`.
        distance: The distance the embedding was trained with.

    Returns:
        `None`.

    Example:

    ```python
    write_verification(run_dir, evaluation, "squared_euclidean")
    ```
    """
    write_json_atomic(
        run_dir / "verification.json",
        {"threshold": evaluation.threshold, "distance": distance},
    )
    evaluation.database.save(run_dir / DATABASE)


def write_projector_points(log_dir, data, evaluation, limit, seed):
    """Writes held-out embeddings, seen and unseen, for TensorBoard's projector.

    Args:
        log_dir: The run's TensorBoard folder.
        data: The run's `FaceDatasets`.
        evaluation: The run's `FaceEvaluation`.
        limit: Most embeddings written, half from each part; `0` writes
            none.
        seed: Seed of the draw of which ones.

    Returns:
        `None`.

    Example:

    ```python
    write_projector_points(run_dir / "logs", data, evaluation, 2000, 42)
    ```
    """
    if not limit:
        return
    parts = [("seen_test", data.class_names), ("unseen", data.unseen_names)]
    rng = np.random.default_rng(seed)
    vectors, images, identity, source = [], [], [], []
    for name, names in parts:
        split_images, split_labels = data.splits[name]
        keep = np.sort(rng.permutation(len(split_labels))[: limit // len(parts)])
        vectors.append(evaluation.embeddings[name][keep])
        images.append(split_images[keep])
        identity += [names[label] for label in split_labels[keep]]
        source += [name] * len(keep)
    faces.write_projector(
        log_dir,
        np.concatenate(vectors),
        {"identity": identity, "split": source},
        np.concatenate(images),
    )
