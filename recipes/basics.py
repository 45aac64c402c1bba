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
# # The basics: regression, classification, and knowing what went wrong
#
# Before convolutions and recurrent networks come the models every course
# starts with: linear regression, logistic (softmax) regression and the
# multilayer perceptron. This walkthrough trains each on real data that ships
# with scikit-learn, then uses them to show the settings that matter in every
# network (weight initialisation, L1 / L2 / dropout regularisation, the
# optimizer and its learning-rate decay) and the tools that tell you whether
# a model is any good: the training doctor, K-fold cross-validation and
# ensembles.

# %%
import json
import os

import numpy as np

import keras_recipes

# A test runs this notebook with KERAS_RECIPES_QUICK=1 to keep it short.
QUICK = os.environ.get("KERAS_RECIPES_QUICK") == "1"
QUIET = {"train.verbose": 0, "callbacks.tensorboard.enabled": False}

# %% [markdown]
# ## Linear regression on the diabetes data
#
# 442 patients, ten measurements each, and a number for how far their
# diabetes progressed a year later. A linear model trained by mini-batch SGD
# with Nesterov momentum should land on the exact least-squares solution,
# which the recipe computes beside it (`reference_r2`).

# %%
epochs = {"train.epochs": 30} if QUICK else {}
linear = keras_recipes.run("linear_regression", {**QUIET, **epochs})
for name in ("test_r2", "reference_r2", "test_rmse", "test_mae"):
    print(f"{name:14s} {linear.metrics[name]:.3f}")

# %% [markdown]
# An R^2 of about 0.3 on this split: a straight line explains a third of the
# variation. That is the model's limit, not the optimizer's: gradient descent
# matches least squares.

# %%
from IPython.display import Image, display  # noqa: E402

display(Image(filename=str(linear.run_dir / "figures" / "predictions.png")))

# %% [markdown]
# ## Logistic regression on the digits
#
# Softmax regression sees each 8x8 digit as 64 numbers and learns one
# weighted sum per class. Its weights are pictures: the pixels that vote for
# (red) and against (blue) each digit.

# %%
epochs = {"train.epochs": 5} if QUICK else {}
logistic = keras_recipes.run("logistic_regression", {**QUIET, **epochs})
print("test accuracy:", round(logistic.metrics["test_accuracy"], 4))
display(Image(filename=str(logistic.run_dir / "figures" / "weights.png")))

# %% [markdown]
# ## Initialisation in a deep ReLU network
#
# Each layer of a ReLU network multiplies the scale of its input by about
# `sqrt(n * var(w) / 2)`. He initialisation, var(w) = 2/n, keeps it at one;
# the classic U(-1/sqrt(n), 1/sqrt(n)) has var(w) = 1/(3n) and shrinks the
# signal by 0.4 per layer. Here is the spread of each layer's activations at
# initialisation, before any training, for the four initialisers the recipes
# offer (`model.kernel_initializer`).

# %%
import keras  # noqa: E402

from keras_recipes.models import deep_mlp  # noqa: E402

x = np.random.default_rng(0).normal(size=(512, 64)).astype("float32")
for initializer in (
    "he_normal",
    "glorot_uniform",
    "truncated_normal",
    "uniform_fan_in",
):
    model = deep_mlp(64, 10, hidden_units=(256,) * 6, kernel_initializer=initializer)
    layers = [model.get_layer(f"hidden_{i}").output for i in range(1, 7)]
    stds = [float(np.std(a)) for a in keras.Model(model.inputs[0], layers)(x)]
    print(f"{initializer:17s}", " ".join(f"{s:7.4f}" for s in stds))

# %% [markdown]
# ## Over-fitting, and the training doctor
#
# A network with 85,000 weights trained on 100 digits, with no dropout and no
# early stopping, learns its training set by heart. `diagnose` reads the
# run's curves and says so, with the numbers, then lists the remedies.

# %%
over = keras_recipes.run(
    "mlp",
    {
        **QUIET,
        "model.hidden_units": [256, 256],
        "model.dropout": 0.0,
        "data.train_examples": 100,
        "train.epochs": 15 if QUICK else 40,
        "optimizer.learning_rate": 0.003,
        "callbacks.early_stopping.enabled": False,
        "callbacks.dead_relu.enabled": True,
    },
)
from keras_recipes.doctor import diagnose  # noqa: E402

print(diagnose(over.run_dir).report())

# %% [markdown]
# The same network with dropout, all 1,221 training digits and early
# stopping (the shipped `mlp` config) is healthy:

# %%
epochs = {"train.epochs": 8} if QUICK else {}
healthy = keras_recipes.run("mlp", {**QUIET, **epochs})
print(diagnose(healthy.run_dir).report())

# %% [markdown]
# From the shell: `python -m keras_recipes diagnose runs/mlp/<stamp>`. The
# `callbacks.dead_relu.enabled` switch logs the fraction of ReLU units that
# never fire, per layer and epoch, to TensorBoard and to `dead_relu.csv`,
# which the doctor reads.
#
# ## Optimizers
#
# Every recipe takes the optimizer from its config: `sgd` (with `momentum`
# and `nesterov`), `adagrad`, `rmsprop`, `adam`, and a learning-rate
# `schedule` (`exponential`, `cosine` or `step` decay). The same MLP, a few
# epochs with each:

# %%
optimizers = {
    "sgd": {"optimizer.name": "sgd", "optimizer.learning_rate": 0.05},
    "sgd + momentum": {
        "optimizer.name": "sgd",
        "optimizer.learning_rate": 0.05,
        "optimizer.momentum": 0.9,
    },
    "sgd + nesterov": {
        "optimizer.name": "sgd",
        "optimizer.learning_rate": 0.05,
        "optimizer.momentum": 0.9,
        "optimizer.nesterov": True,
    },
    "adagrad": {"optimizer.name": "adagrad", "optimizer.learning_rate": 0.05},
    "rmsprop": {"optimizer.name": "rmsprop", "optimizer.learning_rate": 0.001},
    "adam + decay": {
        "optimizer.name": "adam",
        "optimizer.learning_rate": 0.002,
        "optimizer.schedule.name": "exponential",
        "optimizer.schedule.decay_rate": 0.8,
    },
}
if QUICK:
    optimizers = {"adam + decay": optimizers["adam + decay"]}
for label, settings in optimizers.items():
    overrides = {**QUIET, **settings, "train.epochs": 2 if QUICK else 10}
    result = keras_recipes.run("mlp", overrides)
    print(
        f"{label:15s} val_loss {result.history['val_loss'][-1]:.4f}  "
        f"test accuracy {result.metrics['test_accuracy']:.4f}"
    )

# %% [markdown]
# ## K-fold cross-validation and ensembles
#
# One validation split is one draw; `cv` trains K times, holding out each
# fifth of the training data once, and reports the mean and the spread. Any
# recipe whose data step splits its validation set with
# `keras_recipes.data.split_validation` can be cross-validated.

# %%
from keras_recipes.selection import cross_validate, ensemble  # noqa: E402

folds = 2 if QUICK else 5
epochs = {"train.epochs": 3} if QUICK else {}
cv = cross_validate("logistic_regression", folds, {**QUIET, **epochs})
for name in ("val_accuracy", "test_accuracy"):
    print(f"{name}: {cv.mean(name):.4f} +- {cv.std(name):.4f} over {folds} folds")

# %% [markdown]
# The fold models were trained on different data, so they make different
# mistakes; averaging their predicted probabilities usually beats the average
# member. From the shell: `python -m keras_recipes ensemble RUN_DIR...`.

# %%
report = ensemble(cv.run_dirs)
print(json.dumps({k: report[k] for k in ("member_mean", "ensemble")}, indent=2))

# %% [markdown]
# ## From the shell
#
#     python -m keras_recipes run linear_regression --set optimizer.name=adam
#     python -m keras_recipes run deep_mlp --set model.kernel_initializer=uniform_fan_in
#     python -m keras_recipes run mlp --set model.dropout=0.5 --set model.l2=1e-4
#     python -m keras_recipes cv mlp --folds 5
#     python -m keras_recipes ensemble runs/mlp/A runs/mlp/B runs/mlp/C
#     python -m keras_recipes diagnose runs/mlp/A
