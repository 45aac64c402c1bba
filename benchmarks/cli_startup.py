"""Seconds for `list` and `show yolo` to answer: TensorFlow is never started.

Runs each command 5 times in a fresh interpreter and prints every time and
the median; the target is a median under 1 s. For scale it also times
`python -c "import tensorflow"` once, which these commands no longer pay.

    python benchmarks/cli_startup.py [--quick]
"""

import argparse
import platform
import statistics
import subprocess
import sys
import time


def _seconds(command):
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


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
    tensorflow = _seconds([sys.executable, "-c", "import tensorflow"])
    print(f"import tensorflow: {tensorflow:.2f} s (once)")
    for name, argv in (("list", ["list"]), ("show_yolo", ["show", "yolo"])):
        command = [sys.executable, "-m", "keras_recipes", *argv]
        times = [_seconds(command) for _ in range(runs)]
        median = statistics.median(times)
        shown = " ".join(f"{t:.3f}" for t in times)
        print(f"{' '.join(argv)}: {shown} s; median {median:.3f} s")
        print(f"RESULT name=cli_{name}_seconds ratio={median:.3f} target=<1.0")


if __name__ == "__main__":
    main()
