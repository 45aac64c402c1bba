"""Training a top on cached bottleneck features against running the frozen base.

The same top model (FLATTEN -> DENSE 256 -> DROPOUT -> DENSE) trains for the
same number of epochs, with the same batches, in two ways:

- frozen base: VGG16 (frozen) + top as one model on the images, so every
  epoch runs the base over every image again;
- cached: the base runs once, through `FeatureCache` (the extraction of a
  first run; a second run reads the file instead), then the top trains on
  the features alone.

It prints the seconds of each and the speed-up ratios, measured in this one
run. Random VGG16 weights (the ImageNet ones cannot be downloaded here)
cost the same time as the real ones.

    python benchmarks/bottleneck_cache_speedup.py [--size 64] [--epochs 5] [--quick]
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_recipes.data.digits import load_digits  # noqa: E402
from keras_recipes.data.feature_cache import FeatureCache, extract_features  # noqa: E402
from keras_recipes.models.transfer import (  # noqa: E402
    ApplicationPreprocessing,
    freeze_base,
    top_model,
    transfer_model,
)
from keras_recipes.seeding import set_seed  # noqa: E402
from keras_recipes.weights import build_application  # noqa: E402


def timed(function):
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64, help="image side (>= 32)")
    parser.add_argument("--images", type=int, default=300, help="training images")
    parser.add_argument("--epochs", type=int, default=5, help="epochs of both")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="100 images, 2 epochs")
    args = parser.parse_args()
    if args.quick:
        args.images, args.epochs = 100, 2
    set_seed(0)
    (x, y), _, _ = load_digits()
    x, y = x[: args.images], y[: args.images]
    images = tf.image.grayscale_to_rgb(
        tf.image.resize(x, (args.size, args.size))
    ).numpy()
    base = build_application(
        "VGG16", weights=None, include_top=False, input_shape=images.shape[1:]
    )
    freeze_base(base, None)
    preprocessing = ApplicationPreprocessing("VGG16")
    inputs = keras.Input(images.shape[1:])
    extractor = keras.Model(inputs, base(preprocessing(inputs), training=False))

    def fit(model, inputs):
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(inputs, y, epochs=args.epochs, batch_size=args.batch_size, verbose=0)

    def top():
        keras.utils.set_random_seed(0)
        return top_model(tuple(base.output.shape[1:]), 10)

    # Running the frozen base every epoch.
    _, frozen_seconds = timed(
        lambda: fit(transfer_model(base, top(), preprocessing), images)
    )
    # The cache: a first run extracts and writes, a second one reads.
    with tempfile.TemporaryDirectory() as folder:
        cache = FeatureCache(folder, verbose=False)
        key = {"benchmark": "bottleneck_cache_speedup", "size": args.size}
        batches = tf.data.Dataset.from_tensor_slices((images, y)).batch(64)

        def extract():
            return {"features": extract_features(extractor, batches, verbose=0)[0]}

        (arrays, _), extract_seconds = timed(lambda: cache.get_or_extract(key, extract))
        (again, hit), read_seconds = timed(lambda: cache.get_or_extract(key, extract))
    assert hit and np.array_equal(arrays["features"], again["features"])
    _, top_seconds = timed(lambda: fit(top(), again["features"]))

    first_run = extract_seconds + top_seconds
    second_run = read_seconds + top_seconds
    print(
        f"{args.images} images of {args.size}x{args.size}, {args.epochs} epochs, "
        f"batch {args.batch_size}, VGG16 features {tuple(base.output.shape[1:])}"
    )
    print(f"frozen base every epoch:      {frozen_seconds:8.2f} s")
    print(f"extract once + train the top: {first_run:8.2f} s", end=" ")
    print(f"(extraction {extract_seconds:.2f} s)")
    print(f"cache hit + train the top:    {second_run:8.2f} s", end=" ")
    print(f"(reading {read_seconds:.3f} s)")
    print(f"speed-up, first run (extracting):  {frozen_seconds / first_run:6.1f}x")
    print(f"speed-up, later runs (cache hit):  {frozen_seconds / second_run:6.1f}x")
    print(
        f"RESULT name=bottleneck_cache_first_run "
        f"ratio={frozen_seconds / first_run:.1f} target=>1"
    )
    print(
        f"RESULT name=bottleneck_cache_hit "
        f"ratio={frozen_seconds / second_run:.1f} target=>1"
    )


if __name__ == "__main__":
    main()
