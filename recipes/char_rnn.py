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
# # A character-level language model
#
# A recurrent network reads text one character at a time and learns to
# predict the next one. Trained on a few hundred thousand characters it picks
# up spelling, punctuation, indentation and some grammar, and sampling from
# it writes new text in the style of what it read (Karpathy, "The
# Unreasonable Effectiveness of Recurrent Neural Networks").
#
# The text here is CPython's own documentation: `pydoc_data.topics`, the
# pages `help("for")` prints, about 465,000 characters that ship with every
# Python. Any UTF-8 file works too (`data.source`).

# %%
import os

import keras_recipes

# A test runs this notebook with KERAS_RECIPES_QUICK=1 to keep it short.
QUICK = os.environ.get("KERAS_RECIPES_QUICK") == "1"

# %% [markdown]
# ## The data
#
# The text becomes a stream of character ids. Every tenth block of 5,000
# characters is held out for validation. The rest is cut into sequences of
# 64 characters; the target of each sequence is the same characters shifted
# by one, so every position is a next-character prediction.

# %%
from keras_recipes.data.text import build_vocabulary, load_text  # noqa: E402

text = load_text()
vocabulary = build_vocabulary(text)
print(f"{len(text):,} characters, {len(vocabulary)} distinct")
print(text[20_000:20_400])

# %% [markdown]
# ## The model and its size
#
# An embedding, one recurrent layer and a dense layer that scores every
# character. The rule of thumb of char-rnn: keep the number of parameters
# within an order of magnitude of the number of training characters. Far
# more and the model memorises; far fewer and it under-fits. The three cells
# differ in how many weights each unit has: a simple RNN one set, a GRU
# three, an LSTM four.

# %%
from keras_recipes.models import char_rnn  # noqa: E402

for cell in ("simple_rnn", "gru", "lstm"):
    model = char_rnn(len(vocabulary), cell=cell, units=256)
    print(f"{cell:10s} {model.count_params():>9,} parameters")

# %% [markdown]
# ## Training
#
# The shipped config trains a GRU of 256 units for six epochs (a few minutes
# on two CPU cores) and reports the validation loss in bits per character:
# 6.7 bits is a uniform guess over the 103 characters; the trained model
# needs about 1.8.

# %%
overrides = {"train.verbose": 2}
if QUICK:
    overrides.update(
        {
            "model.units": 32,
            "train.epochs": 1,
            "train.steps_per_epoch": 10,
            "sample.length": 80,
        }
    )
result = keras_recipes.run("char_rnn", overrides)
for name in ("val_bits_per_char", "uniform_bits_per_char", "parameters"):
    print(name, round(result.metrics[name], 3))

# %%
from IPython.display import Image, display  # noqa: E402

display(Image(filename=str(result.run_dir / "figures" / "training_curves.png")))

# %% [markdown]
# ## Sampling and temperature
#
# Sampling feeds each drawn character back in, carrying the recurrent state
# along. The temperature divides the scores before the softmax: low values
# pick the likeliest characters (safe, repetitive text), high values flatten
# the distribution (more inventive, more misspelt).

# %%
from keras_recipes import load_run  # noqa: E402

recipe, model = load_run(result.run_dir)
for temperature in (0.2, 0.8, 1.5):
    print(f"--- temperature {temperature}")
    print(recipe.sample(model, 80 if QUICK else 300, temperature, "The "))

# %% [markdown]
# ## From the shell
#
#     python -m keras_recipes run char_rnn
#     python -m keras_recipes run char_rnn --set model.cell=lstm --set model.units=512
#     python -m keras_recipes run char_rnn --set data.source=my_book.txt
#     python -m keras_recipes sample runs/char_rnn/<stamp> --temperature 0.5 \
#         --length 500 --seed-text "def "
#     python -m keras_recipes diagnose runs/char_rnn/<stamp>
