"""PNG figures of a face embedding: ROC curves, distances, projections."""

import numpy as np

from keras_recipes.faces.verification import (
    equal_error_rate,
    roc_auc,
    roc_curve,
    validation_rate,
)
from keras_recipes.figures import _save, plt


def plot_training(history, path):
    """Draws the triplet loss and the validation pairs' AUC and EER per epoch.

    Args:
        history: `dict` with `loss` and optionally `val_loss`, `val_auc` and
            `val_eer`, one value per epoch.
        path: PNG file to write.

    Returns:
        `path`.

    Example:

    ```python
    plot_training({"loss": [0.2, 0.1], "val_auc": [0.9, 0.95]}, "curves.png")
    ```
    """
    figure, (loss, scores) = plt.subplots(1, 2, figsize=(10, 3.8))
    epochs = np.arange(1, len(history["loss"]) + 1)
    loss.plot(epochs, history["loss"], marker=".", label="train")
    if "val_loss" in history:
        loss.plot(epochs, history["val_loss"], marker=".", label="validation")
    loss.set_title("triplet loss (mean over violating triplets)")
    for key, label in (("val_auc", "AUC"), ("val_eer", "equal error rate")):
        if key in history:
            scores.plot(epochs, history[key], marker=".", label=label)
    scores.set_title("validation pairs")
    for axis in (loss, scores):
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    return _save(figure, path)


def plot_roc_curves(curves, path, far_target=1e-3):
    """Draws ROC curves, linear and with a log false accept rate axis.

    Args:
        curves: `dict` of label to `(distances, same)` of its pairs.
        path: PNG file to write.
        far_target: FAR marked on the log axis, as in VAL@FAR. Defaults to
            `1e-3`.

    Returns:
        `path`.

    Example:

    ```python
    plot_roc_curves({"unseen": (distances, same)}, "roc.png")
    ```
    """
    figure, (linear, log) = plt.subplots(1, 2, figsize=(10, 4.2))
    for label, (distances, same) in curves.items():
        far, tar, _ = roc_curve(distances, same)
        auc, eer = roc_auc(distances, same), equal_error_rate(distances, same)
        val, _ = validation_rate(distances, same, far_target)
        text = f"{label}: AUC {auc:.3f}, EER {eer:.3f}"
        (line,) = linear.plot(far, tar, label=text)
        linear.plot([eer], [1 - eer], "o", color=line.get_color())
        log.plot(np.maximum(far, 1e-5), tar, label=f"{label}: VAL {val:.3f}")
    linear.plot([0, 1], [0, 1], ":", color="gray", label="chance")
    linear.set_title("ROC (dots: equal error rate)")
    log.axvline(far_target, color="gray", linestyle="--")
    log.set_xscale("log")
    log.set_xlim(1e-4, 1)
    log.set_title(f"ROC, log FAR (dashed: VAL@FAR={far_target:g})")
    for axis in (linear, log):
        axis.set_xlabel("false accept rate")
        axis.set_ylabel("true accept rate")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8, loc="lower right")
    return _save(figure, path)


def plot_distance_histograms(panels, threshold, path):
    """Draws the distances of same and different pairs, with the threshold.

    Args:
        panels: `dict` of title to `(distances, same)`.
        threshold: The chosen threshold, drawn as a line.
        path: PNG file to write.

    Returns:
        `path`.

    Example:

    ```python
    plot_distance_histograms({"unseen": (d, same)}, 0.9, "distances.png")
    ```
    """
    figure, axes = plt.subplots(
        1, len(panels), figsize=(4.6 * len(panels), 3.6), squeeze=False
    )
    for axis, (title, (distances, same)) in zip(axes[0], panels.items(), strict=True):
        bins = np.linspace(0, max(distances.max(), threshold) * 1.02, 50)
        axis.hist(distances[same], bins, alpha=0.6, density=True, label="same")
        axis.hist(distances[~same], bins, alpha=0.6, density=True, label="different")
        axis.axvline(threshold, color="black", linestyle="--", label="threshold")
        axis.set_title(title)
        axis.set_xlabel("distance")
        axis.legend(fontsize=8)
    return _save(figure, path)


def plot_embedding_projection(panels, path, seed=0):
    """Draws t-SNE maps of embeddings, one colour and label per identity.

    Args:
        panels: List of `(title, embeddings, labels, names)`.
        path: PNG file to write.
        seed: Seed of t-SNE. Defaults to `0`.

    Returns:
        `path`.

    Example:

    ```python
    plot_embedding_projection([("unseen", e, y, names)], "projection.png")
    ```
    """
    from sklearn.manifold import TSNE

    figure, axes = plt.subplots(
        1, len(panels), figsize=(5.5 * len(panels), 5.2), squeeze=False
    )
    for axis, (title, embeddings, labels, names) in zip(axes[0], panels, strict=True):
        perplexity = min(30.0, (len(embeddings) - 1) / 3.0)
        points = TSNE(
            2, perplexity=perplexity, init="pca", random_state=seed
        ).fit_transform(np.asarray(embeddings, dtype="float64"))
        identities = np.unique(labels)
        colours = plt.get_cmap("tab20" if len(identities) > 10 else "tab10")
        for index, identity in enumerate(identities):
            mine = points[labels == identity]
            colour = colours(index % colours.N)
            axis.scatter(mine[:, 0], mine[:, 1], s=6, color=colour, alpha=0.7)
            x, y = np.median(mine, axis=0)
            axis.text(x, y, str(names[identity]), fontsize=9, weight="bold")
        axis.set_title(title)
        axis.set_xticks([])
        axis.set_yticks([])
    return _save(figure, path)


def plot_one_shot(gallery, gallery_names, queries, answers, path):
    """Draws enrolled images, one per identity, above queries named from them.

    Column `i` shows identity `i`: its one enrolled image on top, then
    queries of that identity, titled with what recognition answered (green
    when right, red when wrong or `"unknown"`).

    Args:
        gallery: Enrolled images `[G, H, W, C]`, one per identity.
        gallery_names: Their names, `G` strings.
        queries: Query images `[R, G, H, W, C]`: `R` rows of one query of
            each identity.
        answers: What recognition answered for each query, `[R, G]` names
            or `"unknown"`.
        path: PNG file to write.

    Returns:
        `path`.

    Example:

    ```python
    plot_one_shot(gallery, names, queries, answers, "one_shot.png")
    ```
    """
    queries = np.asarray(queries)
    columns = len(gallery)
    if not columns or queries.shape[1] != columns:
        raise ValueError(
            f"queries must have one column per enrolled identity ({columns}). "
            f"Received: shape={queries.shape}"
        )
    rows = 1 + len(queries)
    figure, axes = plt.subplots(
        rows, columns, figsize=(1.3 * columns, 1.45 * rows + 0.3), squeeze=False
    )
    for column in range(columns):
        cells = [(gallery[column], gallery_names[column], "black")]
        for row in range(len(queries)):
            answer = str(answers[row][column])
            right = answer == gallery_names[column]
            cells.append((queries[row, column], answer, "green" if right else "red"))
        for row, (image, text, colour) in enumerate(cells):
            axis = axes[row, column]
            axis.set_xticks([])
            axis.set_yticks([])
            image = np.clip(np.asarray(image, dtype="float32") / 255.0, 0, 1)
            if image.shape[-1] == 1:
                axis.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
            else:
                axis.imshow(image)
            axis.set_title(text, fontsize=8, color=colour)
    axes[0, 0].set_ylabel("enrolled", fontsize=8)
    for row in range(1, rows):
        axes[row, 0].set_ylabel(f"query {row}", fontsize=8)
    figure.suptitle(
        "one-shot recognition: one enrolled image per identity "
        "(green right, red wrong or unknown)",
        fontsize=9,
    )
    return _save(figure, path)
