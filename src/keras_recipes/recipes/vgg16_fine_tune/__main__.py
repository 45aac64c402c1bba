"""Runs the `vgg16_fine_tune` recipe.

`python -m keras_recipes.recipes.vgg16_fine_tune --set fine_tune.top_run=RUN`
"""

import sys

from keras_recipes.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "vgg16_fine_tune", *sys.argv[1:]]))
