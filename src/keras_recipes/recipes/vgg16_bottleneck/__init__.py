"""The `vgg16_bottleneck` recipe: a frozen base run once, a small top on its output.

`config` holds the settings (no TensorFlow), `base` the cut pretrained base
and what identifies its features, `data` the labelled images and feature
datasets, `features` the cached extraction, `recipe` the `VGG16Bottleneck`.
`vgg16_fine_tune` builds on the same pieces.
"""
