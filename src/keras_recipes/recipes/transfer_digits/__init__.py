"""Transfer learning offline: pretrain on rendered letters, transfer to a few digits.

What a user without a GPU or the internet can run to see transfer learning
work. A small CNN learns the 52 letters rendered from the fonts matplotlib
ships (`keras_recipes.data.glyphs`, pooled to the digits' 8x8 format); its
convolutional part is saved as a base. Then, with only a handful of
labelled real handwritten digits per class, three stage runs share the same
few labels, the same validation images for early stopping and the same
held-out test images (the fixed test split of `load_digits`):

- `scratch`: the same network (base + top), randomly initialised, with the
  same augmentation and epoch budget: the fair baseline;
- `bottleneck`: a top trained on the frozen pretrained base's features
  (`vgg16_bottleneck` with `base.name` the saved base);
- `fine_tune`: that trained top and the base's last block trained together
  with a slow SGD and augmentation (`vgg16_fine_tune`).

With so few labels, which digits are drawn moves every accuracy by several
points, so the draw is repeated (`data.draws`, a seed each) and the
accuracies are averaged.

`TransferDigits` trains nothing itself: it runs other recipes, each a full
run directory inside its own, and compares them. `pretraining/` is a
`GlyphPretraining` run (the letters network and its cut base,
`pretrained_base.keras`); `draw_<k>/<stage>/` are the stage runs; its
`metrics.json` puts the three mean test accuracies side by side.

`config` holds the settings (no TensorFlow), `pretraining` the
`GlyphPretraining` recipe, `stages` the configs of the stage runs,
`comparison` the metrics and figures across them, and `recipe` the
`TransferDigits` run that wires them.

Run it with `python -m keras_recipes run transfer_digits`.
"""
