"""Runs `style_transfer`: `python -m keras_recipes.recipes.style_transfer`."""

import sys

from keras_recipes.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "style_transfer", *sys.argv[1:]]))
