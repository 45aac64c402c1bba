import keras
import numpy as np
import pytest

from keras_recipes.config import OptimizerConfig, resolve
from keras_recipes.optimizers import build_optimizer, build_schedule


def _optimizer_config(**overrides):
    return resolve(OptimizerConfig, overrides={k: v for k, v in overrides.items()})


def _rate(schedule, step):
    if isinstance(schedule, float):
        return schedule
    return float(keras.ops.convert_to_numpy(schedule(step)))


def test_constant():
    assert build_schedule(_optimizer_config(learning_rate=0.01), 10, 5) == 0.01


def test_exponential_decays_per_epoch():
    config = _optimizer_config(
        learning_rate=0.1,
        **{"schedule.name": "exponential", "schedule.decay_rate": 0.5},
    )
    schedule = build_schedule(config, steps_per_epoch=10, epochs=5)
    assert _rate(schedule, 0) == pytest.approx(0.1)
    assert _rate(schedule, 10) == pytest.approx(0.05)
    assert _rate(schedule, 30) == pytest.approx(0.0125)


def test_cosine_reaches_alpha_at_the_last_epoch():
    config = _optimizer_config(
        learning_rate=0.2, **{"schedule.name": "cosine", "schedule.alpha": 0.1}
    )
    schedule = build_schedule(config, steps_per_epoch=4, epochs=5)
    assert _rate(schedule, 0) == pytest.approx(0.2)
    # Halfway, cosine decay is at the mean of the start and the floor.
    assert _rate(schedule, 10) == pytest.approx(0.2 * (0.1 + 0.9 * 0.5), rel=1e-5)
    assert _rate(schedule, 20) == pytest.approx(0.02, rel=1e-5)


def test_step_drops_at_epoch_boundaries():
    config = _optimizer_config(
        learning_rate=1.0,
        **{
            "schedule.name": "step",
            "schedule.boundaries": [2, 4],
            "schedule.factor": 0.1,
        },
    )
    schedule = build_schedule(config, steps_per_epoch=10, epochs=6)
    rates = [_rate(schedule, step) for step in (0, 20, 21, 40, 41)]
    np.testing.assert_allclose(rates, [1.0, 1.0, 0.1, 0.1, 0.01], rtol=1e-6)


@pytest.mark.parametrize(
    "name, cls",
    [
        ("sgd", keras.optimizers.SGD),
        ("rmsprop", keras.optimizers.RMSprop),
        ("adagrad", keras.optimizers.Adagrad),
        ("adam", keras.optimizers.Adam),
    ],
)
def test_optimizer_kinds(name, cls):
    optimizer = build_optimizer(_optimizer_config(name=name, learning_rate=0.05))
    assert isinstance(optimizer, cls)
    assert float(optimizer.learning_rate) == pytest.approx(0.05)


def test_sgd_momentum_and_nesterov():
    optimizer = build_optimizer(
        _optimizer_config(name="sgd", momentum=0.9, nesterov=True, clipnorm=1.0)
    )
    assert (
        optimizer.momentum == 0.9 and optimizer.nesterov and optimizer.clipnorm == 1.0
    )
