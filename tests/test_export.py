"""Exported files give Keras's outputs: every recipe x SavedModel, ONNX, LiteRT.

Each recipe's serving model (`Recipe.serving_model`: raw inputs in) is built
from its quick config, untrained (parity does not need training), exported,
run by its own runtime on real inputs of the recipe's embedded data, and
compared with Keras's `predict` on the same inputs. The largest differences
are relative to each output's largest value (`largest_difference`). The
int8 test trains the digits classifier briefly and compares accuracies.
"""

import numpy as np
import pytest

from keras_recipes import load_config
from keras_recipes.catalog import get_recipe
from keras_recipes.cli import main
from keras_recipes.data.diabetes import load_diabetes
from keras_recipes.data.digits import load_digits
from keras_recipes.errors import UserError
from keras_recipes.exporting import (
    export_format,
    export_path,
    largest_difference,
    load_exported,
    named_outputs,
    write_exports,
)
from keras_recipes.seeding import set_seed

SERVING_FORMATS = ("saved_model", "onnx", "litert")
# Float formats match Keras to this, relative to each output's scale.
TOLERANCE = 1e-4
IMAGES = 8

# The recipes with a model to serve; style_transfer optimises an image and
# transfer_digits runs other recipes (each of which exports itself).
RECIPES = (
    "autoencoder",
    "char_rnn",
    "deep_mlp",
    "face_triplet",
    "glyph_pretraining",
    "linear_regression",
    "logistic_regression",
    "mlp",
    "small_data_classifier",
    "vae",
    "vgg16_bottleneck",
    "vgg16_fine_tune",
    "yolo",
)
# Run with -m slow: VGG16 (15M weights) converts in 30 s a format, and
# mlp stands for the two other digit perceptrons (the same serving model).
SLOW = {"vgg16_bottleneck", "vgg16_fine_tune", "deep_mlp", "logistic_regression"}
# Overrides beyond each recipe's `quick` ones: a yolo threshold low enough
# that the untrained detector's boxes pass it and go through NMS.
# char_rnn serves windows of unrolled steps: a short window converts fast.
EXTRA = {"char_rnn": {"data.sequence_length": 8}}


def _first_batch(dataset):
    inputs = next(iter(dataset))
    inputs = inputs[0] if isinstance(inputs, tuple) else inputs
    return np.asarray(inputs)[:IMAGES]


def raw_inputs(name, recipe, data, serving):
    """Real inputs as a user has them: pixels in [0, 255], raw table rows."""
    if name in ("small_data_classifier", "vgg16_fine_tune"):
        return _first_batch(data.test)
    if name == "glyph_pretraining":
        return np.asarray(data.examples[:IMAGES], "float32")
    if name == "face_triplet":
        return data.splits["unseen"][0][:IMAGES]
    if name in ("logistic_regression", "mlp", "deep_mlp"):
        return load_digits()[1][0][:IMAGES]
    if name == "linear_regression":
        return load_diabetes()[1][0][:IMAGES]
    if name in ("autoencoder", "vae"):
        return (data.arrays.test[:IMAGES] * 255.0).astype("float32")
    if name == "char_rnn":
        return _first_batch(data.validation).astype("int32")
    if name == "vgg16_bottleneck":
        height, width, channels = serving.input_shape[1:]
        images = data.images["test"].dataset((height, width), channels)
        return _first_batch(images.batch(IMAGES))
    if name == "yolo":
        return np.asarray(data.test_images[:IMAGES], "float32")
    raise ValueError(name)


def parity_case(name, runs_root):
    """Returns `(recipe, data, model, serving, inputs)` for a recipe, untrained.

    `runs_root` takes what building the data writes (the VGG16 features'
    cache).
    """
    recipe_class = get_recipe(name)
    overrides = {**recipe_class.quick, **EXTRA.get(name, {})}
    overrides["train.mixed_precision"] = "float32"
    recipe = recipe_class(load_config(name, overrides), runs_root=runs_root)
    set_seed(recipe.config.seed)
    data = recipe.build_data()
    model = recipe.build_model(data)
    if name == "yolo":
        _spread_scores(model)
    serving = recipe.serving_model(model, data)
    inputs = raw_inputs(name, recipe, data, serving)
    return recipe, data, model, serving, inputs


def _spread_scores(detector, factor=40.0):
    """Makes an untrained detector's scores spread as a trained one's do.

    Its head starts with every objectness near the 0.01 prior, so no box
    passes the 0.6 threshold, and at a threshold below the prior a thousand
    boxes score within float32 rounding of each other, where runtimes may
    order ties differently. Larger head weights and no prior give distinct
    scores, a few above the threshold: what NMS meets after training.
    """
    head = detector.get_layer("head_output")
    kernel, bias = head.get_weights()
    head.set_weights([kernel * factor, np.zeros_like(bias)])


def measure_parity(serving, inputs, folder, formats=SERVING_FORMATS):
    """Exports `serving` to each format; returns the largest difference of each."""
    expected = named_outputs(serving.predict(inputs, verbose=0))
    found = {}
    for format in formats:
        path = export_path(folder, format)
        export_format(serving, path, format)
        found[format] = largest_difference(expected, load_exported(path)(inputs))
    return expected, found


_CASES = {}


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """Returns a function from a recipe name to its (cached) parity case."""
    runs_root = tmp_path_factory.mktemp("runs")

    def get(name):
        if name not in _CASES:
            _CASES.clear()  # one recipe's models in memory at a time
            _CASES[name] = parity_case(name, runs_root)
        return _CASES[name]

    return get


def _params():
    for name in RECIPES:
        marks = [pytest.mark.slow] if name in SLOW else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", _params())
def test_exported_files_give_the_keras_outputs(name, case, tmp_path):
    _, _, _, serving, inputs = case(name)
    expected, found = measure_parity(serving, inputs, tmp_path)
    assert all(np.isfinite(v).all() for v in expected.values())
    assert found == pytest.approx(dict.fromkeys(found, 0.0), abs=TOLERANCE), found


def test_yolo_serving_returns_the_recipe_detections(case):
    # The serving model's portable NMS selects what `detect` (TensorFlow's
    # combined NMS) selects, on the shapes images; and they are not empty.
    recipe, data, model, serving, inputs = case("yolo")
    served = named_outputs(serving.predict(inputs, verbose=0))
    expected = recipe.detect(model, inputs, anchors=data.anchors)
    counts = served["num_detections"]
    assert counts.tolist() == [len(e["scores"]) for e in expected]
    assert counts.min() > 0
    for index, found in enumerate(expected):
        count = counts[index]
        np.testing.assert_allclose(served["boxes"][index, :count], found["boxes"])
        np.testing.assert_allclose(served["scores"][index, :count], found["scores"])
        assert served["classes"][index, :count].tolist() == found["classes"].tolist()
        assert not served["scores"][index, count:].any()


def test_basics_serving_models_take_raw_rows(case):
    # The serving model standardises inside: raw rows give what the model
    # gives on the rows `build_data` scaled, and a regression comes back in
    # the target's units.
    for name in ("mlp", "linear_regression"):
        recipe, data, model, serving, inputs = case(name)
        scaled = data.test_arrays[0][:IMAGES]
        expected = model.predict(scaled, verbose=0)
        if name == "linear_regression":
            expected = expected * data.scaling["y_std"] + data.scaling["y_mean"]
        served = serving.predict(inputs, verbose=0)
        np.testing.assert_allclose(served, expected, rtol=1e-5, atol=1e-5)


def test_autoencoder_serving_takes_pixels_and_scores_anomalies(case):
    recipe, data, model, serving, inputs = case("autoencoder")
    served = serving.predict(inputs, verbose=0)
    scaled = inputs / 255.0
    np.testing.assert_allclose(
        served["reconstruction"], model.predict(scaled, verbose=0), atol=1e-6
    )
    np.testing.assert_allclose(
        served["reconstruction_mse"],
        recipe.anomaly_scores(model, scaled),
        rtol=1e-5,
    )


# A short run of the digits classifier: about 95% test accuracy in seconds.
DIGITS = {
    "train.epochs": 6,
    "train.verbose": 0,
    "model.filters": [16, 32],
    "model.dense_units": 64,
    "callbacks.tensorboard.enabled": False,
    "train.mixed_precision": "float32",
    "export.formats": ["keras", "onnx", "litert"],
}


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    import keras_recipes

    return keras_recipes.run(
        "small_data_classifier", DIGITS, runs_root=tmp_path_factory.mktemp("runs")
    )


def _test_split(run_dir):
    recipe = get_recipe("small_data_classifier")(
        load_config(run_dir / "config.yaml"), run_dir=run_dir
    )
    images, labels = [], []
    for x, y in recipe.build_data().test:
        images.append(np.asarray(x))
        labels.append(np.asarray(y))
    return np.concatenate(images), np.concatenate(labels)


def _accuracy(run, images, labels):
    probabilities = run(images)["output_0"]
    return float(np.mean(probabilities.argmax(-1) == labels))


def test_int8_keeps_the_digits_accuracy_within_one_point(digits_run, capsys):
    run_dir = digits_run.run_dir
    status = main(
        ["export", str(run_dir), "--format", "onnx", "--format", "litert"]
        + ["--quantize", "int8"]
    )
    assert status == 0
    printed = capsys.readouterr().out.split()
    int8 = [export_path(run_dir, f, "int8") for f in ("onnx", "litert")]
    assert [str(p) for p in int8] == printed[::3]
    images, labels = _test_split(run_dir)
    float_accuracy = digits_run.metrics["test_accuracy"]
    assert float_accuracy > 0.9
    accuracies = {}
    for format in ("onnx", "litert"):
        float_file = export_path(run_dir, format)
        assert _accuracy(load_exported(float_file), images, labels) == pytest.approx(
            float_accuracy, abs=1e-6
        )
        int8_file = export_path(run_dir, format, "int8")
        assert int8_file.stat().st_size < 0.4 * float_file.stat().st_size
        accuracies[format] = _accuracy(load_exported(int8_file), images, labels)
    print(f"float {float_accuracy:.4f}, int8 {accuracies}")
    for format, accuracy in accuracies.items():
        assert abs(accuracy - float_accuracy) <= 0.01, (format, accuracy)


def test_cli_export_writes_each_format_of_a_finished_run(digits_run, capsys):
    run_dir = digits_run.run_dir
    status = main(["export", str(run_dir), "--format", "saved_model"])
    assert status == 0
    path = export_path(run_dir, "saved_model")
    assert capsys.readouterr().out.startswith(f"{path} (")
    images, labels = _test_split(run_dir)
    expected = load_exported(run_dir / "model.keras")(images[:32])
    assert largest_difference(expected, load_exported(path)(images[:32])) < TOLERANCE


def test_run_writes_the_configured_formats(digits_run):
    run_dir = digits_run.run_dir
    config = load_config(run_dir / "config.yaml")
    assert config.export.formats == ["keras", "onnx", "litert"]
    for format in ("keras", "onnx", "litert"):
        assert export_path(run_dir, format).is_file(), format


def test_old_export_switches_still_load():
    old = {"export.keras": False, "export.saved_model": True}
    assert load_config("mlp", old).export.formats == ["saved_model"]
    yolo = load_config("yolo", {"export.saved_model": False})
    assert yolo.export.formats == ["keras"]


def _one_line(capsys, status):
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2, lines
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def test_unknown_format_is_one_line(capsys, tmp_path):
    with pytest.raises(SystemExit) as stopped:
        main(["export", str(tmp_path), "--format", "tflite"])
    line = _one_line(capsys, stopped.value.code)
    assert "invalid choice: 'tflite'" in line and "litert" in line
    status = main(["show", "mlp", "--set", "export.formats=[keras, tflite]"])
    line = _one_line(capsys, status)
    assert "export.formats[1]" in line and "did you mean 'litert'" in line
    with pytest.raises(UserError, match="unknown export format 'h5'"):
        write_exports(tmp_path, None, ["h5"])


def test_missing_optional_package_is_one_line(monkeypatch, digits_run, capsys):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: (
            None if name in ("tf2onnx", "onnxruntime") else find_spec(name, *a)
        ),
    )
    run_dir = digits_run.run_dir
    status = main(["export", str(run_dir), "--format", "onnx"])
    line = _one_line(capsys, status)
    assert "needs tf2onnx" in line and "keras-recipes[export]" in line
    with pytest.raises(UserError, match="needs onnxruntime, not installed"):
        load_exported(export_path(run_dir, "onnx"))


def test_runs_without_a_model_of_their_own_say_so(tmp_path, capsys):
    from keras_recipes.config import save_config

    style = tmp_path / "style"
    save_config(load_config("style_transfer"), style / "config.yaml")
    line = _one_line(capsys, main(["export", str(style), "--format", "onnx"]))
    assert "recipe 'style_transfer' has no model to export" in line
    transfer = tmp_path / "transfer"
    save_config(load_config("transfer_digits"), transfer / "config.yaml")
    (transfer / "pretraining").mkdir()
    (transfer / "pretraining" / "model.keras").write_bytes(b"")
    line = _one_line(capsys, main(["export", str(transfer)]))
    assert "has no model.keras of its own" in line and "(pretraining)" in line


def test_a_mixed_precision_model_is_served_in_float32(tmp_path):
    import keras

    from keras_recipes.exporting import float32_model
    from keras_recipes.models.classifier import small_cnn

    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = small_cnn((8, 8, 1), 10, filters=(8, 16), dense_units=16)
    finally:
        keras.config.set_dtype_policy("float32")
    images = load_digits()[1][0][:IMAGES]
    copy = float32_model(model)
    assert {layer.dtype_policy.name for layer in copy.layers} == {"float32"}
    assert float32_model(copy) is copy
    expected = named_outputs(copy.predict(images, verbose=0))
    # bfloat16 keeps 8 bits of mantissa: the float32 copy is close to it.
    bfloat16 = named_outputs(model.predict(images, verbose=0))
    assert largest_difference(expected, bfloat16) < 0.05
    for format in ("onnx", "litert"):
        path = export_path(tmp_path, format)
        export_format(model, path, format)
        assert largest_difference(expected, load_exported(path)(images)) < TOLERANCE
