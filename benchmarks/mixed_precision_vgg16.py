"""Mixed precision: a VGG16 training step under `mixed_precision: auto` vs float32.

The same network, VGG16 at 224x224 (`keras.applications.VGG16(weights=None,
include_top=True)`, 1000 classes, 138M parameters), batch 8, Adam and
sparse categorical cross-entropy, trains on one repeated batch in two ways:

- plain float32 Keras;
- built inside `dtype_policy(resolve_mixed_precision("auto"))`, the policy
  the recipes pick on this machine (`mixed_bfloat16` on a CPU with
  AVX512_BF16), with the output softmax kept in float32 as the Keras mixed
  precision guide does (`Activation("softmax", dtype="float32")`).

Both are built, compiled and traced first, then timed in alternating rounds
(float32, mixed, float32, mixed, ...) so a busy machine slows both alike;
tracing and the first steps are not timed. The speed-up is the median over
the rounds of float32 seconds per step over mixed ones, target >= 1.8.
The same pair is then timed with `jit_compile=True` (XLA), reported beside
it (`--no-jit` skips it).

    python benchmarks/mixed_precision_vgg16.py [--rounds 7] [--steps 1] [--quick]
"""

import argparse
import gc
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_recipes.precision import dtype_policy, resolve_mixed_precision  # noqa: E402

BATCH_SIZE = 8
FORWARD_FLOPS = 30.96e9  # per image, TensorFlow's profiler (compute_efficiency.py)


def vgg16(policy):
    """VGG16 built under `policy`, its softmax computing in float32."""
    with dtype_policy(policy):
        base = keras.applications.VGG16(
            weights=None, include_top=True, classifier_activation=None
        )
        outputs = keras.layers.Activation("softmax", dtype="float32")(base.output)
        return keras.Model(base.input, outputs, name=f"vgg16_{policy}")


class TrainingStep:
    """A compiled model and one repeated batch; `seconds(n)` times n steps."""

    def __init__(self, model, jit_compile):
        self.model = model
        rng = np.random.default_rng(0)
        x = rng.uniform(0, 255, (BATCH_SIZE, 224, 224, 3)).astype("float32")
        y = rng.integers(0, 1000, BATCH_SIZE).astype("int32")
        self.data = tf.data.Dataset.from_tensors((x, y)).repeat().prefetch(2)
        model.compile(
            keras.optimizers.Adam(1e-4),
            "sparse_categorical_crossentropy",
            jit_compile=jit_compile,
        )
        started = time.perf_counter()
        self.seconds(1)  # traces (and with XLA compiles) the step
        self.first = time.perf_counter() - started
        self.seconds(1)

    def seconds(self, steps):
        started = time.perf_counter()
        self.model.fit(
            self.data, steps_per_epoch=steps, epochs=1, shuffle=False, verbose=0
        )
        return (time.perf_counter() - started) / steps


def compare(policies, jit_compile, rounds, steps):
    """Times each policy's step in alternating rounds; returns the times."""
    keras.utils.set_random_seed(0)
    trainers = {policy: TrainingStep(vgg16(policy), jit_compile) for policy in policies}
    times = {policy: [] for policy in policies}
    for _ in range(rounds):
        for policy, trainer in trainers.items():
            times[policy].append(trainer.seconds(steps))
    first = {policy: trainer.first for policy, trainer in trainers.items()}
    del trainers
    keras.backend.clear_session()
    gc.collect()
    return times, first


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=1, help="steps per round")
    parser.add_argument("--no-jit", action="store_true", help="skip the XLA pair")
    parser.add_argument("--quick", action="store_true", help="2 rounds, no XLA")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.steps, args.no_jit = 2, 1, True
    mixed = resolve_mixed_precision("auto")
    print(
        f"VGG16 224x224, weights None, include_top, batch {BATCH_SIZE}; "
        f"mixed_precision auto -> {mixed}; median of {args.rounds} alternating "
        f"rounds of {args.steps} step(s), {os.cpu_count()} cores"
    )
    if mixed == "float32":
        print("this machine has no fast low-precision math: auto keeps float32")
    policies = ("float32", mixed) if mixed != "float32" else ("float32",)
    results, speedups = {}, {}
    for jit in (False, True) if not args.no_jit else (False,):
        times, first = compare(policies, jit, args.rounds, args.steps)
        for policy in policies:
            results[policy, jit] = statistics.median(times[policy])
            rate = 3 * FORWARD_FLOPS * BATCH_SIZE / results[policy, jit]
            print(
                f"  {policy:15s} jit_compile={str(jit):5s} "
                f"{results[policy, jit]:6.2f} s/step  {rate / 1e9:6.1f} GFLOP/s "
                f"(first step {first[policy]:.1f} s)"
            )
        pairs = zip(times["float32"], times[mixed], strict=True)
        speedups[jit] = [a / b for a, b in pairs]
        listed = ", ".join(f"{r:.2f}" for r in speedups[jit])
        print(f"  per-round speed-ups {mixed} / float32: {listed}")
    speedup = statistics.median(speedups[False])
    base = results["float32", False]
    print(f"speed-up {mixed} / float32: {speedup:.2f}x (target >= 1.8)")
    if not args.no_jit:
        for policy in policies:
            print(
                f"  jit_compile=True, {policy}: "
                f"{base / results[policy, True]:.2f}x vs plain float32, "
                f"{results[policy, False] / results[policy, True]:.2f}x vs "
                f"{policy} without XLA"
            )
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"RESULT name=mixed_precision_vgg16 ratio={speedup:.2f} target=>=1.8")


if __name__ == "__main__":
    main()
