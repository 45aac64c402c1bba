"""The top model, cutting and freezing bases, approaches, and ten-crop."""

import keras
import numpy as np
import pytest

from keras_recipes.data.multi_crop import crop_load_size, predict_ten_crop, ten_crop
from keras_recipes.models.transfer import (
    ApplicationPreprocessing,
    block_names,
    cut_base,
    first_trainable_index,
    freeze_base,
    top_model,
    transfer_model,
)
from keras_recipes.models.transfer_approaches import (
    approach_cut_layer,
    approach_trainable_from,
)


@pytest.fixture(scope="module")
def vgg():
    return keras.applications.VGG16(
        weights=None, include_top=False, input_shape=(32, 32, 3)
    )


def _size(weights):
    return int(sum(np.prod(w.shape) for w in weights))


@pytest.mark.parametrize(
    "pooling, features", [("flatten", 4 * 4 * 8), ("avg", 8), ("max", 8)]
)
def test_top_model_weights(pooling, features):
    top = top_model((4, 4, 8), 5, pooling=pooling, units=16, dropout=0.5)
    assert [layer.name for layer in top.layers][1:] == [
        "fc1",
        "dropout",
        "predictions",
    ]
    assert top.count_params() == features * 16 + 16 + 16 * 5 + 5
    probabilities = top.predict(np.ones((2, 4, 4, 8)), verbose=0)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)


def test_top_model_rejects_bad_arguments():
    with pytest.raises(ValueError, match="pooling="):
        top_model((4, 4, 8), 2, pooling="mean")
    with pytest.raises(ValueError, match="dropout="):
        top_model((4, 4, 8), 2, dropout=1.0)
    with pytest.raises(ValueError, match="num_classes="):
        top_model((4, 4, 8), 1)


def test_cut_base_by_name(vgg):
    cut = cut_base(vgg, "block4_pool")
    assert cut.output.shape[1:] == (2, 2, 512)
    assert cut.layers[-1].name == "block4_pool"
    assert cut_base(vgg, None) is vgg
    with pytest.raises(ValueError, match="Did you mean 'block4_pool'"):
        cut_base(vgg, "block4_pol")


def test_freezing_leaves_block5_trainable(vgg):
    trainable = freeze_base(vgg, "block5")
    assert trainable == [
        "block5_conv1",
        "block5_conv2",
        "block5_conv3",
        "block5_pool",
    ]
    assert first_trainable_index(vgg, "block5") == 15
    assert first_trainable_index(vgg, "block5_conv2") == 16
    by_count = [layer.name for layer in vgg.layers[15:]]
    assert freeze_base(vgg, 15) == by_count == trainable
    block5 = [
        w
        for layer in vgg.layers
        if layer.name.startswith("block5")
        for w in layer.weights
    ]
    assert (
        _size(vgg.trainable_weights) == _size(block5) == 3 * (3 * 3 * 512 * 512 + 512)
    )
    assert freeze_base(vgg, None) == [] and not vgg.trainable_weights
    assert len(freeze_base(vgg, 0)) == len(vgg.layers)
    with pytest.raises(ValueError, match="block6"):
        freeze_base(vgg, "block6")


def test_approaches_cut_and_train_the_documented_blocks(vgg):
    assert block_names(vgg) == [f"block{i}" for i in range(1, 6)]
    assert approach_cut_layer("small_similar", vgg) is None
    assert approach_cut_layer("small_different", vgg) == "block4_pool"
    assert approach_cut_layer("small_different", vgg, "block3_pool") == "block3_pool"
    assert approach_trainable_from("small_similar", vgg) == "block5"
    assert approach_trainable_from("large_similar", vgg) == "block4"
    assert approach_trainable_from("large_different", vgg) == 0
    assert approach_trainable_from("small_similar", vgg, "block3") == "block3"
    cut = cut_base(vgg, approach_cut_layer("small_different", vgg))
    assert approach_trainable_from("small_different", cut) == "block4"
    flat = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="dense")])
    with pytest.raises(ValueError, match="name the cut layer"):
        approach_cut_layer("small_different", flat)
    with pytest.raises(ValueError, match="approach="):
        approach_cut_layer("tiny_similar", vgg)


def _bn_base():
    inputs = keras.Input((6, 6, 3))
    x = keras.layers.Conv2D(4, 3, name="block1_conv")(inputs)
    x = keras.layers.BatchNormalization(name="block1_bn")(x)
    x = keras.layers.Conv2D(4, 3, name="block2_conv")(x)
    x = keras.layers.BatchNormalization(name="block2_bn")(x)
    return keras.Model(inputs, x, name="bn_base")


def _fine_tune_bn_base(freeze_batch_norm):
    base = _bn_base()
    trainable = freeze_base(base, "block2", freeze_batch_norm=freeze_batch_norm)
    model = transfer_model(base, top_model((2, 2, 4), 2, units=4))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    moving = [np.array(w) for w in base.weights if "moving" in w.path]
    conv2 = np.array(base.get_layer("block2_conv").kernel)
    x = np.random.default_rng(0).normal(5.0, 3.0, (8, 6, 6, 3)).astype("float32")
    model.fit(x, np.arange(8) % 2, epochs=2, batch_size=4, verbose=0)
    after = [np.array(w) for w in base.weights if "moving" in w.path]
    changed = [not np.array_equal(b, a) for b, a in zip(moving, after, strict=True)]
    assert not np.allclose(conv2, base.get_layer("block2_conv").kernel)
    return trainable, base, changed


def test_batch_norm_keeps_its_statistics_while_fine_tuning():
    trainable, base, changed = _fine_tune_bn_base(freeze_batch_norm=True)
    assert trainable == ["block2_conv"]
    assert {w.path.split("/")[0] for w in base.trainable_weights} == {"block2_conv"}
    assert changed == [False] * 4  # both BN layers: moving mean and variance


def test_without_frozen_batch_norm_fit_moves_its_statistics():
    # Why freeze_base freezes BN: Keras 3's fit overrides the base's
    # training=False (keras-team/keras#20285), so a trainable BN updates.
    trainable, _, changed = _fine_tune_bn_base(freeze_batch_norm=False)
    assert trainable == ["block2_conv", "block2_bn"]
    assert changed == [False, False, True, True]  # block1 frozen, block2 moves


def test_transfer_model_preprocesses_and_round_trips(tmp_path, vgg):
    base = cut_base(vgg, "block3_pool")
    top = top_model(base.output.shape[1:], 3, units=8)
    model = transfer_model(base, top, ApplicationPreprocessing("VGG16"))
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3))
    expected = top(
        base(keras.applications.vgg16.preprocess_input(images.copy()))
    ).numpy()
    np.testing.assert_allclose(model.predict(images, verbose=0), expected, rtol=1e-4)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(
        loaded.predict(images, verbose=0), expected, rtol=1e-4, atol=1e-6
    )
    with pytest.raises(ValueError, match="the top model takes"):
        transfer_model(base, top_model((3, 3, 8), 3))


def test_ten_crop_positions_and_mirrors():
    images = np.arange(2 * 5 * 6 * 1, dtype="float32").reshape(2, 5, 6, 1)
    crops = ten_crop(images, (3, 4)).numpy()
    assert crops.shape == (2, 10, 3, 4, 1)
    np.testing.assert_array_equal(crops[:, 0], images[:, :3, :4])
    np.testing.assert_array_equal(crops[:, 3], images[:, 2:, 2:])
    np.testing.assert_array_equal(crops[:, 4], images[:, 1:4, 1:5])
    np.testing.assert_array_equal(crops[:, 5:], crops[:, :5, :, ::-1])
    assert ten_crop(images, (3, 4), flip=False).shape[1] == 5
    assert crop_load_size((224, 224)) == (256, 256)
    with pytest.raises(ValueError, match="crop_size"):
        ten_crop(images, (6, 6))


def test_predict_ten_crop_averages_the_crops():
    import tensorflow as tf

    images = np.random.default_rng(0).uniform(size=(3, 5, 5, 1)).astype("float32")
    labels = np.array([0, 1, 0])

    def predict(batch):  # probability of class 1: the crop's mean pixel
        mean = tf.reduce_mean(batch, axis=[1, 2, 3])
        return tf.stack([1 - mean, mean], axis=-1)

    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(2)
    averaged, got = predict_ten_crop(predict, dataset, (4, 4))
    crops = ten_crop(images, (4, 4)).numpy()
    expected = crops.mean(axis=(2, 3, 4)).mean(axis=1)
    np.testing.assert_allclose(averaged[:, 1], expected, rtol=1e-5)
    np.testing.assert_array_equal(got, labels)
