"""The one-resampling augmentation layer and its parallel, seeded tf.data map."""

import math

import keras
import numpy as np
import pytest
import scipy.ndimage
import tensorflow as tf

from keras_recipes.data import (
    AugmentationConfig,
    RandomImageAugmentation,
    augment_batches,
    build_augmentation,
    load_digits,
)
from keras_recipes.epoch_seeding import make_epoch_variable
from keras_recipes.errors import ConfigError

SEED = tf.constant([3, 4], tf.int64)


@pytest.fixture(scope="module")
def digits():
    (x, _), _, _ = load_digits()
    return tf.image.resize(x[:16], (16, 16)).numpy()


@pytest.fixture(scope="module")
def photos():
    rng = np.random.default_rng(0)
    smooth = scipy.ndimage.gaussian_filter(rng.uniform(0, 255, (6, 12, 12, 3)), 1.5)
    return np.clip((smooth - smooth.mean()) * 4 + 128, 0, 255).astype("float32")


def as_3x3(transforms):
    """`[n, 8]` transforms as `[n, 3, 3]` affine matrices."""
    transforms = np.asarray(transforms, dtype="float64")
    return np.concatenate([transforms, np.ones((len(transforms), 1))], 1).reshape(
        -1, 3, 3
    )


def geometric_seed(seed):
    return tf.random.experimental.stateless_split(seed, 2)[0]


def test_one_resampling_matches_scipy_affine_transform(digits):
    augment = RandomImageAugmentation(
        flip="horizontal",
        rotation=0.05,
        zoom=0.2,
        translation=0.1,
        shear=0.2,
        crop=0.1,
    )
    out = augment(digits, training=True, seed=SEED).numpy()[..., 0]
    matrices = as_3x3(augment.transform_matrices(16, 16, 16, geometric_seed(SEED)))
    rows, columns = np.mgrid[0:16, 0:16]
    compared = 0
    for image, result, m in zip(digits[..., 0], out, matrices, strict=True):
        # scipy maps (row, column) output indices to input ones.
        linear = np.array([[m[1, 1], m[1, 0]], [m[0, 1], m[0, 0]]])
        reference = scipy.ndimage.affine_transform(
            image, linear, (m[1, 2], m[0, 2]), order=1, mode="constant"
        )
        source_x = m[0, 0] * columns + m[0, 1] * rows + m[0, 2]
        source_y = m[1, 0] * columns + m[1, 1] * rows + m[1, 2]
        inside = (source_x > 0) & (source_x < 15) & (source_y > 0) & (source_y < 15)
        np.testing.assert_allclose(result[inside], reference[inside], atol=1e-3)
        compared += inside.sum()
    assert compared > 0.8 * out.size
    assert not np.allclose(out, digits[..., 0])


def test_each_transform_matches_its_definition():
    def matrices(**settings):
        layer = RandomImageAugmentation(**settings)
        return as_3x3(layer.transform_matrices(400, 20, 30, SEED))

    centre = np.array([14.5, 9.5, 1.0])
    # Flips, rotations, zooms and shears keep the centre where it is.
    for settings in ({"flip": "horizontal"}, {"rotation": 0.1}, {"zoom": 0.3}):
        np.testing.assert_allclose(
            matrices(**settings) @ centre, centre[None].repeat(400, 0), atol=1e-4
        )
    flips = matrices(flip="horizontal_and_vertical")
    signs = np.stack([flips[:, 0, 0], flips[:, 1, 1]], 1)
    assert set(np.unique(signs)) == {-1.0, 1.0}
    assert 0.4 < (signs == -1).mean() < 0.6
    np.testing.assert_allclose(flips[:, 0, 2], np.where(signs[:, 0] < 0, 29, 0))
    rotations = matrices(rotation=0.1)
    angles = np.arctan2(rotations[:, 1, 0], rotations[:, 0, 0])
    assert np.abs(angles).max() <= 0.1 * 2 * math.pi + 1e-6
    assert np.abs(angles).max() > 0.9 * 0.1 * 2 * math.pi
    np.testing.assert_allclose(rotations[:, 0, 0], rotations[:, 1, 1], atol=1e-6)
    zooms = matrices(zoom=0.3)
    np.testing.assert_allclose(zooms[:, 0, 0], zooms[:, 1, 1])
    assert 0.7 <= zooms[:, 0, 0].min() < 0.75 and 1.25 < zooms[:, 0, 0].max() <= 1.3
    shifts = matrices(translation=0.2)
    np.testing.assert_allclose(shifts[:, :2, :2], np.eye(2)[None].repeat(400, 0))
    assert np.abs(shifts[:, 0, 2]).max() <= 0.2 * 30 + 1e-4
    assert np.abs(shifts[:, 1, 2]).max() <= 0.2 * 20 + 1e-4
    assert np.abs(shifts[:, 0, 2]).max() > 0.9 * 0.2 * 30
    crops = matrices(crop=0.25)
    # A crop keeps three quarters of each side and stays inside the image.
    np.testing.assert_allclose(crops[:, 0, 0], 0.75)
    corners = np.array([[-0.5, -0.5, 1.0], [29.5, 19.5, 1.0]])
    mapped = crops @ corners.T
    assert mapped[:, 0].min() >= -0.5 - 1e-4 and mapped[:, 0].max() <= 29.5 + 1e-4
    assert mapped[:, 1].min() >= -0.5 - 1e-4 and mapped[:, 1].max() <= 19.5 + 1e-4


def test_composition_is_the_product_of_the_steps():
    settings = {"flip": "horizontal", "rotation": 0.05, "zoom": 0.2}
    settings.update(translation=0.1, shear=0.1, crop=0.2)  # the order applied
    full = as_3x3(
        RandomImageAugmentation(**settings).transform_matrices(50, 16, 24, SEED)
    )
    product = np.eye(3)[None].repeat(50, 0)
    for name, value in settings.items():
        # One transform at a time draws from the same columns of the same draw.
        step = as_3x3(
            RandomImageAugmentation(**{name: value}).transform_matrices(
                50, 16, 24, SEED
            )
        )
        product = product @ step
    np.testing.assert_allclose(full, product, atol=1e-4)


def test_flip_moves_whole_pixels(digits):
    flipped = RandomImageAugmentation(flip="horizontal")(digits, seed=SEED).numpy()
    mirrored = digits[:, :, ::-1]
    same = np.all(flipped == digits, axis=(1, 2, 3))
    mirror = np.all(flipped == mirrored, axis=(1, 2, 3))
    assert np.all(same | mirror) and same.any() and mirror.any()


def test_a_pure_function_of_the_seed(digits):
    augment = RandomImageAugmentation(rotation=0.1, zoom=0.1, contrast=0.3)
    first = augment(digits, seed=SEED).numpy()
    np.testing.assert_array_equal(first, augment(digits, seed=SEED).numpy())
    other = augment(digits, seed=tf.constant([3, 5], tf.int64)).numpy()
    assert np.abs(first - other).mean() > 1.0
    np.testing.assert_array_equal(augment(digits, training=False), digits)
    # Without a seed it draws from its own generator, a new draw each call.
    assert np.abs(augment(digits).numpy() - augment(digits).numpy()).mean() > 1.0


def test_colour_jitter(photos):
    brighter = RandomImageAugmentation(brightness=0.1)(photos, seed=SEED).numpy()
    inside = (photos > 30) & (photos < 225)  # not clipped by a 25.5 shift
    shift = np.where(inside, brighter - photos, np.nan)
    per_image = np.nanmean(shift, axis=(1, 2, 3))
    np.testing.assert_allclose(
        shift, per_image[:, None, None, None] + 0 * shift, atol=1e-3
    )
    assert np.abs(per_image).max() <= 25.5 + 1e-3 and np.ptp(per_image) > 1

    contrast = RandomImageAugmentation(contrast=0.5)(photos, seed=SEED).numpy()
    spread = contrast.std(axis=(1, 2)) / photos.std(axis=(1, 2))
    assert 0.5 - 1e-3 <= spread.min() and spread.max() <= 1.5 + 1e-3
    assert contrast.min() >= 0 and contrast.max() <= 255

    def hsv(images):
        return tf.image.rgb_to_hsv(images / 255).numpy()

    hue = RandomImageAugmentation(hue=0.2)(photos, seed=SEED).numpy()
    np.testing.assert_allclose(hsv(hue)[..., 1:], hsv(photos)[..., 1:], atol=2e-3)
    turned = (hsv(hue)[..., 0] - hsv(photos)[..., 0]) % 1
    turned = np.minimum(turned, 1 - turned)
    assert 0.01 < turned.max() <= 0.2 + 1e-3

    saturation = RandomImageAugmentation(saturation=0.5)(photos, seed=SEED).numpy()
    np.testing.assert_allclose(hsv(saturation)[..., 2], hsv(photos)[..., 2], atol=2e-3)
    ratio = hsv(saturation)[..., 1].mean((1, 2)) / hsv(photos)[..., 1].mean((1, 2))
    assert (
        0.5 - 1e-3 <= ratio.min() and ratio.max() <= 1.5 + 1e-3 and np.ptp(ratio) > 0.05
    )


def test_config_round_trip_and_saving(digits, tmp_path):
    augment = RandomImageAugmentation(flip="vertical", shear=0.2, hue=0.0, seed=7)
    again = RandomImageAugmentation.from_config(augment.get_config())
    np.testing.assert_array_equal(augment(digits, seed=SEED), again(digits, seed=SEED))
    model = keras.Sequential([keras.Input((16, 16, 1)), augment])
    model.save(tmp_path / "augment.keras")
    loaded = keras.saving.load_model(tmp_path / "augment.keras")
    assert isinstance(loaded.layers[0], RandomImageAugmentation)
    assert loaded.layers[0].get_config() == augment.get_config()


def test_rejects_out_of_range_settings():
    with pytest.raises(ValueError, match="rotation must be in"):
        RandomImageAugmentation(rotation=1.5)
    with pytest.raises(ValueError, match="Received: flip='diagonal'"):
        RandomImageAugmentation(flip="diagonal")


def test_build_augmentation_from_config():
    assert build_augmentation(AugmentationConfig(), (8, 8), 1) is None
    assert (
        build_augmentation(AugmentationConfig(rotation=0.1, enabled=False), (8, 8), 1)
        is None
    )
    layer = build_augmentation(
        AugmentationConfig(zoom=0.1, fill_mode="reflect"), (8, 8), 1
    )
    assert (layer.zoom, layer.fill_mode, layer.rotation) == (0.1, "reflect", 0.0)
    with pytest.raises(ConfigError, match="need RGB images"):
        build_augmentation(AugmentationConfig(hue=0.1), (8, 8), 1)


def test_augment_batches_same_epoch_same_images(digits):
    epoch = make_epoch_variable()
    augment = RandomImageAugmentation(rotation=0.1, translation=0.1)
    labels = np.arange(len(digits))
    batches = tf.data.Dataset.from_tensor_slices((digits, labels)).batch(4)
    augmented = augment_batches(batches, augment, seed=42, epoch=epoch)
    assert augmented.cardinality() == 4

    def epoch_images():
        pairs = list(augmented.as_numpy_iterator())
        np.testing.assert_array_equal(np.concatenate([y for _, y in pairs]), labels)
        return np.concatenate([x for x, _ in pairs])

    first = epoch_images()
    np.testing.assert_array_equal(first, epoch_images())
    # The same images in two batches get different transforms.
    twice = augment_batches(
        tf.data.Dataset.from_tensor_slices(
            (np.concatenate([digits[:4]] * 2), labels[:8])
        ).batch(4),
        augment,
        seed=42,
        epoch=epoch,
    )
    halves = [x for x, _ in twice.as_numpy_iterator()]
    assert np.abs(halves[0] - halves[1]).mean() > 1.0
    epoch.assign(1)
    assert np.abs(epoch_images() - first).mean() > 1.0
    epoch.assign(0)
    np.testing.assert_array_equal(epoch_images(), first)
    other_seed = augment_batches(batches, augment, seed=43, epoch=epoch)
    assert (
        np.abs(
            np.concatenate([x for x, _ in other_seed.as_numpy_iterator()]) - first
        ).mean()
        > 1.0
    )


def test_images_of_unknown_size_in_a_graph(digits):
    augment = RandomImageAugmentation(rotation=0.1, translation=0.1)
    traced = tf.function(
        lambda images: augment(images, seed=SEED),
        input_signature=[tf.TensorSpec([None, None, None, 1])],
    )
    np.testing.assert_allclose(traced(digits), augment(digits, seed=SEED), atol=1e-3)
