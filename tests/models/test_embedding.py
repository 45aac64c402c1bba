"""The embedding factory (any backbone, unit-norm output) and the Siamese net."""

import keras
import numpy as np
import pytest

from keras_recipes.data.digits import load_digits
from keras_recipes.data.pk_sampler import pk_dataset
from keras_recipes.faces import pair_distances, roc_auc, sample_pairs
from keras_recipes.losses import TripletLoss
from keras_recipes.models.embedding import (
    AbsoluteDifference,
    conv_backbone,
    embedding_model,
    siamese_model,
)


def test_embeddings_are_unit_vectors():
    model = embedding_model(input_shape=(8, 8, 1), embedding_dim=16)
    images = np.random.default_rng(0).uniform(0, 255, (5, 8, 8, 1))
    embeddings = model.predict(images, verbose=0)
    assert embeddings.shape == (5, 16)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    assert model.get_layer("l2_normalize") is not None


def test_any_backbone_is_accepted():
    # A feature map backbone is pooled; a vector backbone is used as is.
    feature_map = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3)], name="maps"
    )
    vectors = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(5)],
        name="vectors",
    )
    for backbone in (feature_map, vectors):
        model = embedding_model((8, 8, 3), embedding_dim=3, backbone=backbone)
        assert model.output_shape == (None, 3)
    application = keras.applications.MobileNetV3Small(
        input_shape=(32, 32, 3), include_top=False, weights=None
    )
    model = embedding_model((32, 32, 3), embedding_dim=8, backbone=application)
    assert model.predict(np.zeros((2, 32, 32, 3)), verbose=0).shape == (2, 8)


def test_flatten_pooling_keeps_positions():
    backbone = conv_backbone((8, 8, 1), filters=(4, 6), pooling="flatten")
    assert backbone.output_shape == (None, 4 * 4 * 6)
    assert conv_backbone((8, 8, 1), filters=(4, 6)).output_shape == (None, 6)


def test_save_and_load_round_trip(tmp_path):
    model = embedding_model((8, 8, 1), embedding_dim=4, dropout=0.1)
    images = np.random.default_rng(1).uniform(0, 255, (3, 8, 8, 1))
    path = tmp_path / "embedding.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        loaded.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6
    )


def test_triplet_training_beats_raw_pixels():
    (x, y), (x_test, y_test), _ = load_digits()
    keras.utils.set_random_seed(0)
    model = embedding_model((8, 8, 1), embedding_dim=16)
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3), loss=TripletLoss(mining="batch_all")
    )
    train = pk_dataset(x, y, 10, 8, num_batches=120, seed=0)
    model.fit(train, steps_per_epoch=20, epochs=6, verbose=0)
    first, second, same = sample_pairs(y_test, max_pairs=4000, seed=1)
    embedded = pair_distances(model.predict(x_test, verbose=0), first, second)
    pixels = pair_distances(x_test, first, second)
    assert roc_auc(embedded, same) > 0.9
    assert roc_auc(embedded, same) > roc_auc(pixels, same) + 0.03


def test_absolute_difference():
    result = AbsoluteDifference()([np.array([[1.0, 2.0]]), np.array([[3.0, 1.0]])])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(result), [[2.0, 1.0]])


def test_siamese_shares_the_encoder_and_learns_pairs(tmp_path):
    keras.utils.set_random_seed(0)
    encoder = embedding_model((8, 8, 1), embedding_dim=16)
    model = siamese_model(encoder)
    # One encoder, used twice: its weights are counted once.
    assert len(model.trainable_weights) == len(encoder.trainable_weights) + 2
    (x, y), (x_test, y_test), _ = load_digits()
    first, second, same = sample_pairs(y, max_pairs=8000, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy")
    model.fit(
        [x[first], x[second]],
        same.astype("float32"),
        batch_size=128,
        epochs=6,
        verbose=0,
    )
    first, second, same = sample_pairs(y_test, max_pairs=4000, seed=1)
    probability = model.predict([x_test[first], x_test[second]], verbose=0)[:, 0]
    assert roc_auc(-probability, same) > 0.95  # distance = -probability
    path = tmp_path / "siamese.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        loaded.predict([x_test[:4], x_test[4:8]], verbose=0),
        model.predict([x_test[:4], x_test[4:8]], verbose=0),
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "factory, kwargs",
    [
        (embedding_model, {"embedding_dim": 0}),
        (embedding_model, {"dropout": 1.0}),
        (conv_backbone, {"input_shape": (8, 8)}),
        (conv_backbone, {"filters": ()}),
        (conv_backbone, {"filters": (4, 4, 4, 4, 4)}),
        (conv_backbone, {"pooling": "max"}),
        (conv_backbone, {"convs_per_block": 0}),
        (siamese_model, {"encoder": "not a model"}),
    ],
)
def test_bad_arguments_are_refused(factory, kwargs):
    with pytest.raises(ValueError, match="Received"):
        factory(**kwargs)
