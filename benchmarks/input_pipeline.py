"""Input pipeline: epochs with augmentation in `tf.data` against in-memory tensors.

The default classifier (the shipped `small_data_classifier` config: digits
at 16x16, conv 32-64, dense 128, batch 32, the dtype policy `auto` picks)
trains from the recipe's own training pipeline, built by
`SmallDataClassifier.build_data`: each epoch's order drawn from
(seed, epoch), gathered a batch at a time, each batch rotated, zoomed and
shifted by one `RandomImageAugmentation` call in a parallel, deterministic
`map` (`augment_batches`), epoch after epoch in one dataset (`every_epoch`,
so `fit` keeps one iterator), then prefetched. Against it, the same model
trains on the same batches in the same order, augmented once up front (one
epoch of that pipeline) and fed from in-memory tensors
(`fit(x, y, batch_size=32, shuffle=False)`). Both sides re-seed at each
epoch as the recipe does; validation is left out of both. Each round is one
`fit` call, so the pipeline side starts a new iterator every few epochs,
where a run starts one.

Rounds of a few epochs alternate (pipeline, tensors, pipeline, ...) after a
first, untimed epoch of each; the ratio is the median of the per-round
ratios of pipeline to in-memory epoch time, target <= 1.15 (the pipeline
must not starve the model). It also prints the time the pipeline alone
takes to produce an epoch.

    python benchmarks/input_pipeline.py [--rounds 11] [--epochs 3] [--quick]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

import keras_recipes  # noqa: E402
from keras_recipes.epoch_seeding import EpochSeeding  # noqa: E402
from keras_recipes.precision import (  # noqa: E402
    dtype_policy,
    keep_outputs_float32,
    resolve_mixed_precision,
)
from keras_recipes.recipes.small_data_classifier import (  # noqa: E402
    SmallDataClassifier,
)
from keras_recipes.seeding import set_seed  # noqa: E402


def seconds_per_epoch(function, epochs):
    started = time.perf_counter()
    function(epochs)
    return (time.perf_counter() - started) / epochs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per round")
    parser.add_argument("--quick", action="store_true", help="3 rounds of 2 epochs")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.epochs = 3, 2
    config = keras_recipes.load_config("small_data_classifier")
    policy = resolve_mixed_precision(config.train.mixed_precision)
    set_seed(config.seed)
    recipe = SmallDataClassifier(config)
    with dtype_policy(policy):
        data = recipe.build_data()
        model = recipe.build_model(data)
        if policy != "float32":
            keep_outputs_float32(model)
        recipe.compile(model, data)
    seeding = EpochSeeding(config.seed, recipe.epoch, data.random_layers)
    steps = data.steps_per_epoch
    batches = list(data.train.take(steps))  # one augmented epoch
    images = tf.concat([x for x, _ in batches], axis=0)
    labels = tf.concat([y for _, y in batches], axis=0)
    batch_size = config.train.batch_size

    def pipeline(epochs):
        model.fit(
            data.train,
            epochs=epochs,
            steps_per_epoch=steps,
            callbacks=[seeding],
            shuffle=False,
            verbose=0,
        )

    def in_memory(epochs):
        model.fit(
            images,
            labels,
            batch_size=batch_size,
            epochs=epochs,
            shuffle=False,
            callbacks=[seeding],
            verbose=0,
        )

    def produce(epochs):
        for _ in data.train.take(steps * epochs):
            pass

    sides = {"pipeline": pipeline, "in-memory": in_memory, "produce": produce}
    for function in sides.values():
        function(1)  # traces the steps, fills caches
    times = {name: [] for name in sides}
    for _ in range(args.rounds):
        for name, function in sides.items():
            times[name].append(seconds_per_epoch(function, args.epochs))
    ratios = [p / m for p, m in zip(times["pipeline"], times["in-memory"], strict=True)]
    ratio = statistics.median(ratios)
    epoch = {name: statistics.median(values) for name, values in times.items()}
    print(
        f"small_data_classifier, shipped config: {len(images)} images, batch "
        f"{batch_size}, {len(batches)} steps per epoch, policy {policy}; median "
        f"of {args.rounds} alternating rounds of {args.epochs} epochs"
    )
    print(f"  augmentation in the tf.data pipeline: {epoch['pipeline']:.3f} s/epoch")
    print(f"  pre-augmented in-memory tensors:      {epoch['in-memory']:.3f} s/epoch")
    print(
        f"  the pipeline alone, no training:      {epoch['produce']:.3f} s/epoch "
        f"({epoch['produce'] / epoch['in-memory']:.0%} of a training epoch)"
    )
    print(
        f"  per-round ratios {', '.join(f'{r:.3f}' for r in ratios)}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"pipeline / in-memory: {ratio:.3f} (target <= 1.15)")
    print(f"RESULT name=input_pipeline ratio={ratio:.3f} target=<=1.15")


if __name__ == "__main__":
    main()
