"""The `StyleTransfer` recipe: optimise an image to match one image's content
and another's style, through the features of a VGG network.

Run it with `python -m keras_recipes run style_transfer --set
data.content=photo.jpg --set data.style=painting.jpg`, or
`python -m keras_recipes.recipes.style_transfer`.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from keras_recipes.errors import ConfigError, UserError
from keras_recipes.figures import plot_image_grid
from keras_recipes.optimizers import build_optimizer
from keras_recipes.recipes.style_transfer.config import StyleTransferConfig
from keras_recipes.run_files import read_history
from keras_recipes.style import (
    ImageSnapshots,
    StepHistory,
    StepTimer,
    StyleTransferLoss,
    StyleTransferModel,
    initial_image,
    load_image,
    read_snapshots,
    save_image,
    style_feature_extractor,
)
from keras_recipes.style.figures import plot_loss_terms, plot_side_by_side
from keras_recipes.training import Datasets, Evaluation, Recipe
from keras_recipes.weights import preprocess_input


@dataclasses.dataclass
class StyleData(Datasets):
    """The two images of a style transfer, and one element per step.

    `train` holds the step numbers `0 .. train.steps - 1`: `Model.fit` takes
    one optimisation step per element, and the model reads none of them.

    Attributes:
        content: The content image, `[H, W, 3]` in [0, 255].
        style: The style image, fitted to the content's size.
    """

    content: np.ndarray | None = None
    style: np.ndarray | None = None


class StyleTransfer(Recipe):
    """Paints the content image in the style of the style image.

    The generated image starts from the content image (or noise, or a mix)
    and gradient descent lowers `alpha * J_content + beta * J_style +
    tv * TV`, with content compared at `model.content_layers` and style as
    Gram matrices at `model.style_layers`. No network is trained: the model
    is a `StyleTransferModel`, whose one trainable weight is the image and
    whose `train_step` takes one step on its pixels, so `fit` is `Model.fit`
    over `train.steps` steps. The run directory holds the config,
    `history.csv` with the terms of every step, the final terms in
    `metrics.json` and, in `figures/`, an image every `train.save_every`
    steps, `result.png` and a content / style / result figure.

    Args:
        config: A `StyleTransferConfig`. Defaults to the recipe's defaults.
        run_dir: Directory to write into. Defaults to
            `runs/style_transfer/<timestamp>`.
        resume: Must stay `False`: a style transfer cannot be resumed.
        runs_root: Parent of the default run directories. Defaults to
            `"runs"`.

    Example:

    ```python
    from keras_recipes import load_config
    from keras_recipes.recipes import StyleTransfer

    config = load_config("style_transfer", {"data.content": "photo.jpg"})
    result = StyleTransfer(config).run()
    ```

    Reference:

    - [Gatys et al., 2015](https://arxiv.org/abs/1508.06576)
    """

    name = "style_transfer"
    config_class = StyleTransferConfig
    quick = {
        "model.weights": None,
        "data.height": 32,
        "train.steps": 5,
        "train.save_every": 5,
    }

    def build_data(self):
        if self.resume:
            raise UserError(
                "style_transfer runs cannot be resumed; start a new run (the "
                "images saved every train.save_every steps are in its figures/)"
            )
        data_config = self.config.data
        content = load_image(data_config.content, data_config.height, data_config.width)
        style = load_image(data_config.style, *content.shape[:2])
        steps = self.config.train.steps
        return StyleData(
            train=tf.data.Dataset.range(steps),
            steps_per_epoch=steps,
            input_shape=content.shape,
            content=content,
            style=style,
        )

    def build_model(self, data):
        """Returns the `StyleTransferModel`: the image, the extractor, the cost.

        The feature extractor is built (and its layer names checked) before
        `data` is used.

        Args:
            data: What `build_data` returned.

        Returns:
            A `StyleTransferModel` starting from `train.init`.
        """
        model_config = self.config.model
        train = self.config.train
        extractor = self._extractor()
        cost = StyleTransferLoss(
            extractor,
            preprocess_input(model_config.backbone),
            data.content,
            data.style,
            model_config.content_layers,
            model_config.style_layers,
            model_config.style_layer_weights,
            content_weight=model_config.content_weight,
            style_weight=model_config.style_weight,
            variation_weight=model_config.variation_weight,
        )
        start = initial_image(
            data.content, train.init, train.noise_ratio, self.config.seed
        )
        return StyleTransferModel(cost, start, clip=train.clip)

    def _extractor(self):
        model_config = self.config.model
        layers = [*model_config.content_layers, *model_config.style_layers]
        try:
            return style_feature_extractor(
                layers, backbone=model_config.backbone, weights=model_config.weights
            )
        except ValueError as error:
            key = next(
                (
                    f"model.{key}"
                    for key in ("content_layers", "style_layers")
                    if any(
                        f"layer '{n}'" in str(error) for n in getattr(model_config, key)
                    )
                ),
                "model",
            )
            raise ConfigError(f"{key}: {error}") from None

    def compile(self, model, data):
        """Compiles the model with the optimizer; its schedule counts steps.

        Args:
            model: What `build_model` returned.
            data: What `build_data` returned.
        """
        train = self.config.train
        # Schedules count epochs; here one epoch is one step.
        optimizer = build_optimizer(self.config.optimizer, 1, train.steps)
        model.compile(
            optimizer=optimizer, jit_compile=train.jit_compile, steps_per_execution=1
        )

    def build_callbacks(self, data, history=None):
        """Returns the per-step history and the image snapshots.

        Args:
            data: What `build_data` returned.
            history: Unused: a style transfer is never resumed.

        Returns:
            `[StepHistory, ImageSnapshots]`.
        """
        train = self.config.train
        return [
            StepHistory(self.run_dir / "history.csv"),
            ImageSnapshots(self.run_dir / "figures", train.save_every, train.steps),
        ]

    def fit(self, model, data, callbacks, initial_epoch=0):
        """Optimises the image for `train.steps` steps, timing them.

        Args:
            model: The compiled `StyleTransferModel`.
            data: What `build_data` returned.
            callbacks: What `build_callbacks` returned.
            initial_epoch: Unused: a style transfer is never resumed.

        Returns:
            The `StepHistory`, with the terms of every step.
        """
        timer = StepTimer()
        history = self.fit_model(
            model,
            data.train,
            epochs=1,
            steps_per_epoch=data.steps_per_epoch,
            callbacks=[*callbacks, timer],
        )
        self.timings["seconds_per_step"] = timer.seconds_per_step
        return history

    def evaluate(self, model, data):
        """Returns the loss terms of the final image and of the start.

        Args:
            model: The optimised `StyleTransferModel`.
            data: What `build_data` returned.

        Returns:
            An `Evaluation` of the final terms, `initial_loss` and `steps`.
        """
        final = {name: float(value) for name, value in model(model.image).items()}
        history = read_history(self.run_dir / "history.csv")
        return Evaluation(
            {
                "loss": final["loss"],
                "content_loss": final["content"],
                "style_loss": final["style"],
                "variation_loss": final["variation"],
                "initial_loss": history["loss"][0],
                "steps": self.config.train.steps,
            }
        )

    def export(self, model, data, evaluation):
        """Saves the final image as `figures/result.png`."""
        save_image(model.result(), self.figure_path("result.png"))

    def figures(self, model, data, history, evaluation):
        """Draws content / style / result, the loss terms and the progress.

        Args:
            model: The optimised `StyleTransferModel`.
            data: What `build_data` returned.
            history: The per-step loss terms.
            evaluation: What `evaluate` returned.
        """
        plot_side_by_side(
            [data.content, data.style, model.result()],
            ["content", "style", "result"],
            self.figure_path("content_style_result.png"),
        )
        plot_loss_terms(history, self.figure_path("loss_terms.png"))
        steps, images = read_snapshots(self.run_dir / "figures")
        plot_image_grid(
            images / 255.0,
            self.figure_path("progress.png"),
            titles=[f"step {step}" for step in steps],
            columns=min(6, len(images)),
        )
