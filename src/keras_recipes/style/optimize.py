"""One compiled optimisation step of the generated image."""

import contextlib

import tensorflow as tf

from keras_recipes.seeding import set_op_determinism


def image_step(loss, image, optimizer, clip=True):
    """Takes one optimiser step on the image's pixels and returns the terms.

    `build_step` compiles it into a function, and `StyleTransferModel`
    runs it as its `train_step`, so both take the very same step.

    Args:
        loss: Callable from the image to a `dict` of scalar terms with the
            total under `"loss"`, such as a `StyleTransferLoss`.
        image: The variable `[1, H, W, 3]` being optimised.
        optimizer: A built `keras.optimizers.Optimizer`.
        clip: Whether to keep the pixels in [0, 255] after the step.
            Defaults to `True`.

    Returns:
        The `dict` of loss terms computed before the update.

    Example:

    ```python
    optimizer.build([image])
    terms = image_step(loss, image, optimizer)
    ```
    """
    with tf.GradientTape() as tape:
        terms = loss(image)
    gradient = tape.gradient(terms["loss"], image)
    optimizer.apply_gradients([(gradient, image)])
    if clip:
        image.assign(tf.clip_by_value(image, 0.0, 255.0))
    return terms


def build_step(loss, image, optimizer, jit_compile=False, clip=True):
    """Returns a `tf.function` that takes one optimiser step on the image.

    Args:
        loss: Callable from the image to a `dict` of scalar terms with the
            total under `"loss"`, such as a `StyleTransferLoss`.
        image: The `tf.Variable` `[1, H, W, 3]` being optimised.
        optimizer: A `keras.optimizers.Optimizer`; it is built on `image`.
        jit_compile: Whether to compile the step with XLA. Defaults to
            `False`.
        clip: Whether to keep the pixels in [0, 255] after each step.
            Defaults to `True`.

    Returns:
        A function with no arguments that updates `image` and returns the
        `dict` of loss terms computed before the update.

    Example:

    ```python
    image = tf.Variable(content[None])
    step = build_step(loss, image, keras.optimizers.Adam(4.0))
    for _ in range(100):
        terms = step()
    ```
    """
    optimizer.build([image])

    def update():
        return image_step(loss, image, optimizer, clip)

    compiled = tf.function(update, jit_compile=jit_compile)
    if not jit_compile:
        return compiled
    calls = []

    def step():
        if calls:
            return compiled()
        calls.append(1)
        with _determinism_paused():  # the first call compiles
            return compiled()

    return step


@contextlib.contextmanager
def _determinism_paused():
    """Lets XLA compile a step while op determinism is on.

    With op determinism on, TensorFlow refuses to XLA-compile the gradient of
    max pooling, because its GPU kernel is not deterministic; on CPU it is,
    and the step gives the same numbers run after run (a test checks it).
    """
    enabled = set_op_determinism(False)
    try:
        yield
    finally:
        set_op_determinism(enabled)
