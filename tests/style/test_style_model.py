"""The generated image as a Keras model: `fit` takes `build_step`'s steps."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_recipes.run_files import read_history
from keras_recipes.seeding import set_seed
from keras_recipes.style import (
    ImageSnapshots,
    StepHistory,
    StepTimer,
    StyleTransferLoss,
    StyleTransferModel,
    build_step,
    read_snapshots,
    style_feature_extractor,
)
from keras_recipes.weights import preprocess_input

STEPS = 5


@pytest.fixture(scope="module")
def cost():
    keras.utils.set_random_seed(0)
    extractor = style_feature_extractor(
        ["block1_conv1", "block2_conv1"], backbone="VGG16", weights=None
    )
    rng = np.random.default_rng(0)
    content, style = rng.uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    return StyleTransferLoss(
        extractor,
        preprocess_input("VGG16"),
        content,
        style,
        ["block2_conv1"],
        ["block1_conv1", "block2_conv1"],
        content_weight=1e-3,
        style_weight=1e-2,
        variation_weight=1e-6,
    )


def start_image():
    return np.random.default_rng(1).uniform(0, 255, (16, 16, 3)).astype("float32")


def test_fit_takes_the_same_steps_as_build_step(cost, tmp_path):
    set_seed(0)
    image = tf.Variable(start_image()[None])
    step = build_step(cost, image, keras.optimizers.Adam(2.0))
    expected = [float(step()["loss"]) for _ in range(STEPS)]

    model = StyleTransferModel(cost, start_image())
    model.compile(optimizer=keras.optimizers.Adam(2.0))
    history = model.fit(
        tf.data.Dataset.range(STEPS),
        steps_per_epoch=STEPS,
        shuffle=False,
        callbacks=[StepHistory(tmp_path / "history.csv")],
        verbose=0,
    )

    assert [w.name for w in model.trainable_weights] == ["generated_image"]
    assert history.history["loss"] == expected
    assert read_history(tmp_path / "history.csv")["loss"] == expected
    np.testing.assert_array_equal(model.result(), image.numpy()[0])
    assert float(model(model.image)["loss"]) == pytest.approx(
        float(cost(image)["loss"]), rel=1e-6
    )


def test_snapshots_are_saved_every_few_steps_and_read_back(cost, tmp_path):
    model = StyleTransferModel(cost, start_image(), clip=True)
    model.compile(optimizer=keras.optimizers.Adam(2.0))
    timer = StepTimer()

    model.fit(
        tf.data.Dataset.range(STEPS),
        steps_per_epoch=STEPS,
        shuffle=False,
        callbacks=[ImageSnapshots(tmp_path / "figures", 2, STEPS), timer],
        verbose=0,
    )
    steps, images = read_snapshots(tmp_path / "figures")

    assert steps == [0, 2, 4, 5]
    assert images.shape == (4, 16, 16, 3)
    np.testing.assert_array_equal(images[0], np.round(start_image()))
    np.testing.assert_allclose(images[-1], model.result(), atol=0.5)
    assert timer.seconds_per_step > 0


def test_start_must_be_one_rgb_image(cost):
    with pytest.raises(ValueError, match="start.shape=\\(1, 16, 16, 3\\)"):
        StyleTransferModel(cost, start_image()[None])
