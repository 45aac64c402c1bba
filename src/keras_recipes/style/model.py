"""The generated image as a Keras model: its one weight, and its cost."""

import keras
import numpy as np

from keras_recipes.style.optimize import image_step


@keras.saving.register_keras_serializable(package="keras_recipes")
class StyleTransferModel(keras.Model):
    """Holds the image being optimised as its one trainable weight.

    Style transfer trains no network: gradient descent runs on the pixels of
    the generated image. Making that image the weight of a model lets
    `Model.fit` run the descent, so the optimizer, its schedule, XLA
    (`compile(jit_compile=True)`), the progress bar and callbacks work as
    for any other model, and the trained model carries the image to the
    steps after `fit`. Each `train_step` takes one optimiser step on the
    image (`image_step`) and ignores its batch; the frozen feature
    extractor lives inside `cost`.

    The model computes in float32 whatever the global dtype policy: the
    feature extractor may compute in a mixed policy, but the cost and the
    image keep float32 (and no loss scaling changes the step).

    It is not saved: its cost holds Python functions and target arrays, and
    the product of a run is the image, `result()`.

    Args:
        cost: A `StyleTransferLoss`, from the image to a `dict` of weighted
            terms with their sum under `"loss"`.
        start: Array `[H, W, 3]` in [0, 255], the image to start from, as
            `initial_image` gives it.
        clip: Whether to keep the pixels in [0, 255] after each step.
            Defaults to `True`.
        **kwargs: Passed to `keras.Model`, e.g. `name`.

    Call arguments:
        images: Tensor `[1, H, W, 3]` in [0, 255].

    Returns:
        The `dict` of cost terms of `images`.

    Example:

    ```python
    model = StyleTransferModel(cost, initial_image(content))
    model.compile(optimizer=keras.optimizers.Adam(4.0))
    model.fit(tf.data.Dataset.range(100), steps_per_epoch=100)
    result = model.image.numpy()[0]
    ```

    Reference:

    - [Gatys et al., 2015](https://arxiv.org/abs/1508.06576)
    """

    def __init__(self, cost, start, clip=True, **kwargs):
        kwargs.setdefault("dtype", "float32")
        kwargs.setdefault("name", "style_transfer")
        super().__init__(**kwargs)
        start = np.asarray(start, dtype="float32")
        if start.ndim != 3 or start.shape[-1] != 3:
            raise ValueError(
                f"start must be an RGB image [H, W, 3]. Received: "
                f"start.shape={start.shape}"
            )
        self.cost = cost
        self.extractor = cost.extractor
        self.clip = bool(clip)
        self.image = self.add_weight(
            shape=(1, *start.shape),
            initializer="zeros",
            dtype="float32",
            trainable=True,
            name="generated_image",
        )
        self.image.assign(start[None])
        self.built = True

    def call(self, images):
        return self.cost(images)

    def train_step(self, data):
        return image_step(self.cost, self.image, self.optimizer, self.clip)

    def result(self):
        """Returns the generated image as an array `[H, W, 3]` in [0, 255]."""
        return self.image.numpy()[0]

    def get_config(self):
        raise NotImplementedError(
            "a StyleTransferModel is not saved: its cost holds Python functions; "
            "save the image it made, result(), instead"
        )
