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
# # Transfer learning you can run offline: from rendered letters to a few digits
#
# Transfer learning pays when the target has few labels and a large, diverse
# source teaches features that carry over. Here the source is 5,200 letters
# (52 classes) rendered from the fonts matplotlib ships, in random sizes,
# offsets, rotations and strokes, pooled to the 8x8 format of scikit-learn's
# handwritten digits. The target is the real digits with only 3 labelled
# images per class. Three runs share those labels, the validation digits
# used for early stopping, and the 360 held-out test digits:
#
# - **scratch**: the same network, randomly initialised, same augmentation,
#   same epoch budget and early stopping: the fair baseline;
# - **bottleneck**: a top trained on the frozen pretrained base's features
#   (the `vgg16_bottleneck` recipe with the saved base as `base.name`);
# - **fine_tune**: that top and the base's last conv block trained together,
#   slowly, with augmentation (the `vgg16_fine_tune` recipe).
#
# (A base pretrained on the digits 0-4 does not help on 5-9: its features
# are too narrow. The letters' variety is what carries over.)

# %%
import json
import os

import keras_recipes
from keras_recipes.data.glyphs import render_glyphs
from keras_recipes.figures import plot_image_grid

# A test runs this notebook with KERAS_RECIPES_QUICK=1 to keep it short.
QUICK = os.environ.get("KERAS_RECIPES_QUICK") == "1"

# %% [markdown]
# ## The source: rendered letters

# %%
images, labels, names = render_glyphs(samples_per_class=1, seed=3)
path = plot_image_grid(
    images[:16], "glyphs.png", titles=[names[i] for i in labels[:16]]
)

from IPython.display import Image, display  # noqa: E402

display(Image(filename=str(path)))

# %% [markdown]
# ## Run the experiment
#
# The shipped config pretrains for 15 epochs and repeats the draw of the
# labelled digits three times (the accuracies are averaged: with 3 labels
# per class, which digits are drawn moves every accuracy by a few points).
# A few minutes on two CPU cores; much less in quick mode.

# %%
overrides = {"train.verbose": 0}
if QUICK:
    overrides.update(
        {
            "glyphs.samples_per_class": 10,
            "train.epochs": 2,
            "data.draws": 1,
            "stages.epochs": 4,
            "stages.patience": 2,
        }
    )
result = keras_recipes.run("transfer_digits", overrides)
metrics = result.metrics
for stage in ("scratch", "bottleneck", "fine_tune"):
    per_draw = ", ".join(f"{a:.3f}" for a in metrics[f"{stage}_accuracy_per_draw"])
    print(f"{stage:11s} {metrics[f'{stage}_accuracy']:.3f}  (draws: {per_draw})")

# %%
figures = result.run_dir / "figures"
display(Image(filename=str(figures / "transfer_accuracy.png")))
display(Image(filename=str(figures / "labelled_digits.png")))

# %% [markdown]
# ## What is inside the run directory
#
# `transfer_digits` trains nothing itself: it runs other recipes, each a
# complete run directory with its resolved `config.yaml`, and compares them.
# `pretraining/` is the `glyph_pretraining` run: the letters network, its
# curves, and `pretrained_base.keras`, the network cut after its last conv
# block. `draw_<k>/<stage>/` are runs of the two transfer recipes on that
# base (run one again with `python -m keras_recipes run <stage>/config.yaml`).

# %%
print(json.dumps({k: v for k, v in metrics.items() if "per_draw" not in k}, indent=2))
print(sorted(p.name for p in result.run_dir.iterdir()))
print(sorted(p.name for p in (result.run_dir / "draw_1").iterdir()))
display(Image(filename=str(result.run_dir / "pretraining" / "figures" / "glyphs.png")))

# %% [markdown]
# ## Try
#
# - `--set data.labels_per_class=10`: how does the gap to scratch change
#   with more labels?
# - `--set stages.approach=small_different`: cut the base before its last
#   block (more generic features);
# - `--set glyphs.samples_per_class=300`: a larger source.
