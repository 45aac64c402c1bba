import sys

from keras_recipes.cli import main

# python -m keras_recipes.recipes.basics [linear_regression | ...] [--set ...]
NAMES = ("linear_regression", "logistic_regression", "mlp", "deep_mlp")

if __name__ == "__main__":
    arguments = sys.argv[1:]
    name = arguments.pop(0) if arguments and arguments[0] in NAMES else "mlp"
    sys.exit(main(["run", name, *arguments]))
