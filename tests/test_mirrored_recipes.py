"""Every recipe's quick run under `mirrored` on two logical CPUs, against one device.

Trainable models are built in `build_model`, inside the strategy's scope; a
model built elsewhere would fail under `MirroredStrategy` or train outside
it. All the runs share one process, so TensorFlow starts once: the two
logical CPUs are set up first, then each recipe runs its `quick` settings
once on the default strategy and once mirrored over both devices.
"""

import json
import subprocess
import sys
import textwrap

import pytest

from keras_recipes import catalog

SCRIPT = textwrap.dedent(
    """
    import json, math, sys, traceback
    from keras_recipes.distribution import split_cpu
    split_cpu(2)
    import keras
    import keras_recipes
    results = {}
    for name in sys.argv[2:]:
        one = {}
        for strategy in ("none", "mirrored"):
            settings = {"distribute.strategy": strategy, "train.verbose": 0}
            if strategy == "mirrored":
                settings["distribute.cpu_devices"] = 2
            try:
                result = keras_recipes.run(
                    name, overrides=settings, quick=True,
                    runs_root=sys.argv[1] + "/" + strategy,
                )
                one[strategy] = {
                    k: v for k, v in result.metrics.items()
                    if isinstance(v, (int, float)) and math.isfinite(v)
                }
            except Exception:
                one[strategy] = {"error": traceback.format_exc()[-3000:]}
            keras.backend.clear_session()
        results[name] = one
    print("RESULTS " + json.dumps(results))
    """
)


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mirrored")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(folder), *sorted(catalog.BUILTIN)],
        capture_output=True,
        text=True,
        timeout=1500,
        cwd=folder,
    )
    lines = [x for x in done.stdout.splitlines() if x.startswith("RESULTS ")]
    assert lines, done.stdout[-2000:] + done.stderr[-4000:]
    return json.loads(lines[-1][len("RESULTS ") :])


def _close(one, mirrored):
    # Two replicas split each batch and average their gradients: the same
    # mathematics as one device, in another order of float additions, and
    # with other random draws for dropout and noise inside the replicas.
    return math_close(one, mirrored, relative=0.1, absolute=0.05)


def math_close(a, b, relative, absolute):
    return abs(a - b) <= max(absolute, relative * max(abs(a), abs(b)))


@pytest.mark.parametrize("name", sorted(catalog.BUILTIN))
def test_quick_run_under_mirrored_matches_one_device(quick_runs, name):
    runs = quick_runs[name]
    assert "error" not in runs["none"], runs["none"].get("error")
    assert "error" not in runs["mirrored"], runs["mirrored"].get("error")
    assert runs["mirrored"], "the mirrored run reported no metrics"
    shared = sorted(set(runs["none"]) & set(runs["mirrored"]))
    assert shared == sorted(runs["none"])
    far = {
        key: (runs["none"][key], runs["mirrored"][key])
        for key in shared
        if not _close(runs["none"][key], runs["mirrored"][key])
    }
    assert not far, f"metrics far from the one-device run: {far}"
