"""Runs the `small_data_classifier` recipe.

`python -m keras_recipes.recipes.small_data_classifier --set train.epochs=5`
"""

import sys

from keras_recipes.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "small_data_classifier", *sys.argv[1:]]))
