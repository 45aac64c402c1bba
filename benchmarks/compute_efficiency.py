"""Compute efficiency: a training step's FLOP/s against a dense matmul's.

The machine's reference is the FLOP/s of a float32 2048x2048 `tf.matmul`,
warm, over many repetitions (2 x 2048^3 FLOPs each). Against it, two
training steps in float32 plain Keras (`fit` on one batch repeated, Adam,
sparse categorical cross-entropy, the first call's tracing not timed, timed
from the start of training to the end of the last step):

- the default classifier: `small_cnn` with the shipped
  `small_data_classifier` config (16x16x1 digits, conv 32-64, dense 128),
  batch 32;
- VGG16 at 224x224, `keras.applications.VGG16(weights=None,
  include_top=True)`: the whole 1000-class network (138M parameters, the
  one whose 15.5 GMACs is the published count), batch 8.

FLOPs come from the model: TensorFlow's profiler counts the float ops of
the forward pass's graph (`model_analyzer.profile` on the concrete
function), cross-checked against an analytic count of 2 x MACs of every
convolution and dense layer. A training step is counted as 3x the forward
pass (forward, gradient with respect to the activations, gradient with
respect to the weights), the usual estimate; it ignores the optimizer's
update and the elementwise layers. The classifier is also timed with
`steps_per_execution=20`, which shows how much of its step is the training
loop's per-step cost. The rounds alternate matmul and models so a busy
machine slows them alike; medians are reported. No target: the ratios are
reported with what limits them.

    python benchmarks/compute_efficiency.py [--rounds 3] [--quick]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python.profiler import model_analyzer, option_builder  # noqa: E402

import keras_recipes  # noqa: E402
from keras_recipes.models.classifier import small_cnn  # noqa: E402

MATMUL_SIZE = 2048


def profiler_flops(model, input_shape):
    """Returns the float ops TensorFlow's profiler counts in one forward pass."""
    function = tf.function(lambda x: model(x, training=False))
    graph = function.get_concrete_function(tf.TensorSpec((1, *input_shape))).graph
    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return model_analyzer.profile(graph, options=options).total_float_ops


def analytic_flops(model):
    """Returns 2 x the multiply-adds of every convolution and dense layer."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            height, width, _ = layer.output.shape[1:]
            total += 2 * height * width * int(np.prod(layer.kernel.shape))
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * int(np.prod(layer.kernel.shape))
    return total


def matmul_seconds(repeats, dtype="float32"):
    """Returns the seconds of one warm `MATMUL_SIZE` square matmul."""
    a = tf.random.normal((MATMUL_SIZE, MATMUL_SIZE), dtype=dtype)
    b = tf.random.normal((MATMUL_SIZE, MATMUL_SIZE), dtype=dtype)
    tf.matmul(a, b).numpy()  # warm
    started = time.perf_counter()
    for _ in range(repeats):
        c = tf.matmul(a, b)
    c.numpy()
    return (time.perf_counter() - started) / repeats


class TrainingStep:
    """A compiled model and one repeated batch; `seconds(n)` times n steps."""

    def __init__(self, model, batch_size, num_classes, steps_per_execution=1):
        self.model = model
        rng = np.random.default_rng(0)
        shape = (batch_size, *model.input_shape[1:])
        x = rng.uniform(0, 255, shape).astype("float32")
        y = rng.integers(0, num_classes, batch_size).astype("int32")
        self.data = tf.data.Dataset.from_tensors((x, y)).repeat().prefetch(2)
        model.compile(
            keras.optimizers.Adam(1e-4),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
            steps_per_execution=steps_per_execution,
        )
        self.seconds(steps_per_execution)  # traces the step

    def seconds(self, steps):
        # From the start of training to the end of the last step: `fit` then
        # sometimes stalls for seconds before it returns, which is not the step.
        clock = _StepClock()
        self.model.fit(
            self.data,
            steps_per_epoch=steps,
            epochs=1,
            shuffle=False,
            verbose=0,
            callbacks=[clock],
        )
        return (clock.last_step_end - clock.started) / steps


class _StepClock(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.last_step_end = time.perf_counter()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--vgg-steps", type=int, default=2, help="per round")
    parser.add_argument("--cnn-steps", type=int, default=200, help="per round")
    parser.add_argument("--quick", action="store_true", help="2 rounds, fewer steps")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.vgg_steps, args.cnn_steps = 2, 1, 50
    keras.utils.set_random_seed(0)
    config = keras_recipes.load_config("small_data_classifier")

    def classifier():
        return small_cnn(
            (*config.data.image_size, 1),
            10,
            filters=tuple(config.model.filters),
            kernel_size=config.model.kernel_size,
            dense_units=config.model.dense_units,
            dropout=config.model.dropout,
        )

    # name: (model, batch size, classes, steps per round, steps per execution)
    models = {
        "default classifier": (classifier(), 32, 10, args.cnn_steps, 1),
        "VGG16 224x224": (
            keras.applications.VGG16(weights=None, include_top=True),
            8,
            1000,
            args.vgg_steps,
            1,
        ),
        # The same classifier, 20 steps per call into the compiled function:
        # how much of its step is the per-step cost of the training loop.
        "default classifier, steps_per_execution=20": (
            classifier(),
            32,
            10,
            args.cnn_steps,
            20,
        ),
    }
    flops, steps = {}, {}
    for name, (model, batch_size, classes, _, per_call) in models.items():
        counted = profiler_flops(model, model.input_shape[1:])
        flops[name] = 3 * counted * batch_size
        if per_call == 1:
            print(
                f"{name}: forward {counted / 1e9:.4f} GFLOPs per image "
                f"(profiler), {analytic_flops(model) / 1e9:.4f} (analytic, "
                f"convs and dense only); training step = 3 x forward x batch "
                f"{batch_size} = {flops[name] / 1e9:.2f} GFLOPs"
            )
        steps[name] = TrainingStep(model, batch_size, classes, per_call)
    matmul_repeats = 20 if not args.quick else 8
    times = {"matmul": [], "bf16 matmul": [], **{name: [] for name in models}}
    for _ in range(args.rounds):
        times["matmul"].append(matmul_seconds(matmul_repeats))
        times["bf16 matmul"].append(matmul_seconds(matmul_repeats, "bfloat16"))
        for name, (*_, count, _) in models.items():
            times[name].append(steps[name].seconds(count))
    seconds = {name: statistics.median(values) for name, values in times.items()}
    matmul_flops = 2 * MATMUL_SIZE**3
    peak = matmul_flops / seconds["matmul"]
    print(
        f"float32 {MATMUL_SIZE}x{MATMUL_SIZE} matmul: {peak / 1e9:.1f} GFLOP/s; "
        f"bfloat16: {matmul_flops / seconds['bf16 matmul'] / 1e9:.1f} GFLOP/s "
        f"(median of {args.rounds} rounds of {matmul_repeats}, {os.cpu_count()} cores)"
    )
    for name in models:
        achieved = flops[name] / seconds[name]
        print(
            f"{name}, float32 training step: {seconds[name] * 1000:.1f} ms, "
            f"{achieved / 1e9:.1f} GFLOP/s, ratio to matmul {achieved / peak:.3f}"
        )
    print(f"load average {os.getloadavg()[0]:.1f}")
    for key, name in (("classifier", "default classifier"), ("vgg16", "VGG16 224x224")):
        ratio = flops[name] / seconds[name] / peak
        print(f"RESULT name=compute_efficiency_{key} ratio={ratio:.3f} target=none")


if __name__ == "__main__":
    main()
