"""Runs the `autoencoder` recipe: `python -m keras_recipes.recipes.autoencoder`."""

import sys

from keras_recipes.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "autoencoder", *sys.argv[1:]]))
