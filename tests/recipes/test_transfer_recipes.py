"""vgg16_bottleneck, vgg16_fine_tune and transfer_digits, on tiny inputs offline."""

import json
import os
import shutil

import keras
import numpy as np
import pytest
from conftest import run_cli

import keras_recipes
from keras_recipes.api import load_config, load_run
from keras_recipes.data.image_folder import load_images
from keras_recipes.data.multi_crop import crop_load_size
from keras_recipes.errors import ConfigError
from keras_recipes.precision import dtype_policy, resolve_mixed_precision
from keras_recipes.recipes import TransferDigits, VGG16Bottleneck, VGG16FineTune
from keras_recipes.recipes.vgg16_bottleneck.config import APPLICATION_NAMES
from keras_recipes.recipes.vgg16_bottleneck.data import load_splits
from keras_recipes.seeding import set_seed

# VGG16 with random weights on 32x32 copies of the digits: the real code path,
# small enough for a laptop.
VGG_TINY = {
    "base.weights": None,
    "data.image_size": [32, 32],
    "train.epochs": 2,
    "train.batch_size": 8,
    "train.verbose": 0,
    "callbacks.tensorboard.enabled": False,
    "callbacks.backup_and_restore.enabled": False,
}


def _tiny_base(path, seed=0):
    """A tiny conv base for 8x8 grayscale images, saved as a model file."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Rescaling(1 / 255, name="rescale")(inputs)
    x = keras.layers.Conv2D(
        8, 3, padding="same", activation="relu", name="block1_conv"
    )(x)
    x = keras.layers.MaxPooling2D(name="block1_pool")(x)
    x = keras.layers.Conv2D(
        8, 3, padding="same", activation="relu", name="block2_conv"
    )(x)
    x = keras.layers.MaxPooling2D(name="block2_pool")(x)
    keras.Model(inputs, x, name="tiny_base").save(path)
    return path


FILE_BASE = {
    "data.image_size": [8, 8],
    "data.color_mode": "grayscale",
    "base.weights": "saved",
    "train.epochs": 2,
    "train.batch_size": 8,
    "train.verbose": 0,
    "callbacks.tensorboard.enabled": False,
    "callbacks.backup_and_restore.enabled": False,
    "evaluation.ten_crop": True,
    "evaluation.flip": False,
}


@pytest.fixture(scope="module")
def small_folder(digits_folder, tmp_path_factory):
    """Three digit classes: 6 training, 3 validation and 3 test images each."""
    root = tmp_path_factory.mktemp("three_digits")
    counts = {"train": 6, "validation": 3, "test": 3}
    for split, count in counts.items():
        for label in ("0", "1", "2"):
            target = root / split / label
            target.mkdir(parents=True)
            for path in sorted((digits_folder / split / label).glob("*.png"))[:count]:
                shutil.copy2(path, target / path.name)
    return root


def _folder(root):
    return {"data.directory": str(root)}


class RecordingBottleneck(VGG16Bottleneck):
    """Keeps what `build_data` returned, for the tests to look at."""

    def build_data(self):
        self.built_data = super().build_data()
        return self.built_data


@pytest.fixture(scope="module")
def bottleneck_runs(small_folder, tmp_path_factory):
    """The same bottleneck config run twice: extraction, then the cache."""
    runs = tmp_path_factory.mktemp("runs")
    # float32: a test recomputes the features eagerly, in float32.
    overrides = {
        **VGG_TINY,
        **_folder(small_folder),
        "train.mixed_precision": "float32",
    }
    config = load_config("vgg16_bottleneck", overrides)
    first = RecordingBottleneck(config, runs_root=runs)
    first_result = first.run()
    second = RecordingBottleneck(config, runs_root=runs)
    second_result = second.run()
    return runs, (first, first_result), (second, second_result)


def test_second_run_reads_the_cache(bottleneck_runs):
    runs, (first, first_result), (second, second_result) = bottleneck_runs
    assert first_result.metrics["feature_cache_misses"] == 3
    assert second_result.metrics["feature_cache_misses"] == 0
    assert second_result.metrics["feature_cache_hits"] == 3
    ratio = (
        second_result.timings["feature_extraction_seconds"]
        / first_result.timings["feature_extraction_seconds"]
    )
    assert ratio < 0.05, ratio
    for split in ("train", "validation", "test"):
        np.testing.assert_array_equal(
            first.built_data.features[split], second.built_data.features[split]
        )
    # The same features and seed train the same top.
    assert (
        second_result.metrics["test_accuracy"] == first_result.metrics["test_accuracy"]
    )
    assert len(list((runs / "feature_cache").glob("*.npz"))) == 3
    assert not list((runs / "feature_cache").glob(".*"))  # no partial files


def test_features_are_the_frozen_bases_output(bottleneck_runs):
    _, (recipe, result), _ = bottleneck_runs
    model = keras.saving.load_model(result.run_dir / "model.keras")
    base = model.get_layer("vgg16")
    images = np.stack(
        [x.numpy() for x, _ in recipe.built_data.images["test"].dataset((32, 32), 3)]
    )
    # preprocess_input works in place on NumPy arrays: give it a copy.
    expected = base(keras.applications.vgg16.preprocess_input(images.copy())).numpy()
    np.testing.assert_allclose(
        recipe.built_data.features["test"], expected, rtol=1e-4, atol=1e-4
    )
    # The exported classifier and the top agree on the test images.
    top = keras.saving.load_model(result.run_dir / "top.keras")
    np.testing.assert_allclose(
        model.predict(images, verbose=0),
        top.predict(expected, verbose=0),
        rtol=1e-3,
        atol=1e-5,
    )


def _misses(settings, runs_root):
    """Builds a bottleneck run's data (the extraction step) and counts misses."""
    recipe = VGG16Bottleneck(
        load_config("vgg16_bottleneck", settings), runs_root=runs_root
    )
    set_seed(recipe.config.seed)
    # As `Recipe.run` does: the data are built under the configured policy.
    recipe.dtype_policy = resolve_mixed_precision(recipe.config.train.mixed_precision)
    with dtype_policy(recipe.dtype_policy):
        return recipe.build_data().cache_misses


def test_image_size_change_forces_re_extraction(bottleneck_runs, small_folder):
    runs, _, _ = bottleneck_runs
    overrides = {
        **VGG_TINY,
        **_folder(small_folder),
        "train.mixed_precision": "float32",
    }
    assert _misses(overrides, runs) == 0
    # bfloat16 features are other numbers: they get their own cache files.
    bfloat16 = {**overrides, "train.mixed_precision": "mixed_bfloat16"}
    assert _misses(bfloat16, runs) == 3
    assert _misses(bfloat16, runs) == 0
    assert _misses({**overrides, "data.image_size": [40, 40]}, runs) == 3
    assert len(list((runs / "feature_cache").glob("*.npz"))) == 9
    assert _misses({**overrides, "base.cut_layer": "block4_pool"}, runs) == 3
    # The approach for few images unlike ImageNet cuts there too: same key.
    assert _misses({**overrides, "approach": "small_different"}, runs) == 0
    assert _misses({**overrides, "base.preprocessing": "none"}, runs) == 3


def test_data_file_change_forces_re_extraction(small_folder, tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(small_folder, folder)
    base_file = _tiny_base(tmp_path / "tiny_base.keras")
    stat = {**FILE_BASE, **_folder(folder), "base.name": str(base_file)}
    content = {**stat, "cache.fingerprint": "content"}
    assert _misses(stat, tmp_path) == 3 and _misses(content, tmp_path) == 3
    assert _misses(stat, tmp_path) == 0
    # Touch a test image: its time changes, its bytes do not.
    test_image = sorted((folder / "test" / "1").glob("*.png"))[0]
    os.utime(test_image, ns=(0, 10**18))
    assert _misses(stat, tmp_path) == 1  # the test split again
    assert _misses(content, tmp_path) == 0  # same bytes: the content key holds
    # Replace a training image by another one: new bytes.
    train_image = sorted((folder / "train" / "2").glob("*.png"))[0]
    shutil.copyfile(sorted((folder / "train" / "0").glob("*.png"))[0], train_image)
    assert _misses(content, tmp_path) == 1
    assert _misses(stat, tmp_path) == 1
    # A retrained base file (new weights, same path) is a new key too.
    _tiny_base(base_file, seed=1)
    assert _misses(stat, tmp_path) == 3


def test_fine_tune_trains_block5_and_the_top_at_the_configured_rate(
    bottleneck_runs, small_folder, tmp_path
):
    _, (_, bottleneck), _ = bottleneck_runs
    overrides = {
        **VGG_TINY,
        **_folder(small_folder),
        "fine_tune.top_run": str(bottleneck.run_dir),
        "optimizer.learning_rate": 3e-4,
    }
    recipe = VGG16FineTune(load_config("vgg16_fine_tune", overrides))
    data = recipe.build_data()
    model = recipe.build_model(data)
    recipe.compile(model, data)
    base, top = model.get_layer("vgg16"), model.get_layer("top")
    block5 = [
        w
        for layer in base.layers
        if layer.name.startswith("block5")
        for w in layer.weights
    ]
    expected = block5 + top.weights
    assert len(block5) == 6 and len(top.weights) == 4
    assert {id(w) for w in model.trainable_weights} == {id(w) for w in expected}
    sizes = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert sizes == 3 * (3 * 3 * 512 * 512 + 512) + (512 * 256 + 256) + (256 * 3 + 3)
    optimizer = model.optimizer
    assert isinstance(optimizer, keras.optimizers.SGD)
    assert float(optimizer.learning_rate) == pytest.approx(3e-4)
    assert float(optimizer.momentum) == pytest.approx(0.9)
    # It starts from the bottleneck run's trained top.
    trained = keras.saving.load_model(bottleneck.run_dir / "top.keras")
    for ours, theirs in zip(top.get_weights(), trained.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_fine_tune_default_learning_rate_is_sgd_1e4():
    config = load_config("vgg16_fine_tune")
    assert (config.optimizer.name, config.optimizer.learning_rate) == ("sgd", 1e-4)
    assert config.optimizer.momentum == 0.9
    assert VGG16FineTune.config_class().optimizer.learning_rate == 1e-4


def test_config_knows_the_applications_of_the_weights_module():
    from keras_recipes.weights import application_names

    assert list(APPLICATION_NAMES) == application_names()


def test_offline_imagenet_stops_before_any_work(tmp_path):
    env = dict(os.environ, KERAS_HOME=str(tmp_path / "keras"))
    # An unreachable proxy makes the download fail here even with internet.
    env.update(HTTPS_PROXY="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9")
    previous = dict(os.environ)
    os.environ.update(env)
    try:
        result = run_cli("run", "vgg16_bottleneck", cwd=tmp_path, timeout=300)
    finally:
        os.environ.clear()
        os.environ.update(previous)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    line = lines[0]
    assert line.startswith("error: cannot download the ImageNet weights of VGG16")
    assert "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in line
    assert str(tmp_path / "keras" / "models") in line and "base.weights" in line
    # The shipped config's data folder does not exist here: the weights were
    # checked first, and no run directory was made.
    assert not (tmp_path / "runs").exists()


def _five_crop_accuracy(model, split):
    load = crop_load_size((8, 8), 0.875)
    images = np.stack([x.numpy() for x, _ in split.dataset(load, 1)])
    offsets = [(0, 0), (0, 1), (1, 0), (1, 1), (0, 0)]  # 9x9 -> 8x8; centre 0,0
    crops = [images[:, i : i + 8, j : j + 8] for i, j in offsets]
    probabilities = np.mean([model.predict(c, verbose=0) for c in crops], axis=0)
    return float(np.mean(probabilities.argmax(-1) == split.labels))


def test_ten_crop_evaluation_option(small_folder, tmp_path):
    base_file = _tiny_base(tmp_path / "tiny_base.keras")
    overrides = {**FILE_BASE, **_folder(small_folder), "base.name": str(base_file)}
    bottleneck = VGG16Bottleneck(
        load_config("vgg16_bottleneck", overrides), runs_root=tmp_path
    )
    result = bottleneck.run()
    model = keras.saving.load_model(result.run_dir / "model.keras")
    expected = _five_crop_accuracy(model, load_splits(bottleneck.config)[0]["test"])
    assert result.metrics["test_accuracy_ten_crop"] == pytest.approx(expected)
    assert result.metrics["feature_cache_misses"] == 4  # 3 splits + test crops
    again = keras_recipes.run("vgg16_bottleneck", overrides, runs_root=tmp_path)
    assert again.metrics["feature_cache_hits"] == 4
    fine_tune = VGG16FineTune(
        load_config("vgg16_fine_tune", {**overrides, "fine_tune.top_epochs": 2}),
        runs_root=tmp_path,
    )
    tuned = fine_tune.run()
    model = keras.saving.load_model(tuned.run_dir / "model.keras")
    expected = _five_crop_accuracy(model, load_splits(fine_tune.config)[0]["test"])
    assert tuned.metrics["test_accuracy_ten_crop"] == pytest.approx(expected)
    figures = sorted(p.name for p in (tuned.run_dir / "figures").glob("*.png"))
    assert figures == [
        "augmentation_preview.png",
        "confusion_matrix.png",
        "top_training_curves.png",
        "training_curves.png",
    ]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"base.name": "VGG16", "data.color_mode": "grayscale"}, "data.color_mode=rgb"),
        ({"base.name": "VGG16", "base.cut_layer": "block4_pol"}, "block4_pool"),
        ({"base.name": "VGG16", "data.image_size": [16, 16]}, "data.image_size"),
        ({"base.name": "x.keras", "base.weights": "imagenet"}, "base.weights=saved"),
        ({"base.name": "VGG16", "base.weights": "saved"}, "model file"),
        ({"approach": "tiny_similar"}, "approach"),
        ({"cache.fingerprint": "fast"}, "stat | content"),
    ],
)
def test_config_mistakes_stop_with_one_line(overrides, message, small_folder, tmp_path):
    settings = {**VGG_TINY, **_folder(small_folder), **overrides}
    with pytest.raises(ConfigError, match=message.replace("|", r"\|")) as error:
        keras_recipes.run("vgg16_bottleneck", settings, runs_root=tmp_path)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "vgg16_bottleneck").exists()


def test_top_run_of_another_base_is_refused(bottleneck_runs, small_folder, tmp_path):
    _, (_, bottleneck), _ = bottleneck_runs
    base_file = _tiny_base(tmp_path / "tiny_base.keras")
    overrides = {
        **FILE_BASE,
        **_folder(small_folder),
        "base.name": str(base_file),
        "fine_tune.top_run": str(bottleneck.run_dir),
    }
    with pytest.raises(ConfigError, match="use the same base"):
        keras_recipes.run("vgg16_fine_tune", overrides, runs_root=tmp_path)


def test_evaluate_and_predict_with_a_finished_run(bottleneck_runs, small_folder):
    _, (_, result), _ = bottleneck_runs
    recipe, model = load_run(result.run_dir)
    recipe.runs_root = result.run_dir.parents[1]  # the run's feature cache
    set_seed(recipe.config.seed)  # as `evaluate` does: the same random base
    scores = recipe.evaluate(model, recipe.build_data()).metrics
    assert scores["feature_cache_hits"] == 3
    assert scores["test_accuracy"] == pytest.approx(result.metrics["test_accuracy"])
    # model.keras (preprocessing layer, VGG16, top) loads in a fresh process.
    files = sorted((small_folder / "test" / "2").glob("*.png"))[:2]
    printed = run_cli("predict", result.run_dir, *files)
    assert printed.returncode == 0, printed.stderr
    expected = model.predict(load_images(files, (32, 32), 3), verbose=0)
    lines = printed.stdout.strip().splitlines()
    for line, path, row in zip(lines, files, expected, strict=True):
        name, rest = line.rsplit(": ", 1)
        label, probability = rest.split()
        assert name == str(path) and label == str(row.argmax())
        assert float(probability.strip("()")) == pytest.approx(row.max(), abs=1e-3)


QUICK_TRANSFER = {
    "glyphs.samples_per_class": 10,
    "data.draws": 1,
    "train.epochs": 2,
    "train.verbose": 0,
    "model.filters": [8, 16],
    "model.units": 32,
    "stages.epochs": 3,
    "stages.patience": 2,
    "callbacks.tensorboard.enabled": False,
}


def test_transfer_digits_compares_the_three_stages_fairly(tmp_path):
    from keras_recipes.run_files import read_history

    recipe = TransferDigits(
        load_config("transfer_digits", QUICK_TRANSFER), runs_root=tmp_path
    )
    result = recipe.run()
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    for stage in ("scratch", "bottleneck", "fine_tune"):
        folder = result.run_dir / "draw_1" / stage
        stage_metrics = json.loads((folder / "metrics.json").read_text())
        assert metrics[f"{stage}_accuracy"] == stage_metrics["test_accuracy"]
        assert metrics[f"{stage}_accuracy_per_draw"] == [stage_metrics["test_accuracy"]]
    assert (metrics["train_images"], metrics["test_images"]) == (30, 360)
    # The stages ran on the base the pretraining part saved.
    pretraining = result.run_dir / "pretraining"
    glyph_metrics = json.loads((pretraining / "metrics.json").read_text())
    assert metrics["glyph_val_accuracy"] == glyph_metrics["val_accuracy"]
    assert result.history == read_history(pretraining / "history.csv")
    configs = {
        stage: load_config(result.run_dir / "draw_1" / stage / "config.yaml")
        for stage in ("scratch", "bottleneck", "fine_tune")
    }
    base_file = str(pretraining / "pretrained_base.keras")
    assert configs["bottleneck"].base.name == configs["fine_tune"].base.name
    assert configs["fine_tune"].base.name == base_file
    splits = {stage: load_splits(config)[0] for stage, config in configs.items()}
    for name in ("train", "validation", "test"):
        for stage in ("bottleneck", "fine_tune"):
            np.testing.assert_array_equal(
                splits[stage][name].arrays, splits["scratch"][name].arrays
            )
    scratch, tuned = configs["scratch"], configs["fine_tune"]
    assert scratch.data == tuned.data and scratch.train == tuned.train
    assert scratch.callbacks == tuned.callbacks and scratch.model == tuned.model
    assert scratch.base.weights is None and tuned.base.weights == "saved"
    assert scratch.fine_tune.trainable_from == 0
    assert not scratch.fine_tune.train_top_first and scratch.fine_tune.top_run is None
    models = {
        stage: keras.saving.load_model(
            result.run_dir / "draw_1" / stage / "model.keras"
        )
        for stage in ("scratch", "fine_tune")
    }
    assert models["scratch"].count_params() == models["fine_tune"].count_params()
    figures = sorted(p.name for p in (result.run_dir / "figures").glob("*.png"))
    assert figures == ["labelled_digits.png", "transfer_accuracy.png"]
    figures = sorted(p.name for p in (pretraining / "figures").glob("*.png"))
    assert figures == ["glyphs.png", "training_curves.png"]


def test_transfer_digits_resumes_without_pretraining_again(tmp_path):
    overrides = {**QUICK_TRANSFER, "stages.epochs": 2}
    first = keras_recipes.run("transfer_digits", overrides, runs_root=tmp_path)
    pretraining = first.run_dir / "pretraining"
    trained = (pretraining / "model.keras").stat().st_mtime_ns
    # Interrupted during the stages: no metrics.json, one stage half done.
    (first.run_dir / "metrics.json").unlink()
    shutil.rmtree(first.run_dir / "figures")
    (first.run_dir / "draw_1" / "scratch" / "metrics.json").unlink()
    second = keras_recipes.run(
        "transfer_digits", run_dir=first.run_dir, resume=True, runs_root=tmp_path
    )
    assert (pretraining / "model.keras").stat().st_mtime_ns == trained
    assert second.metrics == first.metrics
    assert second.history == first.history


def test_transfer_digits_checks_the_glyph_split():
    from keras_recipes.config import resolve
    from keras_recipes.recipes.transfer_digits.config import GlyphPretrainingConfig

    with pytest.raises(ConfigError, match="fewer than the 52 letters"):
        overrides = {**QUICK_TRANSFER, "glyphs.samples_per_class": 2}
        load_config("transfer_digits", overrides)
    # The pretraining part checks its own keys, and any split it is given.
    with pytest.raises(ConfigError, match="raise data.samples_per_class"):
        resolve(GlyphPretrainingConfig, overrides={"data.samples_per_class": 2})
    with pytest.raises(ConfigError, match="validation_split=0.005 holds out 26"):
        resolve(GlyphPretrainingConfig, overrides={"train.validation_split": 0.005})


@pytest.mark.slow
def test_shipped_transfer_digits_beats_scratch(tmp_path):
    # In float32, as the README's figures: under bfloat16 the margins shrink.
    result = keras_recipes.run(
        "transfer_digits",
        {"train.verbose": 0, "train.mixed_precision": "float32"},
        runs_root=tmp_path,
    )
    metrics = result.metrics
    assert metrics["bottleneck_accuracy"] > metrics["scratch_accuracy"] + 0.02
    assert metrics["fine_tune_accuracy"] > metrics["scratch_accuracy"] + 0.02
