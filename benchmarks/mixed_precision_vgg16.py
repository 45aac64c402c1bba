"""Mixed precision: a VGG16 training step as the recipes run it vs plain float32.

The same network, VGG16 at 224x224 (`keras.applications.VGG16(weights=None,
include_top=True)`, 1000 classes, 138M parameters), batch 8, Adam (learning
rate 1e-4) and sparse categorical cross-entropy, trains on one repeated
batch (`train_on_batch`, the compiled train step without `fit`'s
per-call setup) in four ways:

- plain float32 Keras (`keras.optimizers.Adam`);
- the recipes' `mixed_precision: auto`: built inside
  `dtype_policy(resolve_mixed_precision("auto"))` (`mixed_bfloat16` on a CPU
  whose AVX512_BF16 measures faster, float32 otherwise), the output
  softmax kept in float32 as the Keras mixed precision guide does, and the
  optimizer from the recipes' `build_optimizer` (Keras Adam updating
  through TensorFlow's fused `ResourceApplyAdam` kernel);
- the two halves alone, to show what each brings: the auto policy (or
  `mixed_bfloat16` where auto keeps float32) with the plain Keras Adam, and
  float32 with the fused Adam update.

All are built, compiled, traced and run for a round first, then timed in
alternating rounds (one round times every variant, so a busy machine slows
all alike); tracing and the first steps are not timed. The speed-up is
the median over the rounds of plain float32 seconds per step over the
recipes' auto ones, target >= 1.8. The plain and auto pair is then timed with
`jit_compile=True` (XLA), reported beside it (`--no-jit` skips it).

    python benchmarks/mixed_precision_vgg16.py [--rounds 5] [--steps 2] [--quick]
"""

import argparse
import gc
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_recipes.config import OptimizerConfig, resolve  # noqa: E402
from keras_recipes.optimizers import build_optimizer  # noqa: E402
from keras_recipes.precision import (  # noqa: E402
    cpu_bfloat16_speedup,
    cpu_has_bfloat16,
    dtype_policy,
    resolve_mixed_precision,
)

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


def keras_adam():
    """Adam as a plain Keras script writes it."""
    return keras.optimizers.Adam(1e-4)


def recipes_adam():
    """Adam as the recipes build it from an `optimizer: {name: adam}` section."""
    config = resolve(OptimizerConfig, overrides={"name": "adam", "learning_rate": 1e-4})
    return build_optimizer(config)


class TrainingStep:
    """A compiled model and one batch; `seconds(n)` times n training steps."""

    def __init__(self, model, optimizer, jit_compile):
        self.model = model
        rng = np.random.default_rng(0)
        self.x = rng.uniform(0, 255, (BATCH_SIZE, 224, 224, 3)).astype("float32")
        self.y = rng.integers(0, 1000, BATCH_SIZE).astype("int32")
        model.compile(
            optimizer, "sparse_categorical_crossentropy", jit_compile=jit_compile
        )
        started = time.perf_counter()
        self.seconds(1)  # traces (and with XLA compiles) the step
        self.first = time.perf_counter() - started
        self.seconds(2)

    def seconds(self, steps):
        """Seconds per step over `steps` calls of the compiled train step."""
        started = time.perf_counter()
        for _ in range(steps):
            self.model.train_on_batch(self.x, self.y)
        return (time.perf_counter() - started) / steps


def compare(variants, jit_compile, rounds, steps):
    """Times each variant's step in alternating rounds; returns the times."""
    keras.utils.set_random_seed(0)
    trainers = {
        name: TrainingStep(vgg16(policy), make_optimizer(), jit_compile)
        for name, (policy, make_optimizer) in variants.items()
    }
    times = {name: [] for name in variants}
    for trainer in trainers.values():
        trainer.seconds(steps)  # an untimed round: the first is often slow
    for _ in range(rounds):
        for name, trainer in trainers.items():
            times[name].append(trainer.seconds(steps))
    first = {name: trainer.first for name, trainer in trainers.items()}
    del trainers
    keras.backend.clear_session()
    gc.collect()
    return times, first


def speedups(times, name):
    """Per-round plain float32 seconds over `name`'s seconds."""
    return [a / b for a, b in zip(times[PLAIN], times[name], strict=True)]


PLAIN, AUTO = "plain float32", "recipes auto"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=2, help="steps per round")
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
    low = mixed
    if mixed == "float32":
        low = "mixed_bfloat16"  # still shown: what auto turned down, and why
        measured = ""
        if cpu_has_bfloat16():
            measured = f" (bfloat16 measured at {cpu_bfloat16_speedup():.2f}x)"
        print(f"auto keeps float32 here: no faster low precision{measured}")
    variants = {
        PLAIN: ("float32", keras_adam),
        f"{low}, Keras Adam": (low, keras_adam),
        "float32, fused Adam": ("float32", recipes_adam),
        AUTO: (mixed, recipes_adam),
    }
    times, first = compare(variants, False, args.rounds, args.steps)
    for name in variants:
        step = statistics.median(times[name])
        rate = 3 * FORWARD_FLOPS * BATCH_SIZE / step
        print(
            f"  {name:28s} {step:6.2f} s/step  {rate / 1e9:6.1f} GFLOP/s "
            f"(first step {first[name]:.1f} s)"
            + (
                ""
                if name == PLAIN
                else f"  {statistics.median(speedups(times, name)):.2f}x plain"
            )
        )
    ratios = speedups(times, AUTO)
    print(f"  per-round speed-ups: {', '.join(f'{r:.2f}' for r in ratios)}")
    speedup = statistics.median(ratios)
    print(
        f"speed-up recipes auto ({mixed}, fused Adam) / plain float32: "
        f"{speedup:.2f}x (target >= 1.8)"
    )
    if not args.no_jit:
        pair = {name: variants[name] for name in (PLAIN, AUTO)}
        jit_times, _ = compare(pair, True, args.rounds, args.steps)
        base = statistics.median(times[PLAIN])
        for name in pair:
            step = statistics.median(jit_times[name])
            print(
                f"  jit_compile=True, {name}: {step:.2f} s/step, "
                f"{base / step:.2f}x plain float32 without XLA, "
                f"{statistics.median(times[name]) / step:.2f}x without XLA"
            )
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"RESULT name=mixed_precision_vgg16 ratio={speedup:.2f} target=>=1.8")


if __name__ == "__main__":
    main()
