"""The `style_transfer` recipe: neural style transfer (Gatys et al.), with the
generated image as the one trainable weight of a Keras model.

`config` holds the settings (no TensorFlow), `recipe` the `StyleTransfer`
recipe; the model, its cost and its callbacks are in `keras_recipes.style`.
"""
