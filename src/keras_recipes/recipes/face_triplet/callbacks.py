"""The per-epoch verification score of `face_triplet`, and where it runs."""

import keras
import numpy as np

from keras_recipes import faces
from keras_recipes.epoch_seeding import EpochSeeding


class VerificationCallback(keras.callbacks.Callback):
    """Adds `val_auc` and `val_eer` of validation pairs to each epoch's logs.

    Callbacks share each epoch's logs in their order, so it must come
    before those that read these scores (`EarlyStopping`,
    `ModelCheckpoint`, `CSVLogger`) and before the backup of the epoch;
    `insert_verification` places it so.

    Only the images the pairs use are embedded, so a capped number of pairs
    costs the same on any size of validation split.

    Args:
        images: Validation images `[N, H, W, C]`, or an `ImageSet`.
        first: First image of each pair.
        second: Second image of each pair.
        same: True for same-identity pairs.
        distance: Distance the embedding is trained with.

    Example:

    ```python
    callback = VerificationCallback(x_val, first, second, same, "euclidean")
    ```
    """

    def __init__(self, images, first, second, same, distance):
        super().__init__()
        first, second = np.asarray(first), np.asarray(second)
        used = np.unique(np.concatenate([first, second]))
        if hasattr(images, "subset"):  # an `ImageSet`: nothing is read yet
            self.images = images.subset(used)
        else:
            self.images = np.asarray(images)[used]
        self.first = np.searchsorted(used, first)
        self.second = np.searchsorted(used, second)
        self.same, self.distance = same, distance

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        distances = faces.pair_distances(
            faces.embed_images(self.model, self.images),
            self.first,
            self.second,
            self.distance,
        )
        logs["val_auc"] = faces.roc_auc(distances, self.same)
        logs["val_eer"] = faces.equal_error_rate(distances, self.same)


def insert_verification(callbacks, verification):
    """Returns `callbacks` with `verification` where its scores are seen.

    It goes right after the leading `EpochSeeding` (which must start every
    epoch first), so every callback after it, from early stopping and the
    best checkpoint to the history file and the backup, which
    `keras_recipes.callbacks.build_callbacks` puts last, finds `val_auc`
    and `val_eer` in the epoch's logs.

    Args:
        callbacks: The callbacks of `Recipe.build_callbacks`.
        verification: A `VerificationCallback`.

    Returns:
        A new list of callbacks.

    Example:

    ```python
    callbacks = insert_verification(super().build_callbacks(data), callback)
    ```
    """
    callbacks = list(callbacks)
    index = int(bool(callbacks) and isinstance(callbacks[0], EpochSeeding))
    return [*callbacks[:index], verification, *callbacks[index:]]
