import sys

from keras_recipes.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "char_rnn", *sys.argv[1:]]))
