"""Seconds for `list` and `show yolo` to answer: TensorFlow is never started.

Runs each command 5 times in a fresh interpreter and prints every time and
the median; the target is a median under 1 s. For scale it also times
`python -c "import tensorflow"` once, which these commands no longer pay.

    python benchmarks/cli_startup.py [--quick]
"""

import argparse
import platform
import resource
import statistics
import subprocess
import sys
import time


def _seconds(command):
    """Returns the wall-clock and CPU seconds (user + system) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _cpu():
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 runs, not 5")
    args = parser.parse_args()
    runs = 2 if args.quick else 5
    print(f"CPU: {_cpu()}")
    wall, cpu = _seconds([sys.executable, "-c", "import tensorflow"])
    print(f"import tensorflow: {wall:.2f} s wall, {cpu:.2f} s CPU (once)")
    for name, argv in (("list", ["list"]), ("show_yolo", ["show", "yolo"])):
        command = [sys.executable, "-m", "keras_recipes", *argv]
        walls, cpus = zip(*(_seconds(command) for _ in range(runs)), strict=True)
        median = statistics.median(walls)
        print(
            f"{' '.join(argv)}: wall {' '.join(f'{t:.3f}' for t in walls)} s, "
            f"median {median:.3f} s; CPU median {statistics.median(cpus):.3f} s "
            f"(the machine's other load shows in wall time, not in CPU time)"
        )
        print(f"RESULT name=cli_{name}_seconds ratio={median:.3f} target=<1.0")


if __name__ == "__main__":
    main()
