"""Shared fixtures: quiet TensorFlow, a digits image folder, a CLI runner."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# As `import keras_recipes` sets it, for test modules that import keras first.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args, cwd=None, timeout=600):
    """Runs `python -m keras_recipes ARGS` and returns the CompletedProcess."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    return subprocess.run(
        [sys.executable, "-m", "keras_recipes", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def digits_folder(tmp_path_factory):
    """The embedded digits written as PNGs in the train/validation/test layout."""
    from PIL import Image

    from keras_recipes.data.digits import load_digits, split_validation

    root = tmp_path_factory.mktemp("digits_folder")
    (x_train, y_train), (x_test, y_test), names = load_digits()
    (x_fit, y_fit), (x_val, y_val) = split_validation(x_train, y_train, 0.2, seed=0)
    for split, images, labels in (
        ("train", x_fit, y_fit),
        ("validation", x_val, y_val),
        ("test", x_test, y_test),
    ):
        for index, (image, label) in enumerate(zip(images, labels, strict=True)):
            folder = root / split / names[label]
            folder.mkdir(parents=True, exist_ok=True)
            pixels = np.round(image[..., 0]).astype("uint8")
            Image.fromarray(pixels, mode="L").save(folder / f"{index:04d}.png")
    return root
