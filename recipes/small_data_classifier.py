# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Image classification from very little data
#
# A small convolutional network, strong augmentation and early stopping are
# enough to classify a few thousand images well, with no pretrained weights.
# This walkthrough trains on scikit-learn's 1,797 real handwritten digits,
# which ship with the package, then shows how to point the same recipe at a
# folder of your own images.
#
# The model follows INPUT -> [CONV -> RELU -> POOL] x M -> FLATTEN -> DENSE ->
# RELU -> DROPOUT -> DENSE, as in the Keras blog post "Building powerful image
# classification models using very little data".

# %%
import json
import os

import keras_recipes

# A test runs this notebook with KERAS_RECIPES_QUICK=1 to keep it short.
QUICK = os.environ.get("KERAS_RECIPES_QUICK") == "1"

# %% [markdown]
# ## The config
#
# Every setting lives in one typed config: the recipe's defaults (its config
# dataclasses, which `python -m keras_recipes show small_data_classifier`
# prints), then your overrides. A mistyped key stops before any work, and
# names the key it thinks you meant.

# %%
overrides = {"train.verbose": 2}
if QUICK:
    overrides.update({"train.epochs": 3, "model.filters": [16]})
config = keras_recipes.load_config("small_data_classifier", overrides)
print("image size:", config.data.image_size)
print("augmentation:", config.data.augmentation)
print("model:", config.model)

# %%
try:
    keras_recipes.load_config("small_data_classifier", {"train.epochz": 3})
except keras_recipes.ConfigError as error:
    print(error)

# %% [markdown]
# ## Train, evaluate, export
#
# `run` builds the `tf.data` pipeline (augmentation runs in it as Keras
# preprocessing layers), the model, the optimizer and the callbacks
# (EarlyStopping, ModelCheckpoint, TensorBoard, CSVLogger, BackupAndRestore),
# trains, evaluates on the held-out digits and writes a run directory.

# %%
result = keras_recipes.run("small_data_classifier", overrides)
print(json.dumps(result.metrics, indent=2))
print(sorted(p.name for p in result.run_dir.iterdir()))

# %% [markdown]
# The run directory holds the resolved `config.yaml`, so
# `python -m keras_recipes run <run>/config.yaml` repeats the run to the last
# digit, and `tensorboard --logdir <run>/logs` shows the curves.
#
# ## Figures

# %%
from IPython.display import Image, display  # noqa: E402

for name in ("training_curves", "augmentation_preview", "confusion_matrix"):
    display(Image(filename=str(result.run_dir / "figures" / f"{name}.png")))

# %% [markdown]
# ## Change one step
#
# Each step is a method of the recipe class that receives what it uses and
# returns what it makes: `build_data()` gives the datasets, `build_model(data)`
# the model, `evaluate(model, data)` the metrics and confusion counts that
# `export` and `figures` then receive. To try another network, override
# `build_model` and keep the rest: data, augmentation, callbacks, evaluation
# and figures stay the same.

# %%
import keras  # noqa: E402

from keras_recipes.recipes import SmallDataClassifier  # noqa: E402


class WideClassifier(SmallDataClassifier):
    def build_model(self, data):
        return keras.Sequential(
            [
                keras.Input(data.input_shape),
                keras.layers.Rescaling(1 / 255),
                keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
                keras.layers.GlobalAveragePooling2D(),
                keras.layers.Dense(len(data.class_names), activation="softmax"),
            ],
            name="wide",
        )


wide = WideClassifier(config).run()
print("wide model test accuracy:", round(wide.metrics["test_accuracy"], 4))

# %% [markdown]
# ## Your own images
#
# Put your images in class subfolders, either directly or split into
# `train/`, `validation/` and optional `test/` (the cats-vs-dogs layout):
#
#     data/train/cats/cat001.jpg    data/validation/cats/...    data/test/...
#     data/train/dogs/dog001.jpg    data/validation/dogs/...
#
# then run
#
#     python -m keras_recipes run small_data_classifier \
#         --set data.source=folder --set data.directory=data \
#         --set data.image_size=[150,150] --set data.color_mode=rgb \
#         --set data.augmentation.flip=horizontal
#
# and classify new files with
# `python -m keras_recipes predict <run> photo1.jpg photo2.jpg`.
