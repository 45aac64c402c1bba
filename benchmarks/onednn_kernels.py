"""oneDNN kernels: the yolo recipe's training step with them on vs TensorFlow's own.

TensorFlow switches on its oneDNN kernels by itself only on CPUs with
AVX512_VNNI, AVX512_BF16 or AMX; `import keras_recipes` switches them on
everywhere (`TF_ENABLE_ONEDNN_OPTS=1` unless it is set). This script times
the shipped `yolo` config's compiled training step (its model, loss and
Adam, on one batch of its real training data) in two child processes, one
with `TF_ENABLE_ONEDNN_OPTS=0` and one with `1`, in alternating rounds. The
ratio is the median over the rounds of the CPU seconds (user + system, both
cores) per step with them off over those with them on, target >= 1.0: the
package's default must never cost CPU time. Wall seconds are printed too.

    python benchmarks/onednn_kernels.py [--rounds 3] [--steps 20] [--quick]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys


def time_steps(steps):
    """Child: times `steps` training steps; prints CPU and wall seconds a step."""
    import resource
    import time

    import keras_recipes  # noqa: F401  (sets TF_ENABLE_ONEDNN_OPTS first)
    from keras_recipes import load_config
    from keras_recipes.recipes import YoloRecipe

    recipe = YoloRecipe(load_config("yolo"), runs_root=os.environ["BENCH_ROOT"])
    data = recipe.build_data()
    model = recipe.build_model(data)
    model.compile(optimizer="adam", loss=recipe.build_loss(data))
    images, targets = next(iter(data.train))
    model.train_on_batch(images, targets)

    def cpu_seconds():
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    cpu, wall = cpu_seconds(), time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(images, targets)
    print(
        json.dumps(
            {
                "cpu": (cpu_seconds() - cpu) / steps,
                "wall": (time.perf_counter() - wall) / steps,
            }
        )
    )


def measure(onednn, steps, root):
    """Runs one child with `TF_ENABLE_ONEDNN_OPTS=onednn`; returns its dict."""
    environment = {
        **os.environ,
        "TF_ENABLE_ONEDNN_OPTS": onednn,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "BENCH_ROOT": root,
    }
    output = subprocess.run(
        [sys.executable, __file__, "--child", str(steps)],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="1 round of 3 steps")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        time_steps(args.child)
        return
    if args.quick:
        args.rounds, args.steps = 1, 3
    import tempfile

    ratios = []
    with tempfile.TemporaryDirectory() as root:
        for round_number in range(args.rounds):
            off = measure("0", args.steps, root)
            on = measure("1", args.steps, root)
            ratios.append(off["cpu"] / on["cpu"])
            print(
                f"round {round_number + 1}: off {off['cpu']:.3f} s CPU "
                f"({off['wall']:.3f} s wall) a step, on {on['cpu']:.3f} s CPU "
                f"({on['wall']:.3f} s wall); CPU ratio {ratios[-1]:.2f}",
                flush=True,
            )
    from keras_recipes.exporting import cpu_name

    ratio = statistics.median(ratios)
    print(f"CPU: {cpu_name()}")
    print(f"RESULT name=onednn_kernels ratio={ratio:.3f} target=>=1.0")


if __name__ == "__main__":
    main()
