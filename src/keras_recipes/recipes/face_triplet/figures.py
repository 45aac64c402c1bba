"""The figures of a `face_triplet` run."""

import numpy as np

from keras_recipes.faces import figures as face_figures
from keras_recipes.figures import plot_image_grid


def plot_pk_batch(train, class_names, sampler, path):
    """Draws one P x K training batch, one column per identity.

    Args:
        train: The P x K training dataset.
        class_names: Name of each training identity.
        sampler: The `PKSamplerConfig` that made the batches.
        path: PNG file to write.

    Returns:
        `path`.

    Example:

    ```python
    plot_pk_batch(data.train, data.class_names, config.sampler, "pk_batch.png")
    ```
    """
    images, labels = (t.numpy() for t in next(iter(train)))
    shown = min(sampler.identities_per_batch, 12)
    grid = images.reshape(
        sampler.identities_per_batch, sampler.images_per_identity, *images.shape[1:]
    )[:shown]
    names = [class_names[label] for label in labels[:: sampler.images_per_identity]]
    titles = [
        names[p] if k == 0 else "" for k in range(grid.shape[1]) for p in range(shown)
    ]
    return plot_image_grid(
        grid.swapaxes(0, 1).reshape(-1, *images.shape[1:]),
        path,
        titles=titles,
        columns=shown,
        row_labels=[f"image {k + 1}" for k in range(grid.shape[1])],
    )


def plot_one_shot_queries(
    unseen, names, evaluation, rng, path, per_identity=3, max_identities=10
):
    """Draws the enrolled unseen images above queries named against them.

    Args:
        unseen: `(images, labels)` of the unseen identities.
        names: Name of each unseen identity, by label.
        evaluation: The run's `FaceEvaluation` (embeddings, database and
            gallery of enrolled images).
        rng: A NumPy `Generator` drawing the queries.
        path: PNG file to write.
        per_identity: Queries of each identity. Defaults to `3`.
        max_identities: Most identities drawn (columns), chosen at random.
            Defaults to `10`.

    Returns:
        `path`.

    Example:

    ```python
    rng = np.random.default_rng(42)
    plot_one_shot_queries(data.splits["unseen"], names, evaluation, rng, "o.png")
    ```
    """
    images, labels = unseen
    identities = np.unique(labels)
    shown = np.arange(len(identities))
    if len(identities) > max_identities:
        shown = np.sort(rng.choice(len(identities), max_identities, replace=False))
    identities = identities[shown]
    gallery = evaluation.gallery[shown]
    queries = np.stack(
        [
            rng.choice(
                np.setdiff1d(np.flatnonzero(labels == label), gallery),
                per_identity,
                replace=True,
            )
            for label in identities
        ],
        axis=1,
    )
    answers = evaluation.database.identify(
        evaluation.embeddings["unseen"][queries.reshape(-1)]
    )
    return face_figures.plot_one_shot(
        images[gallery],
        [names[label] for label in identities],
        images[queries],
        np.asarray([name for name, _ in answers]).reshape(queries.shape),
        path,
    )


def draw_face_figures(config, data, history, evaluation, figure_path):
    """Draws every figure of a `face_triplet` run.

    Args:
        config: The run's `FaceTripletConfig`.
        data: The run's `FaceDatasets`.
        history: Metric name to per-epoch values.
        evaluation: The run's `FaceEvaluation`.
        figure_path: Function of a file name to the path to write it to.

    Returns:
        `None`.

    Example:

    ```python
    draw_face_figures(config, data, history, evaluation, recipe.figure_path)
    ```
    """
    # The triplet loss averages over the triplets still violating the
    # margin, so it falls little; the validation pairs' AUC shows progress.
    face_figures.plot_training(history, figure_path("training_curves.png"))
    plot_pk_batch(
        data.train, data.class_names, config.sampler, figure_path("pk_batch.png")
    )
    scores, threshold = evaluation.scores, evaluation.threshold
    face_figures.plot_roc_curves(
        {
            "seen identities": scores["seen"],
            "unseen identities": scores["unseen"],
            "unseen, raw pixels": scores["unseen_pixel"],
        },
        figure_path("roc_curves.png"),
        config.verification.far_target,
    )
    face_figures.plot_distance_histograms(
        {
            "seen identities, held-out images": scores["seen"],
            "unseen identities": scores["unseen"],
        },
        threshold,
        figure_path("distance_histograms.png"),
    )
    rng = np.random.default_rng(config.seed)
    seen_labels = data.splits["seen_test"][1]
    shown = rng.permutation(np.unique(seen_labels))[:12]
    keep = np.isin(seen_labels, shown)
    unseen_labels = data.splits["unseen"][1]
    limit = config.verification.projection_points
    shown_unseen = np.sort(rng.permutation(len(unseen_labels))[:limit])
    face_figures.plot_embedding_projection(
        [
            (
                f"seen: {len(shown)} training identities, held-out images",
                evaluation.embeddings["seen_test"][keep],
                seen_labels[keep],
                data.class_names,
            ),
            (
                "unseen identities",
                evaluation.embeddings["unseen"][shown_unseen],
                unseen_labels[shown_unseen],
                data.unseen_names,
            ),
        ],
        figure_path("embedding_projection.png"),
        config.seed,
    )
    plot_one_shot_queries(
        data.splits["unseen"],
        data.unseen_names,
        evaluation,
        rng,
        figure_path("one_shot.png"),
    )
