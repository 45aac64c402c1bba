"""Seconds per style transfer step: compiled (graph, XLA) against eager.

The same VGG19 extractor, the same `StyleTransferLoss` and the same Adam
optimiser in three loops over one image: a plain eager `tf.GradientTape`
loop, `build_step` as a `tf.function`, and `build_step` compiled with XLA.
Random VGG weights (the ImageNet ones cannot be downloaded here) cost the
same time per step. The first steps, which trace and compile, are not timed.

    python benchmarks/style_transfer_step.py [--size 256] [--steps 5] [--rounds 3]
        [--quick]
"""

import argparse
import functools
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_recipes.seeding import set_seed  # noqa: E402
from keras_recipes.style import (  # noqa: E402
    StyleTransferLoss,
    build_step,
    load_image,
    style_feature_extractor,
)
from keras_recipes.weights import preprocess_input  # noqa: E402

CONTENT_LAYERS = ["block5_conv2"]
STYLE_LAYERS = [f"block{i}_conv1" for i in range(1, 6)]


def eager_step(loss, image, optimizer):
    """The straightforward loop body: tape, gradient, update, clip."""
    with tf.GradientTape() as tape:
        terms = loss(image)
    gradient = tape.gradient(terms["loss"], image)
    optimizer.apply_gradients([(gradient, image)])
    image.assign(tf.clip_by_value(image, 0.0, 255.0))
    return terms


def time_steps(step, steps):
    started = time.perf_counter()
    for _ in range(steps):
        terms = step()
    float(terms["loss"])  # wait for the last step to finish
    return (time.perf_counter() - started) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="image side")
    parser.add_argument("--steps", type=int, default=5, help="steps per round")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds")
    parser.add_argument("--quick", action="store_true", help="128x128, 2 x 2 steps")
    args = parser.parse_args()
    if args.quick:
        args.size, args.steps, args.rounds = 128, 2, 2
    set_seed(0)
    content = load_image("chelsea", args.size, args.size)
    style = load_image("immunohistochemistry", args.size, args.size)
    extractor = style_feature_extractor(
        CONTENT_LAYERS + STYLE_LAYERS, backbone="VGG19", weights=None
    )
    loss = StyleTransferLoss(
        extractor,
        preprocess_input("VGG19"),
        content,
        style,
        CONTENT_LAYERS,
        STYLE_LAYERS,
        content_weight=1e-3,
        style_weight=1e-2,
        variation_weight=1e-8,
    )

    steps = {}
    for label, jit in (
        ("eager GradientTape", None),
        ("tf.function", False),
        ("tf.function + XLA", True),
    ):
        image = tf.Variable(content[None])
        optimizer = keras.optimizers.Adam(4.0)
        if jit is None:
            optimizer.build([image])
            steps[label] = functools.partial(eager_step, loss, image, optimizer)
        else:
            steps[label] = build_step(loss, image, optimizer, jit_compile=jit)
        for _ in range(2):  # tracing and compiling are not timed
            float(steps[label]()["loss"])
    # Rounds alternate the loops so that a busy machine slows all of them
    # alike; each loop's median round is reported.
    rounds = {label: [] for label in steps}
    for _ in range(args.rounds):
        for label, step in steps.items():
            rounds[label].append(time_steps(step, args.steps))
    timings = {label: float(np.median(times)) for label, times in rounds.items()}
    eager = timings["eager GradientTape"]
    print(
        f"VGG19 style transfer step, {args.size}x{args.size}, median of "
        f"{args.rounds} rounds of {args.steps} steps"
    )
    for label, seconds in timings.items():
        print(f"  {label:20s} {seconds:7.3f} s/step   x{eager / seconds:5.2f} vs eager")
    best = min(timings, key=timings.get)
    print(f"ratio eager / {best}: {eager / timings[best]:.2f}")
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    graph, xla = timings["tf.function"], timings["tf.function + XLA"]
    print(f"RESULT name=style_transfer_tf_function ratio={eager / graph:.2f} target=>1")
    print(f"RESULT name=style_transfer_xla ratio={graph / xla:.2f} target=none")


if __name__ == "__main__":
    main()
