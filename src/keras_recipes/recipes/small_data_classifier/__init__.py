"""The `small_data_classifier` recipe: a small CNN, strong augmentation, early stopping.

`config` holds the settings (no TensorFlow), `data` the augmented image
pipelines of the digits or a folder, `recipe` the `SmallDataClassifier`.
"""
