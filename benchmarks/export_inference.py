"""Inference speed of the exported files: Keras `predict`, ONNX Runtime, LiteRT.

Two serving models, as `Recipe.serving_model` builds them from the shipped
configs: the digits classifier (`small_data_classifier`: 16x16x1 pixels in
[0, 255], conv 32-64, dense 128) and the yolo detector (`yolo`: 96x96x3,
the small backbone, with decoding and NMS in the graph). Each is exported
to ONNX and LiteRT (float32, as `export` writes them) and run on real
images (the test digits; the shapes test images) at batch 1 and batch 32:
Keras `Model.predict`, an `onnxruntime.InferenceSession`, the
`ai_edge_litert` interpreter's signature runner, each with every core this
process may use. Keras's `predict_on_batch` (`on_batch`) is timed too, for
reference: it skips `predict`'s per-call set-up (a dataset, an iterator,
callbacks), most of `predict`'s time on one small batch. The weights are
untrained, which changes no speed except NMS's: the detector's head is
scaled up so that about as many boxes pass the 0.6 threshold as a trained
detector finds (about 5 an image).

The runtimes alternate within each round (Keras, on_batch, ONNX, LiteRT, ...)
so a busy machine slows all alike; each ratio is the median over rounds of
the runtime's images per second divided by Keras's, from this one run.

    python benchmarks/export_inference.py [--rounds 5] [--quick]
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from keras_recipes import load_config  # noqa: E402
from keras_recipes.catalog import get_recipe  # noqa: E402
from keras_recipes.exporting import (  # noqa: E402
    cpu_name,
    export_format,
    export_path,
    largest_difference,
    load_exported,
    named_outputs,
)
from keras_recipes.seeding import set_seed  # noqa: E402

BATCHES = (1, 32)
RUNTIMES = ("keras", "on_batch", "onnx", "litert")


def serving_case(name):
    """Returns the recipe's serving model and its test images."""
    recipe = get_recipe(name)(load_config(name, {"train.mixed_precision": "float32"}))
    set_seed(recipe.config.seed)
    data = recipe.build_data()
    model = recipe.build_model(data)
    if name == "yolo":
        head = model.get_layer("head_output")
        kernel, bias = head.get_weights()
        head.set_weights([kernel * 55.0, np.zeros_like(bias)])
        images = data.test_images[:]
    else:
        images = np.concatenate([np.asarray(x) for x, _ in data.test])
    return recipe.serving_model(model, data), images


def runners(model, folder, threads):
    """Returns a function per runtime from a batch to its outputs."""
    found = {
        "keras": lambda x: named_outputs(model.predict(x, verbose=0)),
        "on_batch": lambda x: named_outputs(model.predict_on_batch(x)),
    }
    for format in ("onnx", "litert"):
        path = export_path(folder, format)
        export_format(model, path, format)
        found[format] = load_exported(path, threads=threads)
    return found


def images_per_second(run, images, batch, count):
    """Runs `count` images through `run` in batches; returns images a second."""
    batches = [images[i : i + batch] for i in range(0, count, batch)]
    started = time.perf_counter()
    for x in batches:
        run(x)
    return sum(len(x) for x in batches) / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of timing")
    parser.add_argument("--quick", action="store_true", help="2 rounds, fewer images")
    args = parser.parse_args()
    rounds = 2 if args.quick else args.rounds
    per_batch = {1: 32 if args.quick else 128, 32: 128 if args.quick else 640}
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
    print(f"CPU: {cpu_name()}; {rounds} rounds")
    for name, label in (("small_data_classifier", "digits"), ("yolo", "yolo")):
        model, images = serving_case(name)
        while len(images) < max(per_batch.values()):
            images = np.concatenate([images, images])
        with tempfile.TemporaryDirectory() as folder:
            run = runners(model, Path(folder), threads or None)
            reference = run["keras"](images[:32])
            for runtime in ("onnx", "litert"):
                difference = largest_difference(reference, run[runtime](images[:32]))
                assert difference < 1e-4, (label, runtime, difference)
            if "num_detections" in reference:
                found = reference["num_detections"].mean()
                print(f"{label}: {found:.1f} detections an image")
            for batch in BATCHES:
                count = per_batch[batch]
                for runtime in RUNTIMES:  # warm up: first calls trace or allocate
                    images_per_second(run[runtime], images, batch, batch * 2)
                speeds = {runtime: [] for runtime in RUNTIMES}
                for _ in range(rounds):
                    for runtime in RUNTIMES:
                        speeds[runtime].append(
                            images_per_second(run[runtime], images, batch, count)
                        )
                line = ", ".join(
                    f"{r} {statistics.median(speeds[r]):,.0f}" for r in RUNTIMES
                )
                print(f"{label} batch {batch}: images/s {line}")
                for runtime in ("on_batch", "onnx", "litert"):
                    ratios = [
                        s / k
                        for s, k in zip(speeds[runtime], speeds["keras"], strict=True)
                    ]
                    print(
                        f"RESULT name=export_{label}_{runtime}_batch{batch} "
                        f"ratio={statistics.median(ratios):.2f} target=none"
                    )


if __name__ == "__main__":
    main()
