"""The basics: linear regression, logistic regression and MLPs on real tabular data.

`linear_regression` fits scikit-learn's diabetes data; `logistic_regression`,
`mlp` and `deep_mlp` classify the 8x8 digits as 64 pixel features. Each
exposes the initialisation (`model.kernel_initializer`), regularisation
(`model.l1`, `model.l2`, `model.dropout`) and optimizer settings
(`optimizer.name`, `momentum`, `nesterov`, `learning_rate`, `schedule`);
`callbacks.dead_relu` logs the ReLU units that stopped firing.

`config` holds the settings (no TensorFlow), `data` the standardised tables,
`dense` the `DenseRecipe` and `DenseClassifier` bases, `evaluation` the
regression scores, `figures` the PNGs, and `recipe` the four recipes.

Run one with `python -m keras_recipes run mlp --set model.dropout=0.5`, or
`python -m keras_recipes.recipes.basics deep_mlp --set train.epochs=5`.
"""
