"""Neural style transfer: optimise an image to match one image's content and
another's style, through the features of a VGG network.

Run it with `python -m keras_recipes run style_transfer --set
data.content=photo.jpg --set data.style=painting.jpg`, or
`python -m keras_recipes.recipes.style_transfer`.
"""

import csv
import dataclasses
import sys
import time
from typing import Literal

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from keras_recipes.config import OptimizerConfig, RecipeConfig, param, section
from keras_recipes.errors import ConfigError, UserError
from keras_recipes.figures import plot_image_grid
from keras_recipes.optimizers import build_optimizer
from keras_recipes.registry import register
from keras_recipes.style import (
    StyleTransferLoss,
    build_step,
    initial_image,
    load_image,
    style_feature_extractor,
)
from keras_recipes.style.figures import plot_loss_terms, plot_side_by_side
from keras_recipes.training import Datasets, Recipe, read_history
from keras_recipes.weights import preprocess_input

TERMS = ("loss", "content", "style", "variation")


@dataclasses.dataclass
class StyleDataConfig:
    """The content and style images and the output size."""

    content: str = param("chelsea", doc="Image file, or embedded photo name.")
    style: str = param("immunohistochemistry", doc="Image file, or photo name.")
    height: int = param(256, minimum=8, doc="Output height in pixels.")
    width: int | None = param(
        None, minimum=8, doc="Output width; null keeps the content's aspect ratio."
    )


@dataclasses.dataclass
class StyleModelConfig:
    """The VGG feature extractor and the weights of the cost's terms."""

    backbone: Literal["VGG16", "VGG19"] = param("VGG19")
    weights: str | None = param(
        "imagenet", doc="imagenet | null (random: for tests) | a weights file."
    )
    content_layers: list[str] = param(["block5_conv2"])
    style_layers: list[str] = param([f"block{i}_conv1" for i in range(1, 6)])
    style_layer_weights: list[float] | None = param(
        None, doc="lambda per style layer; null: equal, summing to 1."
    )
    content_weight: float = param(5e-8, minimum=0, doc="alpha.")
    style_weight: float = param(1e-6, minimum=0, doc="beta.")
    variation_weight: float = param(1e-6, minimum=0, doc="Total variation.")

    def validate(self, key):
        if not self.content_layers or not self.style_layers:
            raise ConfigError(
                f"{key}.content_layers and {key}.style_layers must each name "
                f"at least one layer, e.g. [block5_conv2]"
            )
        weights = self.style_layer_weights
        if weights is not None and len(weights) != len(self.style_layers):
            raise ConfigError(
                f"{key}.style_layer_weights has {len(weights)} weights for "
                f"{len(self.style_layers)} style layers; give one per layer "
                f"or null for equal weights"
            )


@dataclasses.dataclass
class StyleTrainConfig:
    """How the image is optimised."""

    steps: int = param(1000, minimum=1, doc="Optimisation steps.")
    save_every: int = param(100, minimum=1, doc="Steps between saved images.")
    init: Literal["content", "noise", "mix"] = param(
        "content", doc="Start from the content image, noise, or a mix."
    )
    noise_ratio: float = param(0.6, minimum=0, maximum=1, doc="mix: noise share.")
    clip: bool = param(True, doc="Keep pixels in [0, 255] after each step.")
    jit_compile: bool = param(
        False,
        doc="Compile the step with XLA: measured faster than a plain "
        "tf.function on a quiet CPU at 256x256, slower on a busy one.",
    )
    mixed_precision: Literal["auto", "float32", "mixed_float16", "mixed_bfloat16"] = (
        param(
            "auto",
            doc="Dtype policy of the feature extractor; costs stay in float32.",
        )
    )
    verbose: Literal[0, 1, 2] = param(1, doc="Progress bar: 0 none, 2 at the end.")


@dataclasses.dataclass
class NoSettings:
    """This recipe has no settings in this section."""


@dataclasses.dataclass
class StyleTransferConfig(RecipeConfig):
    """Config of the `style_transfer` recipe.

    The optimizer's schedule counts steps where other recipes count epochs.
    """

    recipe: str = param("style_transfer")
    data: StyleDataConfig = section(StyleDataConfig)
    model: StyleModelConfig = section(StyleModelConfig)
    optimizer: OptimizerConfig = section(OptimizerConfig)
    train: StyleTrainConfig = section(StyleTrainConfig)
    callbacks: NoSettings = section(NoSettings)
    export: NoSettings = section(NoSettings)
    # One image is optimised at a time: there is nothing to distribute.
    distribute: NoSettings = section(NoSettings)

    def validate(self, key):
        pass


def save_image(pixels, path):
    """Writes an RGB array as an 8-bit image file.

    Args:
        pixels: Array `[H, W, 3]` with values in [0, 255]; rounded and
            clipped.
        path: The file to write, e.g. `figures/result.png`.

    Returns:
        `path`.

    Example:

    ```python
    save_image(content, "content.png")
    ```
    """
    image = np.clip(np.round(np.asarray(pixels)), 0, 255).astype("uint8")
    Image.fromarray(image).save(path)
    return path


@register
class StyleTransfer(Recipe):
    """Paints the content image in the style of the style image.

    The generated image starts from the content image (or noise, or a mix)
    and gradient descent lowers `alpha * J_content + beta * J_style +
    tv * TV`, with content compared at `model.content_layers` and style as
    Gram matrices at `model.style_layers`. There is no model to train: `fit`
    optimises the image's pixels, and the run directory holds the config, the
    final loss terms in `metrics.json` and, in `figures/`, an image every
    `train.save_every` steps, `result.png` and a content / style / result
    figure.

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
    description = "Neural style transfer: VGG features, Gram matrices, image descent."
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
        return Datasets(
            train=None,
            input_shape=content.shape,
            info={"content": content, "style": style},
        )

    def build_model(self, data):
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
        """Builds the cost, the generated image and the compiled step."""
        model_config = self.config.model
        train = self.config.train
        content, style = data.info["content"], data.info["style"]
        self.loss = StyleTransferLoss(
            model,
            preprocess_input(model_config.backbone),
            content,
            style,
            model_config.content_layers,
            model_config.style_layers,
            model_config.style_layer_weights,
            content_weight=model_config.content_weight,
            style_weight=model_config.style_weight,
            variation_weight=model_config.variation_weight,
        )
        start = initial_image(content, train.init, train.noise_ratio, self.config.seed)
        self.image = tf.Variable(start[None], name="generated_image")
        # Schedules count epochs; here one epoch is one step.
        optimizer = build_optimizer(self.config.optimizer, 1, train.steps)
        self.step = build_step(
            self.loss, self.image, optimizer, train.jit_compile, train.clip
        )

    def build_callbacks(self):
        return []

    def fit(self, model, data, callbacks):
        """Optimises the image, saving it every `train.save_every` steps."""
        train = self.config.train
        progress = keras.utils.Progbar(
            train.steps, verbose=train.verbose, stateful_metrics=TERMS
        )
        history = {name: [] for name in TERMS}
        self.saved = [(0, self.image.numpy()[0])]
        save_image(self.saved[0][1], self.figure_path("step_00000.png"))
        started = time.perf_counter()
        with (self.run_dir / "history.csv").open("w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["epoch", *TERMS])
            for index in range(train.steps):
                terms = {name: float(value) for name, value in self.step().items()}
                if index == 0 and train.steps > 1:
                    started = time.perf_counter()  # the first step compiles
                writer.writerow([index, *(terms[name] for name in TERMS)])
                for name in TERMS:
                    history[name].append(terms[name])
                progress.update(index + 1, [(n, terms[n]) for n in TERMS])
                done = index + 1
                if done % train.save_every == 0 or done == train.steps:
                    self.saved.append((done, self.image.numpy()[0]))
                    save_image(
                        self.saved[-1][1], self.figure_path(f"step_{done:05d}.png")
                    )
        timed_steps = max(1, train.steps - 1)
        self.seconds_per_step = (time.perf_counter() - started) / timed_steps
        self.timings["seconds_per_step"] = self.seconds_per_step
        result = keras.callbacks.History()
        result.history = history
        return result

    def evaluate(self, model, data):
        """Returns the loss terms of the final image and of the start."""
        final = {name: float(value) for name, value in self.loss(self.image).items()}
        history = read_history(self.run_dir / "history.csv")
        return {
            "loss": final["loss"],
            "content_loss": final["content"],
            "style_loss": final["style"],
            "variation_loss": final["variation"],
            "initial_loss": history["loss"][0],
            "steps": self.config.train.steps,
        }

    def export(self, model, data):
        """Saves the final image as `figures/result.png`."""
        save_image(self.image.numpy()[0], self.figure_path("result.png"))

    def figures(self, model, data, history):
        info = data.info
        result = self.image.numpy()[0]
        plot_side_by_side(
            [info["content"], info["style"], result],
            ["content", "style", "result"],
            self.figure_path("content_style_result.png"),
        )
        plot_loss_terms(history, self.figure_path("loss_terms.png"))
        steps, images = zip(*self.saved, strict=True)
        plot_image_grid(
            np.stack(images) / 255.0,
            self.figure_path("progress.png"),
            titles=[f"step {step}" for step in steps],
            columns=min(6, len(images)),
        )


if __name__ == "__main__":
    from keras_recipes.cli import main

    sys.exit(main(["run", StyleTransfer.name, *sys.argv[1:]]))
