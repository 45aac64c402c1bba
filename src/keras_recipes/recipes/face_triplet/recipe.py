"""The `face_triplet` recipe: triplet-loss embeddings of identities."""

import numpy as np

from keras_recipes.data.image_files import find_image_files
from keras_recipes.errors import ConfigError
from keras_recipes.faces.commands import identify_files
from keras_recipes.losses import TripletLoss
from keras_recipes.models.embedding import conv_backbone, embedding_model
from keras_recipes.recipes.face_triplet.callbacks import (
    VerificationCallback,
    insert_verification,
)
from keras_recipes.recipes.face_triplet.config import FaceTripletConfig
from keras_recipes.recipes.face_triplet.data import build_face_datasets
from keras_recipes.recipes.face_triplet.evaluation import evaluate_embedding
from keras_recipes.recipes.face_triplet.export import (
    write_projector_points,
    write_verification,
)
from keras_recipes.recipes.face_triplet.figures import draw_face_figures
from keras_recipes.training import Recipe
from keras_recipes.weights import build_application


class FaceTriplet(Recipe):
    """Learns an embedding where the same identity is near, others far.

    FaceNet's recipe on any identity data: P x K batches, an L2-normalised
    embedding trained with the triplet loss (batch-all, batch-hard or
    semi-hard mining), a distance threshold chosen on validation pairs,
    then verification on held-out images of the training identities
    (`seen_*`) and on identities never trained on (`unseen_*`), compared
    with raw pixels, and one-shot recognition of the unseen identities.

    The default trains on letters rendered from matplotlib's fonts (52
    identities) and tests on the real handwritten digits, a stand-in for
    faces that runs offline in minutes.

    Args:
        config: A `FaceTripletConfig`. Defaults to its defaults.
        run_dir: See `Recipe`.
        resume: See `Recipe`.
        runs_root: See `Recipe`.

    Example:

    ```python
    from keras_recipes import load_config
    from keras_recipes.recipes import FaceTriplet

    result = FaceTriplet(load_config("face_triplet")).run()
    print(result.metrics["unseen_auc"], result.metrics["unseen_pixel_auc"])
    ```
    """

    name = "face_triplet"
    config_class = FaceTripletConfig
    quick = {
        "data.glyphs_per_class": 30,
        "train.epochs": 12,
        "model.filters": [16, 32],
        "model.embedding_dim": 32,
        "optimizer.schedule.name": "constant",
        "optimizer.learning_rate": 0.003,
        "verification.max_pairs": 4000,
        "verification.one_shot_trials": 2,
        "verification.projector_points": 200,
        "verification.projection_points": 100,
    }

    def build_data(self):
        """Returns the `FaceDatasets`: P x K batches and the scored splits."""
        # Only a folder's files are cached; in-memory sets pass through.
        image_cache = self.config.data.cache.folder(self.runs_root)
        return build_face_datasets(self.config, image_cache)

    def build_model(self, data):
        """Returns the embedding model: backbone, Dense, L2 normalisation."""
        model_config = self.config.model
        try:
            if model_config.backbone == "small":
                backbone = conv_backbone(
                    data.input_shape,
                    filters=tuple(model_config.filters),
                    convs_per_block=model_config.convs_per_block,
                    batch_norm=model_config.batch_norm,
                    pooling=model_config.pooling,
                )
            else:
                backbone = build_application(
                    model_config.backbone,
                    weights=model_config.weights,
                    input_shape=data.input_shape,
                    include_top=False,
                    pooling="avg",
                )
            return embedding_model(
                data.input_shape,
                embedding_dim=model_config.embedding_dim,
                backbone=backbone,
                dropout=model_config.dropout,
            )
        except ValueError as error:
            raise ConfigError(f"model: {error}") from None

    def build_loss(self, data):
        """Returns the configured `TripletLoss`."""
        loss = self.config.loss
        return TripletLoss(loss.margin, loss.mining, loss.distance)

    def build_callbacks(self, data, history=None):
        """Returns the base callbacks with the validation pairs' scores added.

        `val_auc` and `val_eer` are computed before any callback that reads
        the epoch's logs (see `insert_verification`).
        """
        x_val, _ = data.splits["validation"]
        first, second, same = data.pairs["validation"]
        train_config, sampler = self.config.train, self.config.sampler
        if train_config.validation_steps:
            # Capped validation caps the pairs scored each epoch alike.
            batch = sampler.identities_per_batch * sampler.images_per_identity
            count = min(len(first), train_config.validation_steps * batch)
            rng = np.random.default_rng(self.config.seed)
            kept = np.sort(rng.choice(len(first), count, replace=False))
            first, second, same = first[kept], second[kept], same[kept]
        verification = VerificationCallback(
            x_val, first, second, same, self.config.loss.distance
        )
        return insert_verification(super().build_callbacks(data, history), verification)

    def evaluate(self, model, data):
        """Scores verification and one-shot recognition.

        Returns:
            A `FaceEvaluation`; see `evaluate_embedding`.
        """
        return evaluate_embedding(model, data, self.config)

    def export(self, model, data, evaluation):
        """Saves the model, `verification.json`, `enrolled.npz` and projector."""
        super().export(model, data, evaluation)
        write_verification(self.run_dir, evaluation, self.config.loss.distance)
        write_projector_points(
            self.run_dir / "logs",
            data,
            evaluation,
            self.config.verification.projector_points,
            self.config.seed,
        )

    def figures(self, model, data, history, evaluation):
        """Draws curves, a P x K batch, ROC, distances, t-SNE and one-shot."""
        draw_face_figures(self.config, data, history, evaluation, self.figure_path)

    prediction_columns = ("identity", "distance")
    prediction_format = "{identity} ({distance:.3f})"

    def predict(self, model, paths):
        """Returns `(path, identity, distance)` against `enrolled.npz`.

        Args:
            model: The run's embedding model.
            paths: Image files, and folders searched at any depth.

        Returns:
            A list of `(path, identity, distance)` rows; the identity is
            `"unknown"` beyond the run's threshold.
        """
        rows = identify_files(self.run_dir, model, find_image_files(paths))
        return [(path, name, float(distance)) for path, name, distance in rows]
