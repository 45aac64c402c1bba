"""The `vgg16_fine_tune` recipe: the last block of a pretrained base and a trained top.

`config` holds the settings (no TensorFlow), `data` the augmented image
datasets, `model` the trainable copy of the base and the top it starts
from, `recipe` the `VGG16FineTune`. The base, the images and the feature
cache are those of `vgg16_bottleneck`.
"""
