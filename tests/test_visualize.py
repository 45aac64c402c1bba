import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import run_cli

import keras_recipes
from keras_recipes.errors import UserError
from keras_recipes.models.classifier import small_cnn
from keras_recipes.visualize import (
    layer_activations,
    plot_filters,
    receptive_field,
    top_patches,
    visualize_run,
)


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A short run of the digits classifier with its shipped layer stack."""
    root = tmp_path_factory.mktemp("digits_runs")
    result = keras_recipes.run(
        "small_data_classifier",
        # float32: the tests recompute activations exactly, in float32.
        {"train.epochs": 3, "train.verbose": 0, "train.mixed_precision": "float32"},
        runs_root=root,
    )
    return result.run_dir


def field_size_from_the_stack(model, layer_name):
    """Receptive field side by the textbook recursion r += (k - 1) * j."""
    size, jump = 1, 1
    for layer in model.layers:
        config = layer.get_config()
        kernel = config.get("kernel_size") or config.get("pool_size")
        if kernel is not None:
            size += (kernel[0] - 1) * jump
            jump *= config["strides"][0]
        if layer.name == layer_name:
            return size
    raise AssertionError(f"no layer {layer_name}")


def test_digits_first_layer_patches_have_the_receptive_field_size(digits_run):
    found = visualize_run(digits_run)
    _, model = keras_recipes.load_run(digits_run)
    first = found["block1_conv"]
    size = field_size_from_the_stack(model, "block1_conv")
    assert size == 3
    units = model.get_layer("block1_conv").filters
    assert first.patches.shape == (units, 9, size, size, 1)
    second = found["block2_conv"]
    size = field_size_from_the_stack(model, "block2_conv")
    assert size == 8  # 3x3 conv, 2x2 pool, 3x3 conv
    assert second.patches.shape[2:] == (size, size, 1)
    figures = digits_run / "figures"
    for name in ("filters_block1_conv", "top_patches_block1_conv"):
        assert (figures / f"{name}.png").stat().st_size > 10000
    assert (figures / "top_patches_block2_conv.png").is_file()


def test_first_layer_activation_is_recomputed_from_its_patch_alone(digits_run):
    recipe, model = keras_recipes.load_run(digits_run)
    images = np.concatenate([x for x, _ in recipe.build_data().test])
    found = top_patches(model, "block1_conv", images)
    kernel, bias = (w.numpy() for w in model.get_layer("block1_conv").weights)
    scale = model.get_layer("rescale").scale
    # A first-layer unit sees only its patch: conv of the patch = activation.
    recomputed = np.maximum(
        np.einsum("ukhwc,hwcu->uk", found.patches * scale, kernel) + bias[:, None], 0
    )
    np.testing.assert_allclose(recomputed, found.activations, rtol=1e-4, atol=1e-5)
    # The strongest patch of each unit is its maximum over the whole data set,
    # and the nine come from nine different images, strongest first.
    outputs = layer_activations(model, "block1_conv", images)
    np.testing.assert_allclose(found.activations[:, 0], outputs.max(axis=(0, 1, 2)))
    assert np.all(np.diff(found.activations, axis=1) <= 0)
    for row in found.image_indices:
        assert len(set(row.tolist())) == 9


def gradient_support(model, layer_name, row, column, trials=24):
    """Input pixels that can change one unit: union of nonzero gradients."""
    probe = keras.Model(model.inputs, model.get_layer(layer_name).output)
    rng = np.random.default_rng(0)
    shape = (trials, *model.input_shape[1:])
    x = tf.constant(rng.normal(size=shape).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        unit = tf.reduce_sum(probe(x)[:, row, column, :])
    gradient = np.abs(tape.gradient(unit, x).numpy()).sum(axis=(0, 3))
    return gradient > 0


def expected_window(field, row, column, height, width):
    top, left = field.window(row, column)
    mask = np.zeros((height, width), bool)
    mask[max(top, 0) : top + field.size, max(left, 0) : left + field.size] = True
    return mask


@pytest.mark.parametrize(
    "layers, layer_name, size",
    [
        (
            # The small CNN: conv 3 same, pool 2, conv 3 same.
            [
                keras.layers.Conv2D(4, 3, padding="same", name="c1"),
                keras.layers.MaxPooling2D(2),
                keras.layers.Conv2D(4, 3, padding="same", name="c2"),
            ],
            "c2",
            8,
        ),
        (
            # Strided "same" padding, dilation and "valid" padding.
            [
                keras.layers.Rescaling(0.5),
                keras.layers.Conv2D(4, 5, strides=2, padding="same"),
                keras.layers.BatchNormalization(),
                keras.layers.Conv2D(4, 3, dilation_rate=2, name="c2"),
            ],
            "c2",
            13,
        ),
    ],
)
def test_receptive_field_is_where_the_gradient_reaches(layers, layer_name, size):
    model = keras.Sequential([keras.Input((17, 17, 1)), *layers])
    field = receptive_field(model, layer_name)
    assert field.size == size
    out_height, out_width = model.get_layer(layer_name).output.shape[1:3]
    for row, column in [(0, 0), (out_height // 2, 1), (out_height - 1, out_width - 1)]:
        support = gradient_support(model, layer_name, row, column)
        np.testing.assert_array_equal(
            support, expected_window(field, row, column, 17, 17)
        )


def test_receptive_field_stops_at_layers_without_an_image_grid():
    model = small_cnn(input_shape=(8, 8, 1), num_classes=3, filters=(4,))
    assert receptive_field(model, "block1_pool").size == 4
    with pytest.raises(ValueError, match="does not map images to images"):
        receptive_field(model, "fc1")
    with pytest.raises(ValueError, match="no layer 'nope'"):
        receptive_field(model, "nope")


def test_plot_filters_rejects_a_dense_kernel(tmp_path):
    with pytest.raises(ValueError, match="kernel must be"):
        plot_filters(np.zeros((4, 3)), tmp_path / "x.png")


def test_cli_visualize(digits_run, tmp_path):
    result = run_cli("visualize", digits_run, "--layer", "block1_conv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "block1_conv: 32 units, 3x3 receptive field" in result.stdout
    with pytest.raises(UserError, match="no layer 'block9_conv'"):
        visualize_run(digits_run, ["block9_conv"])
