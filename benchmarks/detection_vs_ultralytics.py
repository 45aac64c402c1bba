"""The `yolo` recipe against Ultralytics YOLOv8n, trained for the same CPU time.

One VOC-on-photographs set (`keras_recipes.data.photo_shapes`: shapes drawn
on scikit-image photographs, 120-220 px images, test images on photographs
never seen in training) is written with this benchmark's own seed (2026,
not the tests' 0): 1,200 train / 200 val / 300 test images by default, as a
Pascal VOC folder for the recipe and, with the very same JPEGs and boxes
(as `read_voc` reads them), in the Ultralytics YOLO txt layout
(`images/{train,val,test}`, `labels/{...}`, `data.yaml`).

Training, each in a child process:

- the recipe: `keras_recipes.run("yolo", ...)` with its shipped config on
  the folder at 128x128 (`data.source=folder`, `data.format=voc`,
  `data.image_size=[128,128]`, `train.verbose=0`) plus any `--set` values,
  so ablations run through the same script. Its training CPU time is the
  child's process CPU time (every thread) inside `YoloRecipe.fit`; the child's
  whole CPU time (getrusage of the finished child) and `timings.json`'s
  `fit` wall seconds are printed beside it.
- Ultralytics: `YOLO("yolov8n.yaml")` from scratch (`pretrained=False`) at
  `imgsz=128` on the CPU (`amp=False`, `plots=False`; Ultralytics itself
  forces `workers=0` on the CPU, so data loading counts in the process's CPU
  time), otherwise its defaults. Its training CPU time is the process CPU
  time from `on_train_start` to the last epoch's `on_fit_epoch_end` (the
  final validation of `best.pt` left out, as the recipe's evaluation is).
  The epochs are chosen so that it trains for the recipe's CPU time: a
  calibration run of `--calibration-epochs` (2) gives the CPU seconds per
  epoch, and the epochs are the recipe's training CPU time over that; when
  the training then misses the recipe's CPU time by more than
  `--cpu-tolerance` (10%; its last 10 epochs, without mosaic, cost less)
  it trains once more (`--refits 1`) with the epochs scaled by the miss.
  `--ultralytics-epochs` sets the epochs instead. The network is blocked
  in the child (any attempt is reported: Ultralytics's dataset check asks
  for Arial.ttf even with `plots=False`; it is refused and nothing is
  downloaded), and its settings go to the work directory, not `~/.config`.

Scoring: both detect the same test images at a low threshold (the recipe's
`postprocess.eval_score_threshold`, 0.01, through `recipe.detect` on the
files resized as `predict` resizes them; Ultralytics's `predict` on the
files with `conf=0.001, iou=0.7, max_det=100`), boxes in each file's own
pixels, and one function scores both with pycocotools' `COCOeval` (bbox)
against the boxes of the VOC annotations: AP50, AP50:95, AP75, AR100.
Ultralytics's own evaluation (`val` on the test split: multi-label NMS, as
the recipe's per-class NMS over every class's score is, and rectangular
batches) can score higher than its `predict`; its `predictions.json` is scored
by the same function as a third row, and its own mAP is printed beside.
Before anything trains, the same function scores the ground truth as
detections (score 1: every AP and AR must be 1.0) and its boxes cut to
IoU 0.6 (AP50 must be 1.0, AP75 0); `--check-scoring` stops after that.

Inference: images per second at batch 32, with NMS, on the test images
already decoded and resized to 128x128 (decoding left out), one warm-up
batch first, the same timing function for both: the recipe's exported
SavedModel (`tf.saved_model.load(path).serve(images)`, which the README
gives for inference: decoding and NMS in the graph) and Ultralytics's
`model.predict` on a list of 32 arrays, both at the recipe's deployment
thresholds (`postprocess.score_threshold` 0.6, IoU 0.5, 100 boxes). The
recipe's `recipe.detect` (Keras `predict`, then decoding and NMS) is
printed too.

The separate environment for Ultralytics (never a dependency of the
package; CPU-only PyTorch):

    python3.11 -m venv ~/ultralytics-env
    ~/ultralytics-env/bin/pip install torch torchvision \\
        --index-url https://download.pytorch.org/whl/cpu
    ~/ultralytics-env/bin/pip install ultralytics pycocotools \\
        --extra-index-url https://download.pytorch.org/whl/cpu

Where download.pytorch.org cannot be reached, take both from PyPI instead
(`~/ultralytics-env/bin/pip install torch torchvision ultralytics pycocotools`:
CUDA builds, about 6 GB, which run on the CPU as well), never a CPU-only
torch with PyPI's torchvision: its compiled ops (`torchvision::nms`) need
torch's CUDA libraries, and Ultralytics stops at its first NMS.

Then, from the repository with its own environment active:

    python benchmarks/detection_vs_ultralytics.py \\
        --ultralytics-python ~/ultralytics-env/bin/python \\
        [--num-train 1200 --num-val 200 --num-test 300] [--seed 2026] \\
        [--workdir /tmp/detection_vs_ultralytics] [--set key=value ...] \\
        [--ultralytics-set key=value ...] [--ultralytics-epochs N] \\
        [--check-scoring] [--quick]

(`ULTRALYTICS_PYTHON` in the environment stands for `--ultralytics-python`.)
"""

import argparse
import contextlib
import inspect
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import yaml  # noqa: E402
from PIL import Image  # noqa: E402

IMAGE_SIZE = 128
BATCH = 32
RESULT_PREFIX = "BENCHMARK_RESULT "
INSTALL = (
    "python3.11 -m venv ~/ultralytics-env && ~/ultralytics-env/bin/pip install torch "
    "torchvision ultralytics pycocotools --extra-index-url "
    "https://download.pytorch.org/whl/cpu (this script's docstring has more)"
)


def cpu_name():
    """Returns the processor's model name and the cores this process may use."""
    name = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    return f"{name}, {len(os.sched_getaffinity(0))} cores"


def images_per_second(run_batch, batches, min_seconds=10.0):
    """Times `run_batch` over `batches` after one warm-up batch; returns img/s.

    Whole passes over `batches` are repeated until `min_seconds` have gone.
    """
    import time

    run_batch(batches[0])
    images, started = 0, time.perf_counter()
    while True:
        for batch in batches:
            run_batch(batch)
            images += len(batch)
        seconds = time.perf_counter() - started
        if seconds >= min_seconds:
            return images / seconds


def speed_batches(images, batch=BATCH):
    """Splits images into full batches, tiling them when there are too few."""
    if len(images) < batch:
        images = np.resize(images, (batch, *images.shape[1:]))
    count = len(images) // batch
    return [images[i * batch : (i + 1) * batch] for i in range(count)]


def resized_images(paths, size=IMAGE_SIZE):
    """Decodes image files to RGB and resizes them as the recipe's `predict` does.

    Returns a uint8 array `[N, size, size, 3]`.
    """
    arrays = []
    for path in paths:
        with Image.open(path) as image:
            image = image.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
            arrays.append(np.asarray(image, "uint8"))
    return np.stack(arrays)


# ----------------------------------------------------------------- the data


def write_sets(workdir, num_train, num_val, num_test, seed):
    """Writes the VOC folder and its Ultralytics copy; returns their paths.

    Both are reused when a finished set of the same sizes and seed is there.
    """
    from keras_recipes.data.annotations import read_voc
    from keras_recipes.data.photo_shapes import write_photo_voc

    voc, ultra = workdir / "photo_voc", workdir / "photo_yolo"
    stamp = json.dumps([num_train, num_val, num_test, seed])
    marker = workdir / "set.complete"
    if marker.is_file() and marker.read_text() == stamp:
        return voc, ultra
    marker.unlink(missing_ok=True)
    shutil.rmtree(voc, ignore_errors=True)
    shutil.rmtree(ultra, ignore_errors=True)
    started = time.perf_counter()
    write_photo_voc(voc, num_train, num_val, num_test, seed=seed)
    names = None
    for split in ("train", "val", "test"):
        records, names = read_voc(voc, split)
        (ultra / "images" / split).mkdir(parents=True)
        (ultra / "labels" / split).mkdir(parents=True)
        for record in records:
            shutil.copyfile(record.path, ultra / "images" / split / record.path.name)
            size = np.array([record.width, record.height] * 2, "float64")
            boxes = record.boxes.astype("float64") / size
            lines = [
                f"{int(label)} {(x1 + x2) / 2:.6f} {(y1 + y2) / 2:.6f} "
                f"{x2 - x1:.6f} {y2 - y1:.6f}\n"
                for (x1, y1, x2, y2), label in zip(boxes, record.classes, strict=True)
            ]
            label_file = ultra / "labels" / split / f"{record.path.stem}.txt"
            label_file.write_text("".join(lines))
    data = {
        "path": str(ultra),
        "train": "images/train",
        "val": "images/val",
        "test": "images/test",
        "names": dict(enumerate(names)),
    }
    (ultra / "data.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    marker.write_text(stamp)
    print(
        f"wrote {num_train}/{num_val}/{num_test} images (seed {seed}) in "
        f"{time.perf_counter() - started:.0f} s: {voc}",
        flush=True,
    )
    return voc, ultra


def read_test_split(voc):
    """Returns the test split's `AnnotatedImage` records and the class names."""
    from keras_recipes.data.annotations import read_voc

    return read_voc(voc, "test")


# -------------------------------------------------------------- the scoring


def coco_ground_truth(records, class_names):
    """Returns the COCO ground-truth dict of VOC records, in image pixels."""
    images, annotations = [], []
    for image_id, record in enumerate(records, start=1):
        images.append(
            {
                "id": image_id,
                "file_name": record.path.name,
                "width": int(record.width),
                "height": int(record.height),
            }
        )
        for box, label in zip(record.boxes, record.classes, strict=True):
            x1, y1, x2, y2 = (float(v) for v in box)
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": int(label) + 1,
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "area": (x2 - x1) * (y2 - y1),
                    "iscrowd": 0,
                }
            )
    categories = [{"id": i + 1, "name": n} for i, n in enumerate(class_names)]
    return {"images": images, "annotations": annotations, "categories": categories}


def coco_scores(ground_truth, detections):
    """Scores detections with pycocotools' COCOeval (bbox).

    Args:
        ground_truth: The dict `coco_ground_truth` returns.
        detections: One dict per ground-truth image, in its order, of
            `"boxes"` (`"xyxy"` image pixels), `"scores"` and `"classes"`
            (ids of the ground truth's class names).

    Returns:
        A dict of `ap50`, `ap` (AP50:95), `ap75` and `ar100`.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    results = []
    for image, found in zip(ground_truth["images"], detections, strict=True):
        for box, score, label in zip(
            np.asarray(found["boxes"], "float64").reshape(-1, 4),
            np.asarray(found["scores"], "float64"),
            np.asarray(found["classes"]),
            strict=True,
        ):
            x1, y1, x2, y2 = (float(v) for v in box)
            results.append(
                {
                    "image_id": image["id"],
                    "category_id": int(label) + 1,
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "score": float(score),
                }
            )
    if not results:
        return {"ap50": 0.0, "ap": 0.0, "ap75": 0.0, "ar100": 0.0}
    with contextlib.redirect_stdout(io.StringIO()):
        truth = COCO()
        truth.dataset = json.loads(json.dumps(ground_truth))
        truth.createIndex()
        evaluation = COCOeval(truth, truth.loadRes(results), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    stats = [max(0.0, float(v)) for v in evaluation.stats]
    return {"ap50": stats[1], "ap": stats[0], "ap75": stats[2], "ar100": stats[8]}


def check_scoring(records, class_names):
    """Asserts that the scoring counts IoU right on the ground truth itself.

    The ground truth as detections (score 1) must score 1.0 everywhere; its
    boxes cut to 60% of their width (IoU 0.6 with their own box) must
    score AP50 1.0 and AP75 0.
    """
    truth = coco_ground_truth(records, class_names)
    perfect = [
        {
            "boxes": r.boxes,
            "scores": np.ones(len(r.boxes)),
            "classes": r.classes,
        }
        for r in records
    ]
    scores = coco_scores(truth, perfect)
    assert all(abs(v - 1.0) < 1e-9 for v in scores.values()), scores
    narrowed = []
    for found in perfect:
        boxes = np.array(found["boxes"], "float64")
        boxes[:, 2] = boxes[:, 0] + 0.6 * (boxes[:, 2] - boxes[:, 0])
        narrowed.append({**found, "boxes": boxes})
    cut = coco_scores(truth, narrowed)
    assert cut["ap50"] > 0.99 and cut["ap75"] < 0.01, cut
    print(
        f"scoring check: the ground truth as detections scores {scores}; cut to "
        f"IoU 0.6, AP50 {cut['ap50']:.3f} and AP75 {cut['ap75']:.3f}",
        flush=True,
    )


def remap_classes(detections, names, class_names):
    """Maps detections' class ids from `names` to the ids of `class_names`."""
    lookup = np.array([class_names.index(name) for name in names])
    return [
        {**found, "classes": lookup[np.asarray(found["classes"], "int64")]}
        for found in detections
    ]


# ------------------------------------------------------------ the children


def run_child(command, log_file, env=None):
    """Runs a child process; returns its result dict, CPU and wall seconds.

    The CPU seconds are the finished child's user plus system time
    (`getrusage(RUSAGE_CHILDREN)` before and after); its output goes to
    `log_file`, and its last `BENCHMARK_RESULT` line is the result.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with open(log_file, "w") as log:
        done = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})},
        )
        log.write(done.stdout)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = [
        line[len(RESULT_PREFIX) :]
        for line in done.stdout.splitlines()
        if line.startswith(RESULT_PREFIX)
    ]
    if done.returncode or not lines:
        tail = Path(log_file).read_text()[-3000:]
        raise SystemExit(f"{command[0]} failed (log: {log_file}):\n{tail}")
    return json.loads(lines[-1]), cpu, wall


RECIPE_SCRIPT = """
import json, sys, time
import keras_recipes
from keras_recipes.recipes.yolo.recipe import YoloRecipe

arguments = json.loads(sys.argv[1])
fit_cpu = []
fit = YoloRecipe.fit


def timed_fit(self, *args, **kwargs):
    started = time.process_time()
    try:
        return fit(self, *args, **kwargs)
    finally:
        fit_cpu.append(time.process_time() - started)


YoloRecipe.fit = timed_fit
result = keras_recipes.run(
    "yolo", arguments["overrides"], runs_root=arguments["runs_root"]
)
timings = json.loads((result.run_dir / "timings.json").read_text())
print("BENCHMARK_RESULT " + json.dumps({
    "run_dir": str(result.run_dir),
    "fit_cpu": sum(fit_cpu),
    "metrics": result.metrics,
    "timings": timings,
    "epochs": len(result.history.get("loss", [])),
}))
"""


def train_recipe(voc, workdir, extra):
    """Trains the recipe in a child process; returns its result and CPU time."""
    overrides = [
        "data.source=folder",
        "data.format=voc",
        f"data.directory={voc}",
        f"data.image_size=[{IMAGE_SIZE},{IMAGE_SIZE}]",
        "train.verbose=0",
        *extra,
    ]
    arguments = {"overrides": overrides, "runs_root": str(workdir / "runs")}
    command = [sys.executable, "-c", RECIPE_SCRIPT, json.dumps(arguments)]
    result, cpu, wall = run_child(command, workdir / "recipe.log")
    if not result["fit_cpu"]:
        raise SystemExit("the recipe's training was not timed: no YoloRecipe.fit call")
    result.update(process_cpu=cpu, process_wall=wall, overrides=overrides)
    return result


ULTRALYTICS_SCRIPT = """
import json, socket, sys, time, traceback

# No network: every attempt is refused at once and reported with the
# Ultralytics function that made it.
attempts = []
getaddrinfo, connect = socket.getaddrinfo, socket.socket.connect


def refuse(target):
    callers = [
        f"{frame.filename.split('site-packages/')[-1]}:{frame.name}"
        for frame in traceback.extract_stack()
        if "/ultralytics/" in frame.filename
    ]
    attempts.append(f"{target} from {' <- '.join(reversed(callers[-3:]))}")
    raise OSError(f"network refused by the benchmark: {target}")


def refuse_lookup(host, *args, **kwargs):
    refuse(host)


def refuse_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        refuse(address)
    return connect(self, address)


socket.getaddrinfo, socket.socket.connect = refuse_lookup, refuse_connect
import numpy as np
import torch
import ultralytics
from ultralytics import YOLO, settings

settings.update({"sync": False})
arguments = json.loads(sys.argv[1])
out = {
    "versions": {"ultralytics": ultralytics.__version__, "torch": torch.__version__},
    "threads": torch.get_num_threads(),
}
if arguments["mode"] == "versions":
    from importlib.metadata import version
    for name in ("torchvision", "pycocotools"):
        out["versions"][name] = version(name)
elif arguments["mode"] == "train":
    model = YOLO(arguments["model"])
    clock = {"epochs": [], "epoch_start": None}

    def train_start(trainer):
        clock["start"] = time.process_time()
        clock["wall_start"] = time.perf_counter()

    def epoch_start(trainer):
        clock["epoch_start"] = time.process_time()

    def epoch_end(trainer):
        # Also called by the final validation of best.pt, with no epoch open.
        if clock["epoch_start"] is not None:
            now = time.process_time()
            clock["epochs"].append(now - clock["epoch_start"])
            clock["end"], clock["wall_end"] = now, time.perf_counter()
            clock["epoch_start"] = None

    model.add_callback("on_train_start", train_start)
    model.add_callback("on_train_epoch_start", epoch_start)
    model.add_callback("on_fit_epoch_end", epoch_end)
    model.train(**arguments["train"])
    out.update(
        train_cpu=clock["end"] - clock["start"],
        train_wall=clock["wall_end"] - clock["wall_start"],
        epoch_cpu=clock["epochs"],
        best=str(model.trainer.best),
        save_dir=str(model.trainer.save_dir),
    )
else:
    model = YOLO(arguments["weights"])
    predict = arguments["predict"]
    paths = arguments["paths"]
    detections = []
    for start in range(0, len(paths), 32):
        for result in model.predict(paths[start : start + 32], **predict):
            boxes = result.boxes
            detections.append({
                "boxes": boxes.xyxy.cpu().numpy().tolist(),
                "scores": boxes.conf.cpu().numpy().tolist(),
                "classes": boxes.cls.cpu().numpy().astype(int).tolist(),
            })
    out["detections"] = detections
    out["names"] = [model.names[i] for i in range(len(model.names))]
    # Ultralytics's own evaluation: `val` on the test split (multi-label
    # NMS, rectangular batches), its predictions.json read back.
    captured = {}
    model.add_callback(
        "on_val_end", lambda v: captured.update(class_map=list(v.class_map))
    )
    metrics = model.val(**arguments["val"])
    predictions = json.loads((metrics.save_dir / "predictions.json").read_text())
    grouped = {}
    for found in predictions:
        x, y, w, h = found["bbox"]
        image = grouped.setdefault(
            found["file_name"], {"boxes": [], "scores": [], "classes": []}
        )
        image["boxes"].append([x, y, x + w, y + h])
        image["scores"].append(found["score"])
        image["classes"].append(captured["class_map"].index(found["category_id"]))
    out["val_detections"] = grouped
    out["val_metrics"] = {"map50": metrics.box.map50, "map": metrics.box.map}
    speed = arguments["speed"]
    images = np.load(speed["images"])[..., ::-1]  # RGB to the BGR it expects
    batches = speed_batches(np.ascontiguousarray(images), speed["batch"])
    kwargs = speed["predict"]
    out["images_per_second"] = images_per_second(
        lambda batch: model.predict(list(batch), **kwargs),
        batches,
        speed["min_seconds"],
    )
out["network_attempts"] = attempts
print("BENCHMARK_RESULT " + json.dumps(out))
"""


def run_ultralytics(python, workdir, arguments, log_name):
    """Runs the Ultralytics child in its own environment; returns its result.

    The child gets this script's `images_per_second` and `speed_batches`, so
    one timing function serves both systems.
    """
    shared = "\n\n".join(
        inspect.getsource(function) for function in (images_per_second, speed_batches)
    )
    script = ULTRALYTICS_SCRIPT.replace(
        "\nsettings.update", f"\nBATCH = {BATCH}\n\n{shared}\n\nsettings.update", 1
    )
    config = workdir / "ultralytics_config"
    config.mkdir(exist_ok=True)
    env = {"YOLO_CONFIG_DIR": str(config), "YOLO_OFFLINE": "1"}
    command = [python, "-c", script, json.dumps(arguments)]
    result, cpu, wall = run_child(command, workdir / log_name, env)
    result.update(process_cpu=cpu, process_wall=wall)
    if result["network_attempts"]:
        print(
            f"  Ultralytics tried the network (refused): "
            f"{sorted(set(result['network_attempts']))}",
            flush=True,
        )
    return result


def train_ultralytics(python, ultra, workdir, epochs, name, extra):
    """Trains YOLOv8n from scratch for `epochs`; returns the child's result."""
    train = {
        "data": str(ultra / "data.yaml"),
        "epochs": epochs,
        "imgsz": IMAGE_SIZE,
        "device": "cpu",
        "workers": 0,
        "amp": False,
        "pretrained": False,
        "plots": False,
        "project": str(workdir / "ultralytics_runs"),
        "name": name,
        "exist_ok": True,
        "verbose": False,
        **extra,
    }
    arguments = {"mode": "train", "model": "yolov8n.yaml", "train": train}
    result = run_ultralytics(python, workdir, arguments, f"ultralytics_{name}.log")
    result["epochs"] = epochs
    return result


def parse_values(pairs):
    """Turns `key=value` strings into a dict, the values read as YAML."""
    values = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator:
            raise SystemExit(f"--ultralytics-set wants key=value, got {pair!r}")
        values[key.strip()] = yaml.safe_load(value)
    return values


# ------------------------------------------------------------ the recipe side


def recipe_detections_and_speed(run_dir, records, images, min_seconds):
    """Detects the test images with the trained recipe and times its serving.

    Returns the detections (boxes in each file's pixels), their class
    names, the SavedModel's and `detect`'s images per second at batch 32,
    and the run's `detection.json`.
    """
    import tensorflow as tf

    import keras_recipes
    from keras_recipes.data.image_stream import ImageSet
    from keras_recipes.data.letterbox import unletterbox_boxes

    recipe, model = keras_recipes.load_run(run_dir)
    info = json.loads((Path(run_dir) / "detection.json").read_text())
    post = recipe.config.postprocess
    height, width = recipe.config.data.image_size
    letterbox = info.get("letterbox", False)
    if letterbox:
        # As the run was trained and as `predict` reads files.
        boxed = ImageSet(
            labels=np.full(len(records), -1),
            image_size=(height, width),
            channels=3,
            files=[record.path for record in records],
            value_range=(0, 255),
            letterbox=True,
        )
        images = boxed[:].astype("uint8")
    found = recipe.detect(
        model,
        images.astype("float32"),
        score_threshold=post.eval_score_threshold,
    )
    detections = []
    for record, image_found in zip(records, found, strict=True):
        if letterbox:
            boxes = unletterbox_boxes(
                image_found["boxes"], record.height, record.width, (height, width)
            )
        else:
            scale = np.array([record.width / width, record.height / height] * 2)
            boxes = image_found["boxes"] * scale
        detections.append({**image_found, "boxes": boxes})
    batches = speed_batches(images)
    speeds = {}
    saved_model = Path(run_dir) / "export" / "saved_model"
    if saved_model.is_dir():
        # The loaded object owns the variables: keep it while serving.
        loaded = tf.saved_model.load(str(saved_model))

        def served(batch):
            outputs = loaded.serve(tf.constant(np.asarray(batch, "float32")))
            return {key: value.numpy() for key, value in outputs.items()}

        speeds["saved_model"] = images_per_second(served, batches, min_seconds)
    speeds["detect"] = images_per_second(
        lambda batch: recipe.detect(model, np.asarray(batch, "float32")),
        batches,
        min_seconds,
    )
    return detections, info["class_names"], speeds, info


# ------------------------------------------------------------------- main


def ratio(a, b):
    """Returns a / b, or nan when b is 0."""
    return a / b if b else float("nan")


def print_table(rows, cpu):
    """Prints the final Markdown table, the ratios line and the CPU.

    The ratios are the first row's over the second's.
    """
    header = [
        "system",
        "CPU time to train",
        "AP50",
        "AP50:95",
        "AP75",
        "AR100",
        "inference img/s (batch 32, NMS)",
    ]
    print("\n| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for row in rows:
        cells = [
            row["system"],
            f"{row['cpu']:.0f} s",
            *(f"{row['scores'][k]:.3f}" for k in ("ap50", "ap", "ap75", "ar100")),
            "" if row["speed"] is None else f"{row['speed']:.0f}",
        ]
        print("| " + " | ".join(cells) + " |")
    ours, theirs = rows[:2]
    ratios = {
        "CPU time": ratio(ours["cpu"], theirs["cpu"]),
        **{
            label: ratio(ours["scores"][key], theirs["scores"][key])
            for key, label in (
                ("ap50", "AP50"),
                ("ap", "AP50:95"),
                ("ap75", "AP75"),
                ("ar100", "AR100"),
            )
        },
        "img/s": ratio(ours["speed"], theirs["speed"]),
    }
    print(
        "\nratios recipe / Ultralytics: "
        + ", ".join(
            f"{k} {v:.2f}x" if np.isfinite(v) else f"{k} n/a" for k, v in ratios.items()
        )
    )
    print(f"CPU: {cpu}")
    for key, value in ratios.items():
        name = key.lower().replace(" ", "_").replace(":", "_").replace("/", "_per_")
        print(
            f"RESULT name=detection_vs_ultralytics_{name} ratio={value:.3f} target=none"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ultralytics-python",
        default=os.environ.get("ULTRALYTICS_PYTHON"),
        help="python of the Ultralytics venv (default: $ULTRALYTICS_PYTHON)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "detection_vs_ultralytics",
    )
    parser.add_argument("--num-train", type=int, default=1200)
    parser.add_argument("--num-val", type=int, default=200)
    parser.add_argument("--num-test", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2026, help="the set's seed")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a recipe override, after the benchmark's own (repeatable)",
    )
    parser.add_argument(
        "--ultralytics-set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an Ultralytics train argument (repeatable)",
    )
    parser.add_argument(
        "--ultralytics-epochs",
        type=int,
        help="train Ultralytics this long instead of for the recipe's CPU time",
    )
    parser.add_argument("--calibration-epochs", type=int, default=2)
    parser.add_argument(
        "--cpu-tolerance",
        type=float,
        default=0.1,
        help="train Ultralytics again when its CPU time is off by more than this",
    )
    parser.add_argument(
        "--refits", type=int, default=1, help="most times to train it again"
    )
    parser.add_argument(
        "--speed-seconds",
        type=float,
        default=10.0,
        help="least time each inference speed is measured over",
    )
    parser.add_argument(
        "--check-scoring",
        action="store_true",
        help="only write the set and check the scoring on its ground truth",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a tiny run to check it works: 120/20/40 images, 2 epochs each",
    )
    args = parser.parse_args()
    if args.quick:
        args.num_train, args.num_val, args.num_test = 120, 20, 40
        args.overrides = ["train.epochs=2", *args.overrides]
        args.ultralytics_epochs = args.ultralytics_epochs or 2
        args.speed_seconds = min(args.speed_seconds, 3.0)
    python = args.ultralytics_python
    if not args.check_scoring and not (python and os.access(python, os.X_OK)):
        raise SystemExit(
            "no Ultralytics python: pass --ultralytics-python or set "
            f"ULTRALYTICS_PYTHON, after making its venv: {INSTALL}"
        )
    started = time.perf_counter()
    cpu = cpu_name()
    print(f"CPU: {cpu}", flush=True)
    args.workdir.mkdir(parents=True, exist_ok=True)
    voc, ultra = write_sets(
        args.workdir, args.num_train, args.num_val, args.num_test, args.seed
    )
    records, class_names = read_test_split(voc)
    truth = coco_ground_truth(records, class_names)
    check_scoring(records, class_names)
    if args.check_scoring:
        return
    versions = run_ultralytics(
        python, args.workdir, {"mode": "versions"}, "ultralytics_versions.log"
    )
    print(f"Ultralytics environment: {versions['versions']}", flush=True)

    recipe = train_recipe(voc, args.workdir, args.overrides)
    recipe_cpu = recipe["fit_cpu"]
    print(
        f"recipe: {recipe['epochs']} epochs, fit {recipe_cpu:.0f} s CPU "
        f"({recipe['timings']['step_seconds']['fit']:.0f} s wall, timings.json), "
        f"whole child {recipe['process_cpu']:.0f} s CPU / "
        f"{recipe['process_wall']:.0f} s wall; own metrics map50 "
        f"{recipe['metrics']['map50']:.3f} map {recipe['metrics']['map']:.3f}; "
        f"run {recipe['run_dir']} [CPU: {cpu}]",
        flush=True,
    )

    extra = parse_values(args.ultralytics_set)
    epochs = args.ultralytics_epochs
    if epochs is None:
        calibration = train_ultralytics(
            python, ultra, args.workdir, args.calibration_epochs, "calibration", extra
        )
        per_epoch = calibration["train_cpu"] / args.calibration_epochs
        epochs = max(1, round(recipe_cpu / per_epoch))
        print(
            f"Ultralytics calibration: {args.calibration_epochs} epochs, "
            f"{per_epoch:.1f} s CPU an epoch (per epoch "
            f"{[round(s, 1) for s in calibration['epoch_cpu']]}) -> {epochs} "
            f"epochs for the recipe's {recipe_cpu:.0f} s [CPU: {cpu}]",
            flush=True,
        )
    ultralytics = train_ultralytics(python, ultra, args.workdir, epochs, "train", extra)
    for _ in range(args.refits if args.ultralytics_epochs is None else 0):
        # Later epochs cost less than the calibration's (the last
        # `close_mosaic` epochs have no mosaic), so the first guess can miss.
        off = ultralytics["train_cpu"] / recipe_cpu
        better = max(1, round(epochs / off))
        if abs(off - 1) <= args.cpu_tolerance or better == epochs:
            break
        print(
            f"Ultralytics: {epochs} epochs took {off:.2f}x the recipe's CPU time; "
            f"training again for {better} [CPU: {cpu}]",
            flush=True,
        )
        epochs = better
        ultralytics = train_ultralytics(
            python, ultra, args.workdir, epochs, "train", extra
        )
    print(
        f"Ultralytics: {epochs} epochs, training {ultralytics['train_cpu']:.0f} s "
        f"CPU ({ultralytics['train_wall']:.0f} s wall), whole child "
        f"{ultralytics['process_cpu']:.0f} s CPU; {ultralytics['threads']} torch "
        f"threads; best {ultralytics['best']} [CPU: {cpu}]",
        flush=True,
    )

    images = resized_images([record.path for record in records])
    images_file = args.workdir / "test_images.npy"
    np.save(images_file, images)
    info = json.loads((Path(recipe["run_dir"]) / "detection.json").read_text())
    deployment = {
        "imgsz": IMAGE_SIZE,
        "conf": info["score_threshold"],
        "iou": info["iou_threshold"],
        "max_det": info["max_detections"],
        "device": "cpu",
        "verbose": False,
    }
    evaluated = run_ultralytics(
        python,
        args.workdir,
        {
            "mode": "evaluate",
            "weights": ultralytics["best"],
            "paths": [str(ultra / "images" / "test" / r.path.name) for r in records],
            "predict": {
                "imgsz": IMAGE_SIZE,
                "conf": 0.001,
                "iou": 0.7,
                "max_det": 100,
                "device": "cpu",
                "verbose": False,
            },
            "val": {
                "data": str(ultra / "data.yaml"),
                "split": "test",
                "imgsz": IMAGE_SIZE,
                "conf": 0.001,
                "iou": 0.7,
                "max_det": 100,
                "device": "cpu",
                "plots": False,
                "save_json": True,
                "verbose": False,
                "project": str(args.workdir / "ultralytics_runs"),
                "name": "test_val",
                "exist_ok": True,
            },
            "speed": {
                "images": str(images_file),
                "batch": BATCH,
                "min_seconds": args.speed_seconds,
                "predict": deployment,
            },
        },
        "ultralytics_evaluate.log",
    )
    theirs = remap_classes(evaluated["detections"], evaluated["names"], class_names)
    their_scores = coco_scores(truth, theirs)
    empty = {"boxes": [], "scores": [], "classes": []}
    by_val = [evaluated["val_detections"].get(r.path.name, empty) for r in records]
    val_scores = coco_scores(
        truth, remap_classes(by_val, evaluated["names"], class_names)
    )

    found, names, speeds, _ = recipe_detections_and_speed(
        recipe["run_dir"], records, images, args.speed_seconds
    )
    our_scores = coco_scores(truth, remap_classes(found, names, class_names))
    print(
        f"recipe COCOeval {our_scores} (its own metrics.json: map "
        f"{recipe['metrics']['map']:.3f}, map50 {recipe['metrics']['map50']:.3f})",
        flush=True,
    )
    print(f"Ultralytics COCOeval {their_scores}", flush=True)
    print(
        f"Ultralytics val pipeline (multi-label NMS) COCOeval {val_scores} (its own "
        f"metrics: map50 {evaluated['val_metrics']['map50']:.3f}, map "
        f"{evaluated['val_metrics']['map']:.3f})",
        flush=True,
    )
    served = speeds.get("saved_model", speeds["detect"])
    print(
        f"inference at batch {BATCH}, score >= {deployment['conf']}, IoU "
        f"{deployment['iou']}: recipe SavedModel serve "
        f"{speeds.get('saved_model', float('nan')):.0f} img/s, recipe.detect "
        f"{speeds['detect']:.0f} img/s, Ultralytics predict "
        f"{evaluated['images_per_second']:.0f} img/s [CPU: {cpu}]",
        flush=True,
    )
    path = "SavedModel serve" if "saved_model" in speeds else "recipe.detect"
    overrides = " ".join(args.overrides)
    rows = [
        {
            "system": f"keras_recipes yolo ({recipe['epochs']} epochs; {path}"
            + (f"; {overrides}" if overrides else "")
            + ")",
            "cpu": recipe_cpu,
            "scores": our_scores,
            "speed": served,
        },
        {
            "system": f"Ultralytics {versions['versions']['ultralytics']} YOLOv8n "
            f"scratch ({epochs} epochs; predict)",
            "cpu": ultralytics["train_cpu"],
            "scores": their_scores,
            "speed": evaluated["images_per_second"],
        },
        {
            "system": "the same, scored through Ultralytics's val (multi-label NMS)",
            "cpu": ultralytics["train_cpu"],
            "scores": val_scores,
            "speed": None,
        },
    ]
    print_table(rows, cpu)
    print(
        f"\nset {args.num_train}/{args.num_val}/{args.num_test} (seed {args.seed}) "
        f"at {IMAGE_SIZE}x{IMAGE_SIZE}; work directory {args.workdir}; the whole "
        f"benchmark took {(time.perf_counter() - started) / 60:.1f} min"
    )


if __name__ == "__main__":
    main()
