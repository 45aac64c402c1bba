"""Verification and one-shot recognition scores of a `face_triplet` model."""

import dataclasses

import numpy as np

from keras_recipes import faces
from keras_recipes.training import Evaluation


@dataclasses.dataclass
class FaceEvaluation(Evaluation):
    """What `FaceTriplet.evaluate` measured, for export and figures.

    Attributes:
        metrics: Metric name to value, for `metrics.json`.
        threshold: The distance threshold chosen on the validation pairs.
        embeddings: Split name to the embeddings of its images, `[N, D]`.
        scores: `"seen"`, `"unseen"` and `"unseen_pixel"` to the
            `(distances, same)` of their pairs (the last on raw pixels).
        database: The unseen identities enrolled from one image each, with
            `threshold`: what the run saves as `enrolled.npz`.
        gallery: Index among the unseen images of each enrolled image, one
            per unseen identity in label order.

    Example:

    ```python
    evaluation = recipe.evaluate(model, data)
    distances, same = evaluation.scores["unseen"]
    evaluation.database.identify(evaluation.embeddings["unseen"][:5])
    ```
    """

    threshold: float = 0.0
    embeddings: dict = dataclasses.field(default_factory=dict)
    scores: dict = dataclasses.field(default_factory=dict)
    database: faces.EnrollmentDatabase | None = None
    gallery: np.ndarray | None = None


def evaluate_embedding(model, data, config):
    """Scores verification and one-shot recognition of an embedding model.

    The threshold is the one that classifies the most validation pairs
    right. With it, pairs of held-out images of the training identities
    (`seen_*`) and pairs of unseen identities (`unseen_*`) are scored as
    facenet reports them, raw pixels give the baseline (`unseen_pixel_*`),
    and the unseen identities are recognised from one enrolled image each,
    with everybody enrolled (`one_shot`) or half of them (`open_set`).

    Args:
        model: The trained embedding model.
        data: The `FaceDatasets` of the run.
        config: The `FaceTripletConfig` of the run.

    Returns:
        A `FaceEvaluation`.

    Example:

    ```python
    evaluation = evaluate_embedding(model, data, config)
    evaluation.metrics["unseen_auc"]
    ```
    """
    distance, seed = config.loss.distance, config.seed
    verification = config.verification
    splits, pairs = data.splits, data.pairs
    embeddings = {
        name: faces.embed_images(model, images) for name, (images, _) in splits.items()
    }

    def distances_of(name, vectors):
        first, second, _ = pairs[name]
        return faces.pair_distances(vectors, first, second, distance)

    val_distances = distances_of("validation", embeddings["validation"])
    threshold = faces.best_threshold(val_distances, pairs["validation"][2])
    metrics, scores = {"threshold": threshold}, {}
    for name, prefix in (("seen_test", "seen"), ("unseen", "unseen")):
        same = pairs[name][2]
        distances = distances_of(name, embeddings[name])
        report = faces.verification_report(
            distances, same, threshold, verification.far_target
        )
        metrics.update({f"{prefix}_{key}": value for key, value in report.items()})
        scores[prefix] = (distances, same)
    unseen_images, unseen_labels = splits["unseen"]
    # Raw pixels in [0, 1]: the distances of the 8-bit images, scaled, rather
    # than a scaled float copy of every image.
    unseen_pixels = unseen_images.read_uint8()
    pixel_scale = 255.0**2 if distance == "squared_euclidean" else 255.0
    pixel_distances = distances_of("unseen", unseen_pixels) / pixel_scale
    metrics["unseen_pixel_auc"] = faces.roc_auc(pixel_distances, pairs["unseen"][2])
    scores["unseen_pixel"] = (pixel_distances, pairs["unseen"][2])
    trials, max_queries = verification.one_shot_trials, verification.max_queries
    metrics["unseen_one_shot_accuracy"] = faces.one_shot_accuracy(
        embeddings["unseen"], unseen_labels, trials, seed, distance, max_queries
    )
    # The nearest enrolled image is the same at any scale of the pixels.
    metrics["unseen_pixel_one_shot_accuracy"] = faces.one_shot_accuracy(
        unseen_pixels, unseen_labels, trials, seed, distance, max_queries
    )
    metrics["unseen_open_set_accuracy"] = faces.open_set_accuracy(
        embeddings["unseen"],
        unseen_labels,
        threshold,
        trials,
        seed,
        0.5,
        distance,
        max_queries,
    )
    database, gallery = faces.enroll_one_per_identity(
        embeddings["unseen"],
        unseen_labels,
        data.unseen_names,
        seed=seed,
        distance=distance,
        threshold=threshold,
    )
    return FaceEvaluation(
        metrics=metrics,
        threshold=threshold,
        embeddings=embeddings,
        scores=scores,
        database=database,
        gallery=gallery,
    )
