"""Distributed training for real: two logical CPUs, and two worker processes."""

import csv
import json
import os
import re
import socket
import subprocess
import sys
import time

import pytest
import tensorflow as tf
from conftest import run_cli

from keras_recipes.config import DistributeConfig
from keras_recipes.distribution import build_strategy, is_chief, read_tf_config

# Small enough for seconds per run; two epochs so the second starts from
# weights the first synchronised.
SETTINGS = [
    "--set",
    "train.epochs=2",
    "--set",
    "data.image_size=[8, 8]",
    "--set",
    "model.filters=[16]",
    "--set",
    "model.dense_units=32",
    "--set",
    "train.verbose=0",
]


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def read_rows(path):
    with open(path) as file:
        return list(csv.DictReader(file))


def start_worker(index, addresses, run_dir, tmp_path, extra=()):
    tf_config = {
        "cluster": {"worker": addresses},
        "task": {"type": "worker", "index": index},
    }
    env = dict(os.environ, TF_CONFIG=json.dumps(tf_config), TMPDIR=str(tmp_path))
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    command = [sys.executable, "-m", "keras_recipes", "run", "small_data_classifier"]
    return subprocess.Popen(
        [
            *command,
            "--run-dir",
            str(run_dir),
            "--set",
            "distribute.strategy=multi_worker",
            *SETTINGS,
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def two_worker_run(tmp_path_factory):
    """Runs small_data_classifier on two worker processes on 127.0.0.1."""
    tmp_path = tmp_path_factory.mktemp("multi_worker")
    addresses = [f"127.0.0.1:{port}" for port in free_ports(2)]
    run_dir = tmp_path / "runs" / "two_workers"
    workers = [start_worker(i, addresses, run_dir, tmp_path) for i in range(2)]
    outputs = []
    for worker in workers:
        try:
            out, err = worker.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            for other in workers:
                other.kill()
            raise
        outputs.append((worker.returncode, out, err))
    return tmp_path, run_dir, outputs


def test_two_workers_finish_with_identical_weights(two_worker_run):
    _, _, outputs = two_worker_run
    for returncode, _, err in outputs:
        assert returncode == 0, err[-3000:]
    digests = [
        re.findall(r"weights sha256: ([0-9a-f]{64})", out) for _, out, _ in outputs
    ]
    assert all(len(found) == 1 for found in digests), outputs
    assert digests[0] == digests[1]


def test_only_the_chief_writes_a_run_directory(two_worker_run):
    tmp_path, run_dir, outputs = two_worker_run
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["two_workers"]
    assert (run_dir / "metrics.json").is_file()
    assert (run_dir / "model.keras").is_file()
    assert not (run_dir / "backup").exists()
    # The worker wrote to a temporary folder and removed it at the end.
    worker_line = outputs[1][1].splitlines()[-1]
    assert worker_line.startswith("run directory: ") and str(run_dir) not in worker_line
    workers_root = tmp_path / "keras_recipes_workers"
    assert not workers_root.exists() or not any(workers_root.iterdir())


def test_two_workers_train_like_one_machine_with_two_devices(two_worker_run, tmp_path):
    """Each worker holds one replica; two logical CPUs in one process hold two.

    Both split every global batch of 32 into two halves and average their
    gradients, so they must follow the same trajectory: this checks the
    multi-worker loop against Keras's own `fit` under MirroredStrategy.
    """
    _, run_dir, _ = two_worker_run
    mirrored_dir = tmp_path / "mirrored"
    result = run_cli(
        "run",
        "small_data_classifier",
        "--run-dir",
        mirrored_dir,
        "--set",
        "distribute.strategy=mirrored",
        "--set",
        "distribute.cpu_devices=2",
        *SETTINGS,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    workers, mirrored = (read_rows(d / "history.csv") for d in (run_dir, mirrored_dir))
    assert len(workers) == len(mirrored) == 2
    for row_a, row_b in zip(workers, mirrored, strict=True):
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert float(row_a[key]) == pytest.approx(float(row_b[key]), abs=2e-4)
    metrics = [
        json.loads((d / "metrics.json").read_text()) for d in (run_dir, mirrored_dir)
    ]
    assert metrics[0]["test_accuracy"] == pytest.approx(
        metrics[1]["test_accuracy"], abs=1 / 360 + 1e-9
    )
    # And it learned: two epochs of a tiny model, well above chance (0.1).
    assert metrics[0]["test_accuracy"] > 0.3


def test_mirrored_splits_the_global_batch_over_two_cpus(tmp_path):
    """Two replicas each see half a batch; their gradients are averaged."""
    script = """
import numpy as np, tensorflow as tf, keras
from keras_recipes.config import DistributeConfig
from keras_recipes.distribution import build_strategy
strategy = build_strategy(DistributeConfig(strategy="mirrored", cpu_devices=2))
def per_replica(batch):
    return tf.shape(batch)[0]
dataset = tf.data.Dataset.range(32).batch(32)
batch = next(iter(strategy.experimental_distribute_dataset(dataset)))
sizes = strategy.experimental_local_results(strategy.run(per_replica, args=(batch,)))
print(strategy.num_replicas_in_sync, [int(s) for s in sizes])
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split("\n")[-2] == "2 [16, 16]"


@pytest.mark.parametrize(
    "settings, expected",
    [
        (["distribute.strategy=multi_worker"], "needs the TF_CONFIG environment"),
        (["distribute.strategy=tpu"], "distribute.strategy=tpu: no TPU found"),
        (["distribute.cpu_devices=2"], "applies to strategy 'mirrored' only"),
        (["distribute.strategy=gpus"], "distribute.strategy"),
    ],
)
def test_distribution_mistakes_get_one_line(settings, expected, tmp_path):
    args = [a for setting in settings for a in ("--set", setting)]
    result = run_cli(
        "run", "small_data_classifier", "--runs-root", tmp_path / "runs", *args
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert not (tmp_path / "runs").exists()


def test_default_strategy_is_its_own_chief():
    strategy = build_strategy(DistributeConfig())
    assert strategy is tf.distribute.get_strategy()
    assert is_chief(strategy)


def test_tf_config_must_describe_a_cluster(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {}}')
    with pytest.raises(Exception, match="TF_CONFIG is not a cluster description"):
        read_tf_config()
    monkeypatch.setenv(
        "TF_CONFIG",
        json.dumps(
            {
                "cluster": {"worker": ["a:1", "b:2"]},
                "task": {"type": "worker", "index": 1},
            }
        ),
    )
    assert read_tf_config()["task"]["index"] == 1


def test_synchronized_batch_norm_over_two_cpus_equals_one_device():
    """Two replicas with half a batch each match one device with all of it."""
    script = """
import numpy as np, tensorflow as tf, keras
from keras_recipes.config import DistributeConfig
from keras_recipes.distribution import build_strategy, synchronize_batch_norm
strategy = build_strategy(DistributeConfig(strategy="mirrored", cpu_devices=2))
rng = np.random.default_rng(0)
x = rng.normal(2.0, 3.0, (32, 4)).astype("float32")
y = rng.normal(size=(32, 1)).astype("float32")
def train(scope, sync):
    with scope:
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6),
                                  keras.layers.BatchNormalization(momentum=0.5),
                                  keras.layers.Dense(1)])
        changed = synchronize_batch_norm(model) if sync else 0
        model.compile(keras.optimizers.SGD(0.1), "mse")
    model.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0)
    return changed, [w.copy() for w in model.get_weights()]
_, one = train(tf.distribute.get_strategy().scope(), False)
changed, two = train(strategy.scope(), True)
_, unsynced = train(strategy.scope(), False)
print(changed, max(float(np.abs(a - b).max()) for a, b in zip(one, two)),
      max(float(np.abs(a - b).max()) for a, b in zip(one, unsynced)))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    changed, synced_gap, unsynced_gap = result.stdout.split("\n")[-2].split()
    assert int(changed) == 1
    assert float(synced_gap) < 1e-5
    # Without synchronisation each replica normalises with its half's moments.
    assert float(unsynced_gap) > 1e-3


def _weights_line(output):
    found = re.findall(r"weights sha256: ([0-9a-f]{64})", output)
    assert len(found) == 1, output
    return found[0]


def _two_workers(run_dir, tmp_path, extra=()):
    addresses = [f"127.0.0.1:{port}" for port in free_ports(2)]
    return [start_worker(i, addresses, run_dir, tmp_path, extra) for i in range(2)]


@pytest.mark.slow
def test_killed_workers_resume_to_the_uninterrupted_weights(tmp_path):
    """SIGKILL both workers mid-run, resume both: the weights of a whole run."""
    settings = ["--set", "train.epochs=5"]
    whole = _two_workers(tmp_path / "whole", tmp_path, settings)
    expected = [_weights_line(worker.communicate(timeout=600)[0]) for worker in whole]
    assert expected[0] == expected[1]

    run_dir = tmp_path / "killed"
    killed = _two_workers(run_dir, tmp_path, settings)
    pointer = run_dir / "backup" / "training_metadata.json"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if pointer.is_file() and json.loads(pointer.read_text())["epoch"] >= 2:
            break
        time.sleep(0.2)
    for worker in killed:
        worker.kill()
        worker.communicate()
    finished = json.loads(pointer.read_text())["epoch"]
    assert 2 <= finished < 5

    resumed = _two_workers(run_dir, tmp_path, [*settings, "--resume"])
    outputs = [worker.communicate(timeout=600)[0] for worker in resumed]
    assert f"resuming after {finished} finished epochs" in outputs[0]
    assert [_weights_line(output) for output in outputs] == expected
