import sys

from keras_recipes.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "yolo", *sys.argv[1:]]))
