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
# # Face verification and recognition with triplet embeddings
#
# FaceNet maps every face to a point on the unit sphere so that two photos of
# one person are close and photos of two people are far apart. Then
#
# - **verification** ("is this the same person?") is a distance threshold;
# - **recognition** ("who is this?") is the nearest enrolled person, or
#   `unknown` when nobody is near enough;
# - a new person is added from **one photo** (one-shot learning), by storing
#   its embedding, with no retraining.
#
# The network learns this with the **triplet loss**: for an anchor `a`, a
# positive `p` (same identity) and a negative `n` (another identity),
# `max(d(a, p) - d(a, n) + margin, 0)`.
#
# No face data set with identities can be downloaded here, so identities
# stand in for faces: the network trains on 52 letters rendered from the
# fonts matplotlib ships, and is tested on identities it never saw, the real
# handwritten digits. The last section points the same recipe at a folder of
# faces, or at LFW.

# %%
import json
import os

import numpy as np

import keras_recipes

# A test runs this notebook with KERAS_RECIPES_QUICK=1 to keep it short.
QUICK = os.environ.get("KERAS_RECIPES_QUICK") == "1"

# %% [markdown]
# ## The identities
#
# `render_glyphs` draws letters in 22 fonts at random sizes, offsets,
# rotations and stroke widths, binarised and pooled to the 8x8 format of
# scikit-learn's digits. The recipe size-normalises them as the digits were
# (`fit_height`), which brings them closer to handwriting.

# %%
from IPython.display import Image, display  # noqa: E402

from keras_recipes.data import load_digits, render_glyphs  # noqa: E402
from keras_recipes.figures import plot_image_grid  # noqa: E402

glyphs, glyph_labels, letters = render_glyphs(
    samples_per_class=3, seed=0, font_size=(30, 42), fit_height=(30, 32)
)
(digits, digit_labels), _, _ = load_digits()
order = np.argsort(glyph_labels, kind="stable")[: 3 * 16]
plot_image_grid(
    np.concatenate([glyphs[order], digits[:16]]),
    "identities.png",
    titles=[letters[i] for i in glyph_labels[order]]
    + [f"digit {d}" for d in digit_labels[:16]],
    columns=16,
)
display(Image("identities.png"))

# %% [markdown]
# ## P x K batches and the triplet loss
#
# Triplets are mined inside each batch, so a batch must hold several images
# of each identity: `PKSampler` draws P identities and K images of each.
# `TripletLoss` then scores the batch; `mining` picks the triplets:
# `batch_all` (every triplet that still violates the margin), `batch_hard`
# (each anchor's farthest positive and nearest negative) or `semi_hard`
# (TensorFlow Addons' rule, of which this is a drop-in replacement).

# %%
from keras_recipes.data import PKSampler  # noqa: E402
from keras_recipes.losses import TripletLoss  # noqa: E402

batch = PKSampler(glyph_labels, identities_per_batch=4, images_per_identity=3).sample(1)
print("one batch, grouped by identity:", [letters[i] for i in glyph_labels[batch[0]]])

labels = np.array([0, 0, 1, 1])
embeddings = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [0.6, 0.8]])
for mining in ("batch_all", "batch_hard", "semi_hard"):
    loss = TripletLoss(margin=0.2, mining=mining)(labels, embeddings)
    print(f"{mining:10s} {float(loss):.4f}")

# %% [markdown]
# ## The config
#
# The keys that matter: `data` (where identities come from and which ones are
# kept unseen), `sampler` (P and K), `model` (backbone and embedding size)
# and `loss` (margin, mining, distance).

# %%
overrides = {"train.verbose": 2}
if QUICK:
    overrides.update(
        {
            "data.glyphs_per_class": 30,
            "train.epochs": 10,
            "model.filters": [16, 32],
            "optimizer.schedule.name": "constant",
            "optimizer.learning_rate": 0.003,
            "verification.max_pairs": 4000,
            "verification.one_shot_trials": 2,
            "verification.projection_points": 100,
        }
    )
config = keras_recipes.load_config("face_triplet", overrides)
for section in ("data", "sampler", "model", "loss"):
    print(section, getattr(config, section))

# %% [markdown]
# ## Train and evaluate
#
# After training, the recipe chooses the distance threshold that classifies
# the most validation pairs right, then scores pairs of held-out images of
# the training letters (`seen_*`) and pairs of digits (`unseen_*`): ROC AUC,
# equal error rate, accuracy at the threshold and the true accept rate at a
# false accept rate of 1e-3 (`val`), as facenet reports them. The raw-pixel
# distance on the same digit pairs (`unseen_pixel_auc`) is the baseline any
# embedding must beat.

# %%
result = keras_recipes.run("face_triplet", overrides)
print(json.dumps(result.metrics, indent=2))

# %%
for name in (
    "training_curves",
    "pk_batch",
    "roc_curves",
    "distance_histograms",
    "embedding_projection",
    "one_shot",
):
    display(Image(filename=str(result.run_dir / "figures" / f"{name}.png")))

# %% [markdown]
# ## Verification
#
# Two images show the same identity when their embeddings are at most the
# threshold apart. The run saved the threshold in `verification.json`.

# %%
import keras  # noqa: E402

from keras_recipes import faces  # noqa: E402

model = keras.saving.load_model(result.run_dir / "model.keras")
threshold = result.metrics["threshold"]
pairs = {"two 3s": (3, 3), "a 3 and an 8": (3, 8)}
for name, (first, second) in pairs.items():
    a = digits[np.flatnonzero(digit_labels == first)[0]]
    b = digits[np.flatnonzero(digit_labels == second)[1]]
    embedded = faces.embed_images(model, np.stack([a, b]))
    distance = float(np.sum((embedded[0] - embedded[1]) ** 2))
    verdict = "same" if distance <= threshold else "different"
    print(f"{name}: distance {distance:.3f} -> {verdict} (threshold {threshold:.3f})")

# %% [markdown]
# ## Recognition: enrol from one image, identify, or say `unknown`
#
# The database stores each enrolled identity's embedding, computed once.
# Here digits 0-4 are enrolled from one image each; a query of a digit 5-9
# should come back `unknown`.

# %%
database = faces.EnrollmentDatabase(threshold=threshold)
for digit in range(5):
    image = digits[np.flatnonzero(digit_labels == digit)[0]]
    database.enroll(f"digit {digit}", faces.embed_images(model, image[None]))
database.save("enrolled.npz")
database = faces.EnrollmentDatabase.load("enrolled.npz")
queries = [np.flatnonzero(digit_labels == d)[2] for d in range(10)]
answers = database.identify(faces.embed_images(model, digits[queries]))
for digit, (name, distance) in zip(range(10), answers, strict=True):
    print(f"a {digit}: {name} (distance {distance:.3f})")

# %% [markdown]
# The same from the command line, on image files: one subfolder per person
# (or one image per person, named after them) to enrol,
#
#     python -m keras_recipes enroll RUN_DIR people/
#     python -m keras_recipes verify RUN_DIR photo1.png photo2.png
#     python -m keras_recipes identify RUN_DIR photo.png
#
# and `tensorboard --logdir RUN_DIR/logs` shows the embeddings, labelled and
# drawn as their images, in the Projector tab.
#
# ## The Siamese variant
#
# Instead of a distance, a Siamese network learns the decision: one shared
# encoder embeds both images, and a sigmoid unit reads `|f(x1) - f(x2)|`.
# It trains with binary cross-entropy on same / different pairs.

# %%
from keras_recipes.models import embedding_model, siamese_model  # noqa: E402

keras.utils.set_random_seed(0)
siamese = siamese_model(embedding_model((8, 8, 1), embedding_dim=32))
first, second, same = faces.sample_pairs(glyph_labels, max_pairs=2000, seed=0)
siamese.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
siamese.fit(
    [glyphs[first], glyphs[second]],
    same.astype("float32"),
    epochs=2 if QUICK else 10,
    verbose=0,
)
first, second, same = faces.sample_pairs(digit_labels, max_pairs=4000, seed=1)
probability = siamese.predict([digits[first], digits[second]], verbose=0)[:, 0]
print("Siamese AUC on unseen digit pairs:", round(faces.roc_auc(-probability, same), 3))

# %% [markdown]
# ## Your own faces
#
# Put the photos in one subfolder per person (the LFW layout), and hold some
# people out as the unseen identities:
#
#     faces/George_W_Bush/George_W_Bush_0001.jpg
#     faces/Colin_Powell/Colin_Powell_0001.jpg ...
#
#     python -m keras_recipes run face_triplet \
#         --set data.source=folder --set data.directory=faces \
#         --set data.unseen=held_out --set data.unseen_fraction=0.3 \
#         --set data.image_size=[64,64] --set model.filters=[32,64,128]
#
# With the internet, `--set data.source=lfw` fetches Labeled Faces in the
# Wild through scikit-learn (people with at least
# `data.lfw_min_faces_per_person` photos). A `keras.applications` backbone is
# `--set model.backbone=MobileNetV3Small --set data.color_mode=rgb`.
#
# ## What this shows, and what it does not
#
# It shows the whole method working offline on real unseen identities: the
# embedding separates held-out images of its training letters almost
# perfectly, and it verifies and recognises handwritten digits, never seen
# in training, better than raw pixels do. It does not show face-level
# accuracy: 52 letter identities at 8x8 pixels are far from thousands of
# people photographed in the wild, and the digits differ from the letters
# in style (handwriting against fonts) as well as identity.
