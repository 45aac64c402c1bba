"""Runs every benchmark and prints their ratios as a Markdown table.

Each script in `benchmarks/` runs in its own process, one after another so
they do not compete for the cores, with its output shown as it comes. Each
ends with lines such as

    RESULT name=runner_overhead ratio=1.031 target=<=1.05

which become the rows of the table (benchmark | ratio | target | holds?);
`target=none` is a ratio reported without a target. `--quick` passes
`--quick` to every script: fewer repetitions and smaller sizes, a check that
everything runs rather than a measurement.

    python benchmarks/run_all.py [--quick] [NAME ...]
"""

import argparse
import operator
import os
import re
import subprocess
import sys
import time
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
# The package-wide benchmarks first, then the recipes' own, alphabetically.
FIRST = [
    "runner_overhead",
    "input_pipeline",
    "compute_efficiency",
    "mixed_precision_vgg16",
]
RESULT = re.compile(r"^RESULT name=(\S+) ratio=(\S+) target=(\S+)")
TARGET = re.compile(r"^(<=|>=|<|>)([-+0-9.eE]+)$")
COMPARE = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}


def scripts(names=()):
    """Returns the benchmark scripts, the package-wide ones first."""
    found = sorted(
        path
        for path in FOLDER.glob("*.py")
        if path.name != Path(__file__).name and not path.name.startswith("_")
    )
    found.sort(key=lambda path: FIRST.index(path.stem) if path.stem in FIRST else 99)
    if names:
        unknown = set(names) - {path.stem for path in found}
        if unknown:
            raise SystemExit(f"no such benchmark: {', '.join(sorted(unknown))}")
        found = [path for path in found if path.stem in names]
    return found


def run_script(path, quick):
    """Runs one script, echoing its output; returns its RESULT rows and status."""
    command = [sys.executable, str(path), *(["--quick"] if quick else [])]
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    rows = []
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    ) as process:
        for line in process.stdout:
            print(f"  {line}", end="", flush=True)
            match = RESULT.match(line.strip())
            if match:
                rows.append(match.groups())
        errors = process.stderr.read()
    if process.returncode:
        print(errors[-3000:], file=sys.stderr)
    return rows, process.returncode


def holds(ratio, target):
    """Returns "yes", "no" or "-" for a ratio and a target such as "<=1.05"."""
    match = TARGET.match(target)
    if not match:
        return "-"
    op, value = match.groups()
    return "yes" if COMPARE[op](float(ratio), float(value)) else "no"


def table(rows):
    """Returns the Markdown table of (name, ratio, target) rows."""
    lines = ["| benchmark | ratio | target | holds? |", "|---|---|---|---|"]
    for name, ratio, target in rows:
        match = TARGET.match(target)
        shown = f"{match[1]} {match[2]}" if match else "-"
        lines.append(f"| {name} | {ratio} | {shown} | {holds(ratio, target)} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run of each")
    parser.add_argument("names", nargs="*", help="only these benchmarks")
    args = parser.parse_args()
    started = time.perf_counter()
    rows, failed = [], []
    for path in scripts(args.names):
        print(f"{path.stem} (load average {os.getloadavg()[0]:.1f})", flush=True)
        script_started = time.perf_counter()
        found, status = run_script(path, args.quick)
        print(f"  [{time.perf_counter() - script_started:.0f} s]", flush=True)
        if status:
            failed.append(path.stem)
            rows.append((path.stem, "failed", "none"))
        elif not found:
            rows.append((path.stem, "no RESULT line", "none"))
        rows += found
    minutes = (time.perf_counter() - started) / 60
    print(f"\n{table(rows)}\n")
    print(
        f"{len(rows)} results in {minutes:.1f} min on {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}" + (" (--quick)" if args.quick else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
