"""Runs the `vae` recipe: `python -m keras_recipes.recipes.vae`."""

import sys

from keras_recipes.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "vae", *sys.argv[1:]]))
