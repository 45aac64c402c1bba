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
# # Object detection with YOLO
#
# YOLO ("you only look once") splits the image into an S x S grid. Each cell
# predicts, for each of its B anchor boxes, a vector `[Pc, bx, by, bw, bh,
# c1 .. cC]`: is there an object whose centre lies in this cell, where is its
# box, and which class is it. One forward pass gives every box; decoding,
# thresholding `Pc x class probability` and non-max suppression per class
# turn the grid into final detections, and mean average precision (mAP)
# says how good they are.
#
# This walkthrough trains the `yolo` recipe on the embedded `shapes` set,
# looks at each step (anchors, target encoding, loss, decoding, NMS, mAP,
# export), points the same recipe at a Pascal VOC folder, and ends with the
# rest of the course's detection path: classification with localization,
# landmarks and convolutional sliding windows.

# %%
import json
import os

import matplotlib.pyplot as plt
import numpy as np

import keras_recipes
from keras_recipes import detection
from keras_recipes.data.shapes import load_shapes

# A test runs this notebook with KERAS_RECIPES_QUICK=1 to keep it short.
QUICK = os.environ.get("KERAS_RECIPES_QUICK") == "1"

# %% [markdown]
# ## The data
#
# `shapes` is generated on the fly and deterministic: ellipses, rectangles
# and triangles of random colour, size and aspect ratio on textured
# backgrounds, several per image. Half the images hold a crossing pair, a
# tall and a wide object with the same centre, like the course's pedestrian
# in front of a car: both fall in one grid cell, so one box per cell would
# lose one of them. The test split is fixed, whatever the seed.

# %%
(x_train, y_train), (x_test, y_test), class_names = load_shapes(400, 8)
detection.plot_detections(
    x_train[:4], "shapes.png", truths=y_train[:4], class_names=class_names
)
plt.imshow(plt.imread("shapes.png"))
plt.axis("off")

# %% [markdown]
# ## Anchors for your data
#
# Anchor boxes are the typical box shapes; each object is given to the
# anchor whose shape is closest to its own. `kmeans_anchors` finds them by
# k-means with `1 - IoU` as the distance (boxes compared by shape only), as
# YOLOv2 does. Here they come out as a small square, a wide and a tall box.

# %%
box_wh = np.concatenate([y["boxes"][:, 2:] - y["boxes"][:, :2] for y in y_train])
anchors = detection.kmeans_anchors(box_wh, k=3)
print("anchors (w, h):", anchors.round(1).tolist())

# %% [markdown]
# ## Target encoding
#
# The grid follows from the input size and the backbone's strides alone:
# the small backbone halves the image three times (a stride-2 first conv
# and two 2 x 2 poolings; three poolings with `model.strided_stem: false`,
# as YOLOv2-tiny), turning 96 x 96 pixels into a 12 x 12 grid, so the
# targets are encoded before any model exists.
# `encode_yolo_targets` puts each object in the cell holding its centre, on
# the anchor of best IoU; a second object in the same cell takes another
# anchor. A crossing pair therefore fills two anchors of one cell:

# %%
grid = detection.yolo_grid((96, 96))
print("grid:", grid)
pair = {
    "boxes": np.array([[44, 30, 56, 66], [30, 42, 70, 54]], "float32"),
    "classes": np.array([0, 1]),
}
target = detection.encode_yolo_targets(
    pair["boxes"],
    pair["classes"],
    grid_size=grid,
    anchors=anchors,
    num_classes=3,
    image_size=(96, 96),
)
for row, column, anchor in np.argwhere(target[..., 0] == 1):
    print(
        f"cell ({row}, {column}) anchor {anchor}:", target[row, column, anchor].round(3)
    )

# %% [markdown]
# That is YOLOv2's assignment: one slot learns each box. YOLOv5 gives a box
# more slots, which learn from it at once (`assignment="multi"`): every
# anchor within a factor 4 of its shape, in its own cell and in the two
# neighbouring cells nearest its centre. Centres then need to reach half a
# cell past their own (`xy_scale`, 2 instead of 1), so the loss and the
# decoding are told the same:

# %%
multi = detection.encode_yolo_targets(
    pair["boxes"],
    pair["classes"],
    grid_size=grid,
    anchors=anchors,
    num_classes=3,
    image_size=(96, 96),
    assignment="multi",
)
print(
    "slots with an object: single",
    int(target[..., 0].sum()),
    "multi",
    int(multi[..., 0].sum()),
)
print("xy_scale:", detection.xy_scale("single"), "->", detection.xy_scale("multi"))

# %% [markdown]
# ## Train, evaluate, export
#
# The recipe does all of it: anchors by k-means when `model.anchors: auto`,
# the small default backbone (`model.backbone` can name any
# `keras.applications` model instead), the YOLO loss (logistic objectness
# with a no-object weight and YOLOv3's ignore threshold, 1 - CIoU between
# the decoded and the true boxes, cross-entropy on the classes; finite even
# for zero-size boxes and huge logits; `loss.box_loss: squared` is YOLOv2's
# squared error on the offsets), random flips, zooms, shifts and colour
# changes whose boxes follow the pixels, then mAP on the held-out split.
# The shipped config reaches a `map50` of about 0.99 and a `map` of about
# 0.80 in about 6 minutes on two cores; the quick mode below only shows
# the mechanics.

# %%
overrides = {"train.verbose": 2}
if QUICK:
    overrides.update(
        {
            "train.epochs": 1,
            "data.image_size": [64, 64],
            "data.shapes.num_train": 120,
            "data.shapes.num_test": 16,
            "model.filters": [8, 16, 32, 64],
            "model.head_filters": 16,
        }
    )
result = keras_recipes.run("yolo", overrides)
print(json.dumps(result.metrics, indent=2))

# %% [markdown]
# `map50` is the Pascal VOC mean average precision at IoU 0.5 (all-point
# interpolation) and `map` the COCO one, averaged over IoU 0.50:0.95; both
# come from `detection.evaluate_detections`, whose `map` agrees with
# pycocotools. The figures show predicted (solid) and true (dashed) boxes on
# test images, and the anchors among the training boxes.

# %%
from IPython.display import Image, display  # noqa: E402

for name in ("detections", "anchors", "training_curves"):
    display(Image(filename=str(result.run_dir / "figures" / f"{name}.png")))

# %% [markdown]
# ## Decoding and non-max suppression
#
# The raw grid becomes boxes with YAD2K's formulas (sigmoid offset plus the
# cell index, anchor size times `exp`), scores are `Pc x class probability`,
# scores under 0.6 are dropped and a box is suppressed when it overlaps a
# better box of the same class with IoU >= 0.5. TensorFlow's
# `combined_non_max_suppression` clips boxes to [0, 1] unless told not to;
# these boxes are in pixels, so `yolo_detections` turns that off.

# %%
model = keras_recipes.load_run(result.run_dir)[1]
info = json.loads((result.run_dir / "detection.json").read_text())
size = tuple(info["image_size"])
images = load_shapes(1, 4, image_size=size[0])[1][0]
raw = model.predict(images.astype("float32"), verbose=0)
print("raw output:", raw.shape)
found = detection.detections_to_list(
    detection.yolo_detections(raw, info["anchors"], size, score_threshold=0.6)
)
print({key: value.round(2).tolist() for key, value in found[0].items()})

# %% [markdown]
# The SavedModel in `export/saved_model` includes decoding and NMS, so a
# served model returns final boxes:

# %%
import tensorflow as tf  # noqa: E402

served = tf.saved_model.load(str(result.run_dir / "export" / "saved_model"))
print({k: v.shape for k, v in served.serve(images.astype("float32")).items()})

# %% [markdown]
# From the command line, `python -m keras_recipes predict <run> a.jpg b.png`
# prints each file's detections in its own pixels and draws them into
# `<run>/predictions/`.
#
# ## Your own annotated data
#
# Pascal VOC (`Annotations/*.xml`, `JPEGImages/`,
# `ImageSets/Main/{train,val,test}.txt`), COCO JSON
# (`annotations/{train,val,test}.json`) and YOLO txt (`images/<split>/`,
# `labels/<split>/`, `classes.txt`) folders are read and checked: a box
# outside its image, a zero-size box, an unknown class, a missing image or a
# path leaving the folder stops the run with one line naming the file and
# the object. Images of any size are resized with their boxes. Here the
# shapes are written as a VOC folder and the same config trains on it:

# %%
import shutil  # noqa: E402

from keras_recipes.data.annotations import write_voc  # noqa: E402

shutil.rmtree("shapes_voc", ignore_errors=True)
count = 60 if QUICK else 600
(x_voc, y_voc), (x_voc_test, y_voc_test), _ = load_shapes(count, count // 5)
write_voc("shapes_voc", "train", x_voc, y_voc, class_names)
write_voc("shapes_voc", "test", x_voc_test, y_voc_test, class_names, first_id=count)
voc = {
    **overrides,
    "data.source": "folder",
    "data.format": "voc",
    "data.directory": "shapes_voc",
}
voc_result = keras_recipes.run("yolo", voc)
print("VOC folder map50:", round(voc_result.metrics["map50"], 3))

# %% [markdown]
# ## Classification with localization, landmarks, sliding windows
#
# Before YOLO, the course builds detection in three steps, each a factory
# here. A classifier with localization outputs `[Pc, bx, by, bw, bh, c1 ..
# cC]` for one object and trains with `LocalizationLoss` (logistic `Pc`,
# and, only where there is an object, squared error on the box and
# cross-entropy on the class). A landmark detector regresses K points.

# %%
localizer = detection.classification_with_localization((64, 64, 3), num_classes=3)
landmarks = detection.landmark_detector((64, 64, 3), num_landmarks=4)
print(localizer.output_shape, landmarks.output_shape)

# %% [markdown]
# Sliding windows done convolutionally (OverFeat): `to_fully_convolutional`
# turns a window classifier's `Flatten` + `Dense` head into convolutions,
# so one pass over a larger image classifies every window, sharing the work
# where windows overlap. Its output equals running the classifier on each
# window:

# %%
import keras  # noqa: E402

classifier = keras.Sequential(
    [
        keras.Input((14, 14, 3)),
        keras.layers.Conv2D(16, 5, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(400, activation="relu"),
        keras.layers.Dense(400, activation="relu"),
        keras.layers.Dense(4, activation="softmax"),
    ]
)
convolutional = detection.to_fully_convolutional(classifier)
picture = np.random.default_rng(0).uniform(0, 1, (1, 28, 28, 3)).astype("float32")
maps = convolutional.predict(picture, verbose=0)
windows = detection.classify_windows(classifier, picture)
print("map:", maps.shape, "largest difference:", float(np.abs(maps - windows).max()))
