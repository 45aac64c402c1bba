"""Optimizers and learning-rate schedules built from config."""

import keras

_OPTIMIZERS = {
    "sgd": keras.optimizers.SGD,
    "rmsprop": keras.optimizers.RMSprop,
    "adagrad": keras.optimizers.Adagrad,
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
}


def build_schedule(config, steps_per_epoch, epochs):
    """Returns the learning rate or schedule that `config` describes.

    Decay lengths in the config count epochs; Keras schedules count steps,
    so they are converted with `steps_per_epoch`.

    Args:
        config: An `OptimizerConfig`.
        steps_per_epoch: Optimizer steps in one epoch.
        epochs: Epochs the run trains for (the cosine default length).

    Returns:
        A float or a `keras.optimizers.schedules.LearningRateSchedule`.

    Example:

    ```python
    lr = build_schedule(config.optimizer, steps_per_epoch=50, epochs=20)
    ```
    """
    schedule = config.schedule
    rate = config.learning_rate
    steps = max(1, int(steps_per_epoch))
    if schedule.name == "constant":
        return rate
    if schedule.name == "exponential":
        decay_epochs = schedule.decay_epochs or 1.0
        return keras.optimizers.schedules.ExponentialDecay(
            rate,
            decay_steps=max(1, round(decay_epochs * steps)),
            decay_rate=schedule.decay_rate,
            staircase=schedule.staircase,
        )
    if schedule.name == "cosine":
        warmup = round(schedule.warmup_epochs * steps)
        total = round((schedule.decay_epochs or epochs) * steps)
        if warmup:
            return keras.optimizers.schedules.CosineDecay(
                0.0,
                decay_steps=max(1, total - warmup),
                alpha=schedule.alpha,
                warmup_target=rate,
                warmup_steps=warmup,
            )
        return keras.optimizers.schedules.CosineDecay(
            rate, decay_steps=max(1, total), alpha=schedule.alpha
        )
    boundaries = [round(epoch * steps) for epoch in schedule.boundaries]
    values = [rate * schedule.factor**i for i in range(len(boundaries) + 1)]
    return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)


def build_optimizer(config, steps_per_epoch=1, epochs=1):
    """Returns the Keras optimizer that `config` describes.

    Args:
        config: An `OptimizerConfig`.
        steps_per_epoch: Optimizer steps in one epoch. Defaults to `1`.
        epochs: Epochs the run trains for. Defaults to `1`.

    Returns:
        A `keras.optimizers.Optimizer`.

    Example:

    ```python
    optimizer = build_optimizer(config.optimizer, steps_per_epoch=50, epochs=20)
    ```
    """
    options = {
        "learning_rate": build_schedule(config, steps_per_epoch, epochs),
        "clipnorm": config.clipnorm,
    }
    if config.weight_decay is not None:
        options["weight_decay"] = config.weight_decay
    if config.name in ("sgd", "rmsprop"):
        options["momentum"] = config.momentum
    if config.name == "sgd":
        options["nesterov"] = config.nesterov
    return _OPTIMIZERS[config.name](**options)
