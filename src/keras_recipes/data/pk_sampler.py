"""P x K batches: P identities with K images each, for in-batch triplet mining."""

import numpy as np
import tensorflow as tf

from keras_recipes.data.image_stream import ImageSet


class PKSampler:
    """Draws batches of `P` identities with `K` images each.

    Triplet mining needs positives in every batch: a batch of random images
    from many identities rarely holds two of the same one. Each batch here
    holds `identities_per_batch` (P) distinct identities and
    `images_per_identity` (K) images of each, grouped by identity.

    Identities and images are drawn in turn from shuffled queues, so over
    many batches each identity, and each image within it, comes up equally
    often. An identity with fewer than K images has all of them in the batch,
    some twice (a zero-distance positive pair, which the triplet loss
    handles).

    Args:
        labels: Integer identity of each image, shape `[N]`.
        identities_per_batch: P, the number of identities per batch; at most
            the number of distinct labels. Defaults to `8`.
        images_per_identity: K, the images of each identity per batch; at
            least 2, so that there are positive pairs. Defaults to `4`.
        seed: Seed of the shuffles. Defaults to `0`.

    Example:

    ```python
    sampler = PKSampler(labels, identities_per_batch=16, images_per_identity=4)
    indices = sampler.sample(100)  # [100, 64] indices into the images
    ```

    Reference:
        [Hermans et al., 2017](https://arxiv.org/abs/1703.07737)
    """

    def __init__(self, labels, identities_per_batch=8, images_per_identity=4, seed=0):
        labels = np.asarray(labels).reshape(-1)
        identities = np.unique(labels)
        if images_per_identity < 2:
            raise ValueError(
                f"images_per_identity must be at least 2 to form positive pairs. "
                f"Received: images_per_identity={images_per_identity}"
            )
        if not 1 <= identities_per_batch <= len(identities):
            raise ValueError(
                f"identities_per_batch must be between 1 and the number of "
                f"identities ({len(identities)}). "
                f"Received: identities_per_batch={identities_per_batch}"
            )
        self.identities_per_batch = int(identities_per_batch)
        self.images_per_identity = int(images_per_identity)
        self._rng = np.random.default_rng(seed)
        self._identities = identities
        self._members = {
            identity: np.flatnonzero(labels == identity) for identity in identities
        }
        self._identity_queue = []
        self._image_queues = {identity: [] for identity in identities}

    @property
    def batch_size(self):
        """P x K, the number of images in a batch."""
        return self.identities_per_batch * self.images_per_identity

    def _next_identities(self):
        chosen = []
        while len(chosen) < self.identities_per_batch:
            if not self._identity_queue:
                self._identity_queue = list(self._rng.permutation(self._identities))
            identity = self._identity_queue.pop()
            if identity not in chosen:
                chosen.append(identity)
            else:  # It comes back in the next pass.
                self._identity_queue.insert(0, identity)
        return chosen

    def _next_images(self, identity):
        members = self._members[identity]
        if len(members) < self.images_per_identity:
            extra = self.images_per_identity - len(members)
            return np.concatenate(
                [self._rng.permutation(members), self._rng.choice(members, extra)]
            )
        queue = self._image_queues[identity]
        images = []
        while len(images) < self.images_per_identity:
            if not queue:
                queue.extend(self._rng.permutation(members))
            image = queue.pop()
            if image not in images:
                images.append(image)
            else:
                queue.insert(0, image)
        return np.asarray(images)

    def sample(self, num_batches):
        """Returns the image indices of the next `num_batches` batches.

        Args:
            num_batches: How many batches to draw.

        Returns:
            int64 array `[num_batches, P * K]`; each row holds K indices of
            each of P distinct identities, grouped by identity.

        Example:

        ```python
        PKSampler([0, 0, 1, 1], 2, 2).sample(1)  # e.g. [[1, 0, 3, 2]]
        ```
        """
        rows = [
            np.concatenate([self._next_images(i) for i in self._next_identities()])
            for _ in range(num_batches)
        ]
        return np.asarray(rows, dtype="int64").reshape(num_batches, self.batch_size)


def pk_dataset(
    images,
    labels,
    identities_per_batch=8,
    images_per_identity=4,
    num_batches=1000,
    seed=0,
):
    """Returns a `tf.data.Dataset` of P x K batches `(images, labels)`.

    The batch indices are drawn up front with `PKSampler`, so the pipeline
    is plain `tf.data` (no Python generator) and the same seed gives the
    same batches. After `num_batches` batches it starts again from the
    first, so the dataset never runs out.

    Args:
        images: Array `[N, ...]` of all the images (uint8 or float), or an
            `ImageSet` (read as the batches need them, in its
            `value_range`); batches come out as float32.
        labels: Integer identity of each image, `[N]`.
        identities_per_batch: P. Defaults to `8`.
        images_per_identity: K. Defaults to `4`.
        num_batches: Distinct batches to draw, e.g. epochs x steps per
            epoch. Defaults to `1000`.
        seed: Seed of the sampler. Defaults to `0`.

    Returns:
        A repeating dataset of `(images [P*K, ...], labels [P*K])`.

    Example:

    ```python
    train = pk_dataset(x, y, identities_per_batch=16, images_per_identity=4)
    model.fit(train, steps_per_epoch=100, epochs=10)
    ```
    """
    if num_batches < 1:
        raise ValueError(
            f"num_batches must be at least 1. Received: num_batches={num_batches}"
        )
    sampler = PKSampler(labels, identities_per_batch, images_per_identity, seed)
    indices = sampler.sample(num_batches)
    if isinstance(images, ImageSet):
        read = images.reader()
    else:
        stored = tf.constant(images)

        def read(batch):
            # Images may be stored as uint8; the model takes float32.
            return tf.cast(tf.gather(stored, batch), "float32")

    labels = tf.constant(np.asarray(labels))

    def gather(batch):
        return read(batch), tf.gather(labels, batch)

    return (
        tf.data.Dataset.from_tensor_slices(indices)
        .map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .repeat()
        .prefetch(tf.data.AUTOTUNE)
    )
