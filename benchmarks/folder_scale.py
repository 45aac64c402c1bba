"""Folder scale: memory and time of every image recipe as a photo folder grows.

Generates folders of photo-like JPEGs (smooth colour fields with shapes,
150-500 px a side, seeded) in the layout each recipe reads: class folders
(small_data_classifier, autoencoder, vae, vgg16_bottleneck,
vgg16_fine_tune), identity folders (face_triplet) and Pascal VOC (yolo).
Each recipe then runs one epoch on each folder size in a child process,
and the table gives, per recipe and size, the child's peak RSS and the
seconds per 1,000 images of each step of the run (`timings.json`'s
`step_seconds`: `build_data` scans the folder and builds the pipelines
(for yolo and face_triplet it also decodes the folder once into the image
cache; for vgg16_bottleneck it extracts the features); `fit` is the one
epoch). The last columns are the ratios of the largest size to the
smallest: a cost linear in the data keeps every seconds-per-1,000 ratio
near 1.0 and the peak RSS nearly flat.

At every size an epoch trains on the same `--fit-images` images (1,200:
`train.steps_per_epoch`) and validates on the recipe's share of that
(`train.validation_steps`), so `fit` does the same work on a small and a
large folder: the pipeline shuffles and reads from all the folder's files,
and `fit`'s seconds per 1,000 are per image trained or validated.
Everything else (the scan, the decoding, the features, evaluation and
figures) covers the whole folder.

Beside `small_data_classifier` at 150x150 RGB, a plain Keras script reads
the same folder with `keras.utils.image_dataset_from_directory` and trains
the same model (`keras_recipes.models.small_cnn` with the recipe's sizes)
with the same batch size on the same share of the images, validating on the
rest, for one whole epoch, as the anchor: `epoch vs plain` is the recipe's
epoch time (with its augmentation) over the script's (without), on the
smallest folder.

The scale rows run the classifier, the autoencoders and face_triplet at
`--image-size` (64 by default: their photo default, or for the classifier
less than its 150), yolo at its default 96, and VGG16 with
`model.weights=null` (no download here) at `--vgg-size` (32 by default),
since its cost is the base's.

    python benchmarks/folder_scale.py [--sizes 2000 32000] [--recipes ...]
        [--fit-images 1200] [--root /tmp/folder_scale] [--keep]
"""

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ANCHOR = "small_data_classifier 150x150"
PLAIN = "plain keras 150x150"
RECIPES = (
    "small_data_classifier",
    "autoencoder",
    "vae",
    "face_triplet",
    "vgg16_bottleneck",
    "vgg16_fine_tune",
    "yolo",
)
LAYOUT = {
    "face_triplet": "identities",
    "yolo": "voc",
}
CLASSES = ("cat", "dog")
SHAPES = ("ellipse", "rectangle", "triangle")
# The folder's test share; validation comes from the training images.
TEST_FRACTION = 0.1
_GRAIN = np.random.default_rng(0).integers(-7, 8, (512, 512, 3)).astype("int16")


def photo(rng, tint=None, boxes=0):
    """Returns a photo-like uint8 RGB image and its shapes' boxes and classes."""
    width, height = (int(v) for v in rng.integers(150, 501, 2))
    coarse = rng.integers(0, 256, (int(rng.integers(3, 7)), int(rng.integers(3, 7)), 3))
    if tint is not None:
        coarse = np.clip(coarse * 0.6 + np.asarray(tint) * 0.4, 0, 255)
    field = Image.fromarray(coarse.astype("uint8")).resize(
        (width, height), Image.Resampling.BICUBIC
    )
    draw = ImageDraw.Draw(field)
    found, classes = [], []
    for _ in range(boxes or int(rng.integers(1, 4))):
        side = int(rng.integers(min(width, height) // 6, min(width, height) // 2))
        x0 = int(rng.integers(0, width - side))
        y0 = int(rng.integers(0, height - side))
        box = (x0, y0, x0 + side, y0 + int(side * rng.uniform(0.6, 1.0)))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        kind = int(rng.integers(len(SHAPES)))
        if kind == 0:
            draw.ellipse(box, fill=colour)
        elif kind == 1:
            draw.rectangle(box, fill=colour)
        else:
            draw.polygon(
                [(box[0], box[3]), (box[2], box[3]), ((box[0] + box[2]) // 2, box[1])],
                fill=colour,
            )
        found.append(box)
        classes.append(kind)
    # Sensor-like grain from one shared tile at a random offset: photo-sized
    # JPEGs (and decode costs) without drawing noise for every pixel.
    y, x = (int(v) for v in rng.integers(0, 12, 2))
    grain = _GRAIN[y : y + height, x : x + width]
    pixels = np.asarray(field, "int16") + grain
    return np.clip(pixels, 0, 255).astype("uint8"), found, classes


def _image_rng(seed, index):
    # One stream per image: the folder is the same however it is split up.
    return np.random.default_rng([seed, index])


def _class_images(root, count, indices, seed):
    tints = {"cat": (220, 140, 60), "dog": (60, 120, 220)}
    for index in indices:
        split = "test" if (index // 2) % round(1 / TEST_FRACTION) == 0 else "train"
        name = CLASSES[index % 2]
        folder = root / split / name
        folder.mkdir(parents=True, exist_ok=True)
        image, _, _ = photo(_image_rng(seed, index), tints[name])
        Image.fromarray(image).save(folder / f"{name}.{index}.jpg", quality=90)


def _identity_images(root, count, indices, seed):
    # Small folders get fewer images per identity, so that the held-out
    # identities leave enough for a P x K batch of 16 identities.
    identities = max(24, count // 20)
    tints = np.random.default_rng(seed).integers(0, 256, (identities, 3))
    for index in indices:
        identity = index % identities
        folder = root / f"person_{identity:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        image, _, _ = photo(_image_rng(seed, index), tints[identity])
        Image.fromarray(image).save(folder / f"{index:06d}.jpg", quality=90)


def _voc_images(root, count, indices, seed):
    from keras_recipes.data.annotations.voc import write_voc

    test_every = round(1 / TEST_FRACTION)
    worker = indices[0] if len(indices) else 0
    for index in indices:
        split = (
            "test"
            if index % test_every == 0
            else ("val" if index % test_every == 1 else "train")
        )
        image, boxes, classes = photo(_image_rng(seed, index))
        annotation = {
            "boxes": np.asarray(boxes, "float32").reshape(-1, 4),
            "classes": np.asarray(classes, "int32"),
        }
        # Each worker lists its own ids; `write_folder` merges the lists.
        write_voc(
            root,
            f"{split}.part{worker}",
            [image],
            [annotation],
            list(SHAPES),
            first_id=index,
        )


WRITERS = {
    "classes": _class_images,
    "identities": _identity_images,
    "voc": _voc_images,
}


def _write_part(layout, root, count, indices, seed):
    WRITERS[layout](root, count, indices, seed)


def write_folder(layout, root, count, seed=0, workers=None):
    """Writes a folder of `count` photos in `layout`, on every core; returns `root`."""
    workers = workers or os.cpu_count() or 1
    parts = [list(range(start, count, workers)) for start in range(workers)]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        pool.starmap(_write_part, [(layout, root, count, part, seed) for part in parts])
    lists = root / "ImageSets" / "Main"
    for split in ("train", "val", "test"):
        parts = sorted(lists.glob(f"{split}.part*.txt")) if lists.is_dir() else []
        if parts:
            ids = sorted(line for part in parts for line in part.read_text().split())
            (lists / f"{split}.txt").write_text("".join(f"{i}\n" for i in ids))
            for part in parts:
                part.unlink()
    return root


def recipe_overrides(name, folder, image_size, vgg_size):
    """Returns the `--set` values of one recipe's one-epoch run on `folder`."""
    common = [
        f"data.directory={folder}",
        "train.epochs=1",
        "train.verbose=0",
        "callbacks.tensorboard.enabled=false",
    ]
    size = f"data.image_size=[{image_size},{image_size}]"
    if name == "small_data_classifier":
        return common + [size, "data.color_mode=rgb"]
    if name == "autoencoder":
        return common + [size, "model.kind=deep"]
    if name == "vae":
        return common + [size]
    if name == "face_triplet":
        return common + [size, "data.unseen=held_out"]
    if name.startswith("vgg16"):
        return common + [
            f"data.image_size=[{vgg_size},{vgg_size}]",
            "base.weights=null",
        ]
    if name == "yolo":
        return common + ["data.format=voc", "model.backbone_weights=null"]
    return common


def epoch_work(name, fit_images):
    """Returns `(steps, validation_steps, batch)` of one capped epoch.

    Every folder size trains the same `steps` batches of about `fit_images`
    images and validates on `validation_steps` batches, in the recipe's
    proportion of validation to training images, so `fit` does the same
    work at every size and its seconds show what the folder's size costs.
    """
    from keras_recipes import load_config

    # None of the benchmark's overrides changes a batch size or split.
    config = load_config(name)
    if name == "face_triplet":
        sampler = config.sampler
        batch = sampler.identities_per_batch * sampler.images_per_identity
    else:
        batch = config.train.batch_size
    steps = max(1, fit_images // batch)
    share = config.train.validation_split
    validation_steps = max(1, round(steps * share / (1 - share)))
    return steps, validation_steps, batch


def run_child(command, cwd):
    """Runs a command under `/usr/bin/time`; returns (peak RSS MB, seconds)."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        start = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", rss.name, *command],
            cwd=cwd,
            capture_output=True,
            text=True,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
        )
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
        kilobytes = int(rss.read().split()[-1])
    return kilobytes / 1024, seconds, done.stdout


def run_recipe(name, folder, runs_root, overrides, epoch_images=None):
    """Runs one recipe on one folder; returns its peak RSS and step seconds."""
    command = [sys.executable, "-m", "keras_recipes", "run", name]
    for value in overrides:
        command += ["--set", value]
    command += ["--runs-root", str(runs_root)]
    peak, seconds, _ = run_child(command, cwd=runs_root)
    run_dir = max((runs_root / name).iterdir(), key=lambda p: p.stat().st_mtime)
    timings = json.loads((run_dir / "timings.json").read_text())
    steps = dict(timings["step_seconds"])
    if "feature_extraction_seconds" in timings:
        steps["features"] = timings["feature_extraction_seconds"]
    return {
        "peak_mb": peak,
        "process_seconds": seconds,
        "steps": steps,
        "epoch_images": epoch_images,
    }


PLAIN_SCRIPT = """
import json, sys, time
import keras
from keras_recipes.models import small_cnn

folder, size, filters = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
units, epochs = int(sys.argv[4]), int(sys.argv[5])
split, batch = float(sys.argv[6]), int(sys.argv[7])
# The recipe's work: train on the same share of the folder, validate on the rest.
train, validation = keras.utils.image_dataset_from_directory(
    folder,
    image_size=(size, size),
    batch_size=batch,
    seed=0,
    validation_split=split,
    subset="both",
    verbose=False,
)
model = small_cnn((size, size, 3), 2, filters=tuple(filters), dense_units=units)
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
start = time.perf_counter()
model.fit(
    train.prefetch(-1),
    validation_data=validation.prefetch(-1),
    epochs=epochs,
    verbose=0,
)
print(json.dumps({"fit": time.perf_counter() - start}))
"""


def run_plain(folder, runs_root, epochs=1):
    """Trains the classifier's model from `image_dataset_from_directory`."""
    from keras_recipes import load_config

    config = load_config("small_data_classifier")
    command = [
        sys.executable,
        "-c",
        PLAIN_SCRIPT,
        str(folder / "train"),
        "150",
        json.dumps(list(config.model.filters)),
        str(config.model.dense_units),
        str(epochs),
        str(config.train.validation_split),
        str(config.train.batch_size),
    ]
    peak, seconds, out = run_child(command, cwd=runs_root)
    return {
        "peak_mb": peak,
        "process_seconds": seconds,
        "steps": json.loads(out.splitlines()[-1]),
    }


def per_thousand(result, count):
    """Seconds per 1,000 images of each step; `fit` per image of its epoch."""
    rates = {}
    for step, value in result["steps"].items():
        images = count
        if step == "fit" and result.get("epoch_images"):
            images = result["epoch_images"]
        rates[step] = value / (images / 1000)
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 32000])
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=RECIPES)
    parser.add_argument(
        "--root", type=Path, default=Path(tempfile.gettempdir()) / "folder_scale"
    )
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--vgg-size", type=int, default=32)
    parser.add_argument(
        "--fit-images", type=int, default=1200, help="images an epoch trains on"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the generated folders"
    )
    parser.add_argument(
        "--no-plain", action="store_true", help="skip the plain Keras anchor"
    )
    args = parser.parse_args()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    print(f"CPU: {cpu}, {os.cpu_count()} cores; sizes {args.sizes}", flush=True)
    args.root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = {}
    for count in args.sizes:
        layouts = {LAYOUT.get(name, "classes") for name in args.recipes}
        folders = {}
        for layout in sorted(layouts):
            folder = args.root / f"{layout}_{count}"
            if not (folder / ".complete").exists():
                shutil.rmtree(folder, ignore_errors=True)
                start = time.perf_counter()
                write_folder(layout, folder, count)
                (folder / ".complete").write_text("")
                print(
                    f"wrote {count} images ({layout}) in "
                    f"{time.perf_counter() - start:.0f} s",
                    flush=True,
                )
            folders[layout] = folder
        runs_root = args.root / f"runs_{count}"
        shutil.rmtree(runs_root, ignore_errors=True)
        runs_root.mkdir()
        for name in args.recipes:
            folder = folders[LAYOUT.get(name, "classes")]
            overrides = recipe_overrides(name, folder, args.image_size, args.vgg_size)
            steps, validation_steps, batch = epoch_work(name, args.fit_images)
            overrides += [
                f"train.steps_per_epoch={steps}",
                f"train.validation_steps={validation_steps}",
            ]
            epoch_images = (steps + validation_steps) * batch
            result = run_recipe(name, folder, runs_root, overrides, epoch_images)
            results[(name, count)] = result
            print(
                f"{name} N={count}: peak {result['peak_mb']:.0f} MB, "
                f"steps {result['steps']}",
                flush=True,
            )
        anchor = "small_data_classifier" in args.recipes and not args.no_plain
        if anchor and count == min(args.sizes):
            folder = folders["classes"]
            overrides = recipe_overrides("small_data_classifier", folder, 150, 0)
            results[(ANCHOR, count)] = run_recipe(
                "small_data_classifier", folder, runs_root, overrides
            )
            results[(PLAIN, count)] = run_plain(folder, runs_root)
            print(f"{ANCHOR} N={count}: {results[(ANCHOR, count)]}", flush=True)
            print(f"{PLAIN} N={count}: {results[(PLAIN, count)]}", flush=True)
        if not args.keep:
            shutil.rmtree(runs_root, ignore_errors=True)
    print_table(results, args.sizes)
    print(f"\nthe whole benchmark took {(time.perf_counter() - started) / 60:.1f} min")
    if not args.keep:
        shutil.rmtree(args.root, ignore_errors=True)


def print_table(results, sizes):
    small, large = min(sizes), max(sizes)
    steps = ("build_data", "features", "fit", "evaluate", "figures")
    header = ["recipe", "N", "peak RSS MB"] + [f"{s} s/1k" for s in steps]
    print("\n| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    names = dict.fromkeys(name for name, _ in results)
    for name in names:
        for count in sizes:
            result = results.get((name, count))
            if result is None:
                continue
            rates = per_thousand(result, count)
            cells = [name, str(count), f"{result['peak_mb']:.0f}"]
            cells += [f"{rates[s]:.2f}" if s in rates else "" for s in steps]
            print("| " + " | ".join(cells) + " |")
    print(f"\nratios, N={large} over N={small} (linear: s/1k near 1.0; RSS flat):")
    worst_rss, worst_rate = 0.0, 0.0
    for name in names:
        first, last = results.get((name, small)), results.get((name, large))
        if first is None or last is None or small == large:
            continue
        rates_a, rates_b = per_thousand(first, small), per_thousand(last, large)
        ratios = {
            s: rates_b[s] / rates_a[s] for s in steps if s in rates_a and rates_a[s] > 0
        }
        cells = ", ".join(f"{s} {r:.2f}x" for s, r in ratios.items())
        rss = last["peak_mb"] / first["peak_mb"]
        print(f"  {name}: peak RSS {rss:.2f}x; {cells}")
        worst_rss = max(worst_rss, rss)
        worst_rate = max([worst_rate, *ratios.values()])
    if worst_rss:
        print(f"  largest ratios: peak RSS {worst_rss:.2f}x, s/1k {worst_rate:.2f}x")
    for count in sizes:
        recipe, plain = results.get((ANCHOR, count)), results.get((PLAIN, count))
        if recipe and plain:
            ratio = recipe["steps"]["fit"] / plain["steps"]["fit"]
            print(
                f"  N={count}: small_data_classifier at 150x150, one epoch vs plain "
                f"Keras: {ratio:.2f}x ({recipe['steps']['fit']:.1f} s against "
                f"{plain['steps']['fit']:.1f} s)"
            )


if __name__ == "__main__":
    main()
