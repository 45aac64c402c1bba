"""Runner overhead: `run small_data_classifier` against a plain Keras script.

Both sides train the same model (`small_cnn` with the shipped config: digits
at 16x16, conv 32-64, dense 128, dropout 0.5) on the same digits split, with
the same augmentation ranges in the `tf.data` pipeline, the same batch size,
epochs, Adam with cosine decay and the same dtype policy (what
`mixed_precision: auto` picks here), then evaluate on the test split. Early
stopping is off so that both train every epoch, and progress bars are off on
both sides. The plain side is what the Keras guides write:
`from_tensor_slices().shuffle().batch().map(augment, AUTOTUNE).prefetch()`,
`fit`, `evaluate`, with Keras's `RandomRotation`, `RandomZoom` and
`RandomTranslation`. The recipe also re-seeds every epoch, writes checkpoints,
TensorBoard logs, history, backups, the exported model and figures: that is
the overhead measured. Two of the recipe's parts are faster than what the
plain script uses, and offset part of that work: one resampling per image
for the three transforms (`RandomImageAugmentation`) and Adam through
TensorFlow's fused kernel. The report prints the per-epoch times of both
sides and the recipe's steps and callbacks, so the two can be told apart.

Each run is a fresh process, so no state (op determinism, dtype policy,
traced graphs) leaks from one side to the other. Both processes import the
same modules; the clock starts after the imports (the same on both sides)
and stops when the test accuracy is known, so data loading, model building,
graph tracing, training and evaluation are timed on both sides. The sides
alternate (plain, recipe, plain, recipe, ...) so a busy machine slows both
alike; the ratio is the median of the per-pair ratios, target <= 1.05.

    python benchmarks/runner_overhead.py [--epochs 60] [--repeats 3] [--quick]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_recipes  # noqa: E402
from keras_recipes.data.augmentation import build_augmentation  # noqa: E402
from keras_recipes.data.digits import load_digits, split_validation  # noqa: E402
from keras_recipes.models.classifier import small_cnn  # noqa: E402
from keras_recipes.precision import (  # noqa: E402
    dtype_policy,
    keep_outputs_float32,
    resolve_mixed_precision,
)
from keras_recipes.recipes.small_data_classifier import (  # noqa: E402
    SmallDataClassifier,
)

RECIPE = "small_data_classifier"


class EpochClock(keras.callbacks.Callback):
    """Records the wall time of each epoch, callbacks and validation included."""

    def on_train_begin(self, logs=None):
        self.times, self.last = [], time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        self.times.append(now - self.last)
        self.last = now


def plain_model(config, policy):
    """The recipe's model as a hand-written script builds it."""
    size = tuple(config.data.image_size)
    layers = [keras.Input((*size, 1)), keras.layers.Rescaling(1 / 255)]
    for filters in config.model.filters:
        layers += [
            keras.layers.Conv2D(filters, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
        ]
    # The Keras mixed precision guide keeps the output layer in float32.
    output_dtype = "float32" if policy != "float32" else None
    layers += [
        keras.layers.Flatten(),
        keras.layers.Dense(config.model.dense_units, activation="relu"),
        keras.layers.Dropout(config.model.dropout),
        keras.layers.Dense(10, activation="softmax", dtype=output_dtype),
    ]
    return keras.Sequential(layers)


def plain_augmenter(config):
    """The recipe's augmentation as a hand-written script writes it."""
    augment = config.data.augmentation
    fill = augment.fill_mode
    return keras.Sequential(
        [
            keras.layers.RandomRotation(augment.rotation, fill_mode=fill),
            keras.layers.RandomZoom(augment.zoom, fill_mode=fill),
            keras.layers.RandomTranslation(
                augment.translation, augment.translation, fill_mode=fill
            ),
        ]
    )


def check_same_setup(config, policy):
    """Checks that the plain side builds what the recipe builds."""
    size = tuple(config.data.image_size)
    with dtype_policy(policy):
        ours = plain_model(config, policy)
        theirs = small_cnn(
            (*size, 1),
            10,
            filters=tuple(config.model.filters),
            kernel_size=config.model.kernel_size,
            dense_units=config.model.dense_units,
            dropout=config.model.dropout,
            padding=config.model.padding,
        )
    if policy != "float32":
        keep_outputs_float32(theirs)

    def layers(model):
        return [
            (
                type(layer).__name__,
                [tuple(w.shape) for w in layer.weights],
                layer.compute_dtype,
                layer.get_config().get("activation"),
            )
            for layer in model.layers
        ]

    assert layers(ours) == layers(theirs), (layers(ours), layers(theirs))
    # The recipe resamples once for all three transforms (one affine map per
    # image); the plain side chains Keras's layers. The ranges are the same.
    ours = build_augmentation(config.data.augmentation, size, 1)
    plain = {
        type(layer).__name__: layer.get_config()
        for layer in plain_augmenter(config).layers
    }
    assert plain["RandomRotation"]["factor"] == (-ours.rotation, ours.rotation)
    assert plain["RandomZoom"]["height_factor"] == ours.zoom
    assert plain["RandomZoom"]["width_factor"] is None  # the same zoom on both axes
    translation = plain["RandomTranslation"]
    assert (
        translation["height_factor"] == translation["width_factor"] == ours.translation
    )
    assert {c["fill_mode"] for c in plain.values()} == {ours.fill_mode}
    assert not (ours.flip != "none" or ours.shear or ours.crop or ours.contrast)
    assert not (ours.brightness or ours.hue or ours.saturation)
    assert config.optimizer.name == "adam"
    assert config.optimizer.schedule.name == "cosine"
    assert config.optimizer.schedule.warmup_epochs == 0


def run_plain(config, policy, clock):
    """Trains and evaluates the way a hand-written Keras script does."""
    keras.utils.set_random_seed(config.seed)
    keras.config.set_dtype_policy(policy)
    (x, y), (x_test, y_test), _ = load_digits()
    size = tuple(config.data.image_size)
    x = tf.image.resize(x, size).numpy()
    x_test = tf.image.resize(x_test, size).numpy()
    (x_fit, y_fit), (x_val, y_val) = split_validation(
        x, y, config.train.validation_split, config.seed
    )
    batch_size, epochs = config.train.batch_size, config.train.epochs
    augmenter = plain_augmenter(config)
    train = (
        tf.data.Dataset.from_tensor_slices((x_fit, y_fit))
        .shuffle(len(x_fit))
        .batch(batch_size)
        .map(
            lambda images, labels: (augmenter(images, training=True), labels),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        .prefetch(tf.data.AUTOTUNE)
    )
    steps = -(-len(x_fit) // batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(
        config.optimizer.learning_rate, decay_steps=steps * epochs
    )
    model = plain_model(config, policy)
    model.compile(
        keras.optimizers.Adam(schedule),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(
        train,
        validation_data=(x_val, y_val),
        epochs=epochs,
        callbacks=[clock],
        verbose=0,
    )
    return model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]


HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_end",
)


class TimedClassifier(SmallDataClassifier):
    """The recipe with the seconds of its steps and callbacks recorded."""

    def __init__(self, *args, clock=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.clock, self.steps, self.callback_seconds = clock, {}, {}
        for name in (
            "build_data",
            "build_model",
            "compile",
            "build_callbacks",
            "fit",
            "evaluate",
            "export",
            "figures",
        ):
            setattr(self, name, self._timed(name, getattr(self, name), self.steps))

    @staticmethod
    def _timed(name, method, totals):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            result = method(*args, **kwargs)
            totals[name] = totals.get(name, 0) + time.perf_counter() - started
            return result

        return timed

    def build_callbacks(self):
        callbacks = super().build_callbacks()
        for callback in callbacks:
            name = type(callback).__name__
            for hook in HOOKS:
                method = getattr(callback, hook)
                # Keras skips hooks a callback does not define: keep them so.
                if not getattr(method, "_is_default", False):
                    setattr(
                        callback,
                        hook,
                        self._timed(name, method, self.callback_seconds),
                    )
        return [*callbacks, self.clock]


def child(side, overrides):
    """Runs one side in this process and prints its timings as JSON."""
    config = keras_recipes.load_config(RECIPE, overrides)
    policy = resolve_mixed_precision(config.train.mixed_precision)
    clock = EpochClock()
    steps, callbacks = {}, {}
    with tempfile.TemporaryDirectory() as root:
        started, cpu = time.perf_counter(), time.process_time()
        if side == "plain":
            accuracy = run_plain(config, policy, clock)
        else:
            recipe = TimedClassifier(config, runs_root=root, clock=clock)
            accuracy = recipe.run().metrics["test_accuracy"]
            steps, callbacks = recipe.steps, recipe.callback_seconds
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu": cpu,
                "epochs": clock.times,
                "accuracy": accuracy,
                "policy": policy,
                "steps": steps,
                "callbacks": callbacks,
            }
        )
    )


def run_side(side, overrides):
    """Runs one side in a fresh process and returns its timings."""
    process = subprocess.run(
        [
            sys.executable,
            __file__,
            "--side",
            side,
            "--overrides",
            json.dumps(overrides),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if process.returncode:
        raise RuntimeError(f"{side} side failed:\n{process.stderr[-3000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60, help="the shipped 60")
    parser.add_argument("--repeats", type=int, default=3, help="pairs of runs")
    parser.add_argument("--quick", action="store_true", help="10 epochs, 2 pairs")
    parser.add_argument("--side", choices=("plain", "recipe"), help=argparse.SUPPRESS)
    parser.add_argument("--overrides", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        return child(args.side, json.loads(args.overrides))
    if args.quick:
        args.epochs, args.repeats = 10, 2
    overrides = {
        "train.epochs": args.epochs,
        "train.verbose": 0,
        "callbacks.early_stopping.enabled": False,
    }
    config = keras_recipes.load_config(RECIPE, overrides)
    policy = resolve_mixed_precision(config.train.mixed_precision)
    check_same_setup(config, policy)
    runs = {"plain": [], "recipe": []}
    for _ in range(args.repeats):
        for side in runs:
            runs[side].append(run_side(side, overrides))
    print(
        f"{RECIPE}, shipped config: {args.epochs} epochs, batch "
        f"{config.train.batch_size}, policy {policy}, early stopping off; "
        f"{args.repeats} alternating pairs of fresh processes"
    )
    for side, results in runs.items():
        seconds = [r["seconds"] for r in results]
        first = statistics.median(r["epochs"][0] for r in results)
        later = statistics.median(t for r in results for t in r["epochs"][1:])
        print(
            f"  {side:6s} {statistics.median(seconds):7.2f} s (runs "
            f"{', '.join(f'{s:.2f}' for s in seconds)}); first epoch {first:.2f} s,"
            f" later epochs {later:.3f} s; test accuracy "
            f"{statistics.median(r['accuracy'] for r in results):.3f}"
        )
    recipe = runs["recipe"]
    for label, key in (("steps", "steps"), ("callbacks", "callbacks")):
        medians = {
            name: statistics.median(r[key].get(name, 0) for r in recipe)
            for name in recipe[0][key]
        }
        listed = ", ".join(f"{k} {v:.2f}" for k, v in medians.items())
        print(f"  recipe {label} (s): {listed}")
    pairs = list(zip(runs["plain"], recipe, strict=True))
    ratios = [b["seconds"] / a["seconds"] for a, b in pairs]
    cpu_ratio = statistics.median(b["cpu"] / a["cpu"] for a, b in pairs)
    ratio = statistics.median(ratios)
    print(
        f"  per-pair ratios {', '.join(f'{r:.3f}' for r in ratios)}; "
        f"CPU-time ratio {cpu_ratio:.3f}; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"runner overhead, recipe / plain: {ratio:.3f} (target <= 1.05)")
    print(f"RESULT name=runner_overhead ratio={ratio:.3f} target=<=1.05")


if __name__ == "__main__":
    main()
