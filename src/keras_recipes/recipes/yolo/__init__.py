"""The `yolo` recipe: anchors by k-means, the YOLO loss, decoding, NMS, mAP.

`config` holds the config dataclasses (no TensorFlow), `recipe` the
`YoloRecipe`; `data`, `splits`, `detect`, `evaluation`, `figures` and
`predict` hold its steps. Run it with `python -m keras_recipes run yolo` or
`python -m keras_recipes.recipes.yolo --set train.epochs=5`.
"""
