"""Runner overhead: `keras_recipes.run` against a hand-written plain Keras script.

Both train the same small CNN on the same digits split, with the same
augmentation layers, batch size and number of epochs (early stopping off, so
the epochs match). The recipe also writes its run directory: checkpoints,
TensorBoard logs, history, backups, figures and the exported model; that
work is part of what the ratio measures. Each side runs `--repeats` times,
alternating, and the medians are compared.

    python benchmarks/runner_overhead.py [--epochs 10] [--repeats 3]
"""

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_recipes  # noqa: E402
from keras_recipes.data.digits import load_digits, split_validation  # noqa: E402


def plain_keras(config):
    """Trains the recipe's model the way a hand-written script would."""
    keras.utils.set_random_seed(config.seed)
    (x, y), (x_test, y_test), _ = load_digits()
    size = tuple(config.data.image_size)
    x = tf.image.resize(x, size).numpy()
    x_test = tf.image.resize(x_test, size).numpy()
    (x_fit, y_fit), (x_val, y_val) = split_validation(
        x, y, config.train.validation_split, config.seed
    )
    augment = config.data.augmentation
    augmenter = keras.Sequential(
        [
            keras.layers.RandomRotation(augment.rotation, fill_mode="constant"),
            keras.layers.RandomZoom(augment.zoom, fill_mode="constant"),
            keras.layers.RandomTranslation(
                augment.translation, augment.translation, fill_mode="constant"
            ),
        ]
    )
    batch = config.train.batch_size
    train = (
        tf.data.Dataset.from_tensor_slices((x_fit, y_fit))
        .shuffle(len(x_fit), seed=config.seed)
        .batch(batch)
        .map(lambda images, labels: (augmenter(images, training=True), labels))
        .prefetch(tf.data.AUTOTUNE)
    )
    layers = [keras.Input((*size, 1)), keras.layers.Rescaling(1 / 255)]
    for filters in config.model.filters:
        layers += [
            keras.layers.Conv2D(filters, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
        ]
    layers += [
        keras.layers.Flatten(),
        keras.layers.Dense(config.model.dense_units, activation="relu"),
        keras.layers.Dropout(config.model.dropout),
        keras.layers.Dense(10, activation="softmax"),
    ]
    model = keras.Sequential(layers)
    model.compile(
        keras.optimizers.Adam(config.optimizer.learning_rate),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(
        train, validation_data=(x_val, y_val), epochs=config.train.epochs, verbose=0
    )
    return model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    overrides = {
        "train.epochs": args.epochs,
        "train.verbose": 0,
        "optimizer.schedule.name": "constant",
        "callbacks.early_stopping.enabled": False,
    }
    config = keras_recipes.load_config("small_data_classifier", overrides)
    times = {"plain Keras": [], "keras_recipes.run": []}
    with tempfile.TemporaryDirectory() as root:
        for _ in range(args.repeats):
            started = time.perf_counter()
            plain_accuracy = plain_keras(config)
            times["plain Keras"].append(time.perf_counter() - started)
            started = time.perf_counter()
            result = keras_recipes.run(
                "small_data_classifier", overrides, runs_root=root
            )
            times["keras_recipes.run"].append(time.perf_counter() - started)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"{name:20s} {value:6.2f} s (median of {args.repeats})")
    print(
        f"test accuracy: plain {plain_accuracy:.3f}, "
        f"recipe {result.metrics['test_accuracy']:.3f}"
    )
    ratio = medians["keras_recipes.run"] / medians["plain Keras"]
    print(f"runner overhead ratio: {ratio:.3f} (target <= 1.05)")


if __name__ == "__main__":
    main()
