"""Runs the `vgg16_bottleneck` recipe.

`python -m keras_recipes.recipes.vgg16_bottleneck --set data.directory=DATA`
"""

import sys

from keras_recipes.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "vgg16_bottleneck", *sys.argv[1:]]))
