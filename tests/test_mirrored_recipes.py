"""Every recipe's quick run under `mirrored` on two logical CPUs, against one device.

Trainable models are built in `build_model`, inside the strategy's scope; a
model built elsewhere would fail under `MirroredStrategy` or train outside
it. Each recipe runs in a process of its own (TensorFlow's collective ops
do not start over for a second `MirroredStrategy` in one process): the two
logical CPUs are set up first, then the recipe runs its `quick` settings
once on the default strategy and once mirrored over both devices.
"""

import json
import subprocess
import sys
import textwrap

import pytest
from conftest import run_cli

from keras_recipes import catalog

SCRIPT = textwrap.dedent(
    """
    import json, math, sys, traceback
    from keras_recipes.distribution import split_cpu
    split_cpu(2)
    import keras
    import keras_recipes
    name, root = sys.argv[1], sys.argv[2]
    runs = {}
    for strategy in ("none", "mirrored"):
        settings = {"distribute.strategy": strategy, "train.verbose": 0}
        if strategy == "mirrored":
            settings["distribute.cpu_devices"] = 2
        try:
            result = keras_recipes.run(
                name, overrides=settings, quick=True, runs_root=root + "/" + strategy
            )
            runs[strategy] = {
                k: v for k, v in result.metrics.items()
                if isinstance(v, (int, float)) and math.isfinite(v)
            }
        except Exception:
            runs[strategy] = {"error": traceback.format_exc()[-3000:]}
        keras.backend.clear_session()
    print("RESULTS " + json.dumps(runs))
    """
)


def _close(one, mirrored, absolute=0.05):
    # Two replicas split each batch and average their gradients: the same
    # mathematics as one device, in another order of float additions, and
    # with other random draws for dropout and noise inside the replicas. A
    # quick run is two or three epochs on a steep stretch of the loss, where
    # those draws move a loss by up to a fifth; a model built outside the
    # strategy, or trained on half the data, lands much further away.
    return abs(one - mirrored) <= max(absolute, 0.25 * max(abs(one), abs(mirrored)))


# The recipe with its own training step runs by default; every recipe runs
# with `pytest -m slow`.
DEFAULT = {"vae"}
# Batch-hard triplet mining picks each anchor's hardest positive and negative
# within the batch it sees: under two replicas, within half the P x K batch,
# so a quick run's thresholds and rates move further than the other
# recipes' metrics do.
WIDER = {"face_triplet": 0.2}
# Style transfer optimises one image, with nothing to split over replicas:
# its config has no `distribute` section, and asking for one is refused.
NOT_DISTRIBUTED = {"style_transfer"}
RECIPES = [
    name if name in DEFAULT else pytest.param(name, marks=pytest.mark.slow)
    for name in sorted(catalog.BUILTIN)
]


@pytest.mark.parametrize("name", RECIPES)
def test_quick_run_under_mirrored_matches_one_device(name, tmp_path):
    if name in NOT_DISTRIBUTED:
        line = run_cli("run", name, "--set", "distribute.strategy=mirrored")
        assert line.returncode == 2
        assert "unknown config key 'distribute" in line.stderr
        return
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, name, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )
    lines = [x for x in done.stdout.splitlines() if x.startswith("RESULTS ")]
    assert lines, done.stdout[-2000:] + done.stderr[-4000:]
    runs = json.loads(lines[-1][len("RESULTS ") :])
    assert "error" not in runs["none"], runs["none"].get("error")
    assert "error" not in runs["mirrored"], runs["mirrored"].get("error")
    assert runs["mirrored"], "the mirrored run reported no metrics"
    assert sorted(runs["mirrored"]) == sorted(runs["none"])
    far = {
        key: (runs["none"][key], runs["mirrored"][key])
        for key in runs["none"]
        if not _close(runs["none"][key], runs["mirrored"][key], WIDER.get(name, 0.05))
    }
    assert not far, f"metrics far from the one-device run: {far}"
