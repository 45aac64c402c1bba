"""Every model file a recipe writes loads with plain Keras, in a fresh process.

Keras rebuilds a class that is not its own only if the module registering it
was imported first, so "loads anywhere" means: the saved config names
Keras's classes only. The slow test quick-runs every built-in recipe, loads
each `.keras` file it wrote in a new Python where `import keras_recipes`
fails, and compares the predictions with the package's own load.
"""

import json
import os
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest

import keras_recipes
from keras_recipes.catalog import BUILTIN
from keras_recipes.data.image_augmentation import RandomImageAugmentation
from keras_recipes.detection.decode import YoloDetections
from keras_recipes.detection.localization import LocalizationLoss
from keras_recipes.detection.loss import YoloLoss
from keras_recipes.losses import TripletLoss
from keras_recipes.models import (
    VAE,
    AbsoluteDifference,
    ApplicationPreprocessing,
    Sampling,
    application_preprocessing,
    vae_decoder,
    vae_encoder,
)
from keras_recipes.models.char_rnn import BitsPerCharacter
from keras_recipes.saving import non_keras_objects, restore_compile, save_model_atomic
from keras_recipes.style.model import StyleTransferModel
from keras_recipes.weights import application_names, preprocess_input

# The one recipe whose training checkpoints need this package: the VAE's
# class holds its training step and losses. Their load fails naming the
# module to import; its `model.keras` holds the encoder and decoder only.
NEEDS_PACKAGE = {"vae": "keras_recipes.models.vae"}
# Its product is an image; it saves no model.
NO_MODEL = {"style_transfer"}
# Compiled with a loss or metric of this package, kept aside for
# `restore_compile`.
COMPILED_ASIDE = {
    "char_rnn": "BitsPerCharacter",
    "face_triplet": "TripletLoss",
    "yolo": "YoloLoss",
}

# Runs in a new interpreter. First plain Keras, with `keras_recipes` made
# unimportable, as if it were not installed; then with the package's objects.
_LOADER = """
import json, sys

sys.modules["keras_recipes"] = None  # `import keras_recipes` fails
import numpy as np
import keras

jobs = json.loads(sys.argv[1])


def predict(model, job):
    inputs = np.load(job["inputs"])
    arrays = [inputs[f"x{i}"] for i in range(len(inputs.files))]
    outputs = model.predict(arrays if len(arrays) > 1 else arrays[0], verbose=0)
    np.savez(job["outputs"], *keras.tree.flatten(outputs))


report = {}
for job in jobs:
    try:
        predict(keras.saving.load_model(job["path"]), job)
        report[job["path"]] = "plain"
    except Exception as error:
        report[job["path"]] = f"{type(error).__name__}: {error}"
imported = [name for name in sys.modules if name.startswith("keras_recipes.")]
del sys.modules["keras_recipes"]
import keras_recipes

for job in jobs:
    if report[job["path"]] != "plain":
        model = keras.saving.load_model(
            job["path"], custom_objects=keras_recipes.custom_objects()
        )
        predict(model, job)
print(json.dumps({"report": report, "imported_before": imported}))
"""


def _fresh_python(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _inputs_of(model, seed=0):
    rng = np.random.default_rng(seed)
    arrays = []
    # A subclassed model (the VAE) takes what its encoder takes.
    tensors = model.inputs if hasattr(model, "inputs") else model.encoder.inputs
    for tensor in tensors:
        shape = [2] + [8 if size is None else size for size in tensor.shape[1:]]
        if "int" in str(tensor.dtype):
            arrays.append(rng.integers(0, 2, shape).astype(tensor.dtype))
        else:
            arrays.append(rng.uniform(0, 255, shape).astype("float32"))
    return arrays


def _outputs(model, arrays):
    outputs = model.predict(arrays if len(arrays) > 1 else arrays[0], verbose=0)
    return [np.asarray(value) for value in keras.tree.flatten(outputs)]


def _saved_config(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))


def _quick_run_files(name, root, scratch, jobs):
    """Quick-runs a recipe; returns its `.keras` files with expected outputs."""
    result = keras_recipes.run(name, {"train.verbose": 0}, runs_root=root, quick=True)
    files = []
    for path in sorted(result.run_dir.rglob("*.keras")):
        if path == result.run_dir / "model.keras":
            # What the run's steps get back, saved again, must give the file.
            recipe, model = keras_recipes.load_run(result.run_dir)
            model = recipe.portable_model(model)
        else:
            model = keras.saving.load_model(path)
        arrays = _inputs_of(model)
        stem = scratch / f"{len(jobs)}"
        np.savez(f"{stem}.in.npz", **{f"x{i}": a for i, a in enumerate(arrays)})
        job = {"path": str(path), "inputs": f"{stem}.in.npz"}
        job["outputs"] = f"{stem}.out.npz"
        jobs.append(job)
        files.append((path, _outputs(model, arrays), job["outputs"]))
    return files


@pytest.fixture(scope="module")
def loaded_elsewhere(tmp_path_factory):
    """Quick-runs every recipe, then loads its `.keras` files in a new Python.

    Returns:
        `(files, report, imported)`: recipe name to `(path, expected
        outputs, outputs file)` triples (or the error of its run), the file
        path to `"plain"` or the error of the plain load, and the modules of
        `keras_recipes` imported during the plain loads (none can be).
    """
    root = tmp_path_factory.mktemp("runs")
    scratch = tmp_path_factory.mktemp("arrays")
    files, jobs = {}, []
    for name in BUILTIN:
        try:
            files[name] = _quick_run_files(name, root, scratch, jobs)
        except Exception as error:  # reported by that recipe's test only
            files[name] = f"{type(error).__name__}: {error}"
    answer = json.loads(_fresh_python("-c", _LOADER, json.dumps(jobs)).splitlines()[-1])
    return files, answer["report"], answer["imported_before"]


def _files_of(loaded_elsewhere, name):
    files = loaded_elsewhere[0][name]
    if isinstance(files, str):
        pytest.fail(f"the quick run of {name} failed: {files}")
    return files


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_recipe_models_load_with_plain_keras(loaded_elsewhere, name):
    _, report, imported = loaded_elsewhere
    assert imported == []
    files = _files_of(loaded_elsewhere, name)
    if name in NO_MODEL:
        assert files == []
        return
    assert any(path.name == "model.keras" for path, _, _ in files)
    for path, expected, outputs_file in files:
        needed = non_keras_objects(_saved_config(path))
        if name in NEEDS_PACKAGE and path.name != "model.keras":
            module = NEEDS_PACKAGE[name]
            assert needed and all(n.startswith(module) for n in needed), needed
            # Keras's error names the class and shows the module to import.
            assert report[str(path)].startswith("TypeError: Could not locate class")
            assert f"'module': '{module}'" in report[str(path)]
        else:
            assert needed == [], (path, needed)
            assert report[str(path)] == "plain", (path, report[str(path)][:2000])
        with np.load(outputs_file) as saved:
            got = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        assert len(got) == len(expected)
        for a, b in zip(got, expected, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(COMPILED_ASIDE))
def test_training_compile_is_kept_aside(loaded_elsewhere, name):
    files = _files_of(loaded_elsewhere, name)
    path = next(p for p, _, _ in files if p.name == "model.keras")
    assert not _saved_config(path).get("compile_config")
    model = keras.saving.load_model(path)
    assert not model.compiled
    restore_compile(model, path)
    assert model.compiled
    compiled = [model.loss, *(model._compile_config.config["metrics"] or [])]
    assert COMPILED_ASIDE[name] in [type(obj).__name__ for obj in compiled]


def _tiny_encoder():
    inputs = keras.Input((4,))
    outputs = keras.layers.UnitNormalization()(keras.layers.Dense(3)(inputs))
    return keras.Model(inputs, outputs)


def test_custom_loss_stays_out_of_the_keras_config(tmp_path):
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
    labels = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    custom = _tiny_encoder()
    custom.compile(optimizer="adam", loss=TripletLoss(margin=0.3))
    custom.fit(x, labels, epochs=2, batch_size=8, verbose=0)
    builtin = _tiny_encoder()
    builtin.compile(optimizer="sgd", loss="mse")
    save_model_atomic(custom, tmp_path / "custom.keras")
    save_model_atomic(builtin, tmp_path / "builtin.keras")
    np.save(tmp_path / "x.npy", x)
    script = (
        "import sys\n"
        "sys.modules['keras_recipes'] = None\n"  # as if it were not installed
        "import numpy as np, keras\n"
        "x = np.load(sys.argv[1] + '/x.npy')\n"
        "for name in ('custom', 'builtin'):\n"
        "    model = keras.saving.load_model(f'{sys.argv[1]}/{name}.keras')\n"
        "    np.save(f'{sys.argv[1]}/{name}.npy', model.predict(x, verbose=0))\n"
        "    print(name, model.compiled)\n"
    )
    lines = _fresh_python("-c", script, str(tmp_path)).split()
    assert lines == ["custom", "False", "builtin", "True"]
    np.testing.assert_allclose(
        np.load(tmp_path / "custom.npy"), custom.predict(x, verbose=0), atol=1e-6
    )
    # In a process that registered TripletLoss, the training compile returns.
    path = tmp_path / "custom.keras"
    loaded = restore_compile(keras.saving.load_model(path), path)
    assert isinstance(loaded.loss, TripletLoss) and loaded.loss.margin == 0.3
    assert loaded.evaluate(x, labels, verbose=0) == pytest.approx(
        custom.evaluate(x, labels, verbose=0), rel=1e-6
    )
    builtin_path = tmp_path / "builtin.keras"
    again = restore_compile(keras.saving.load_model(builtin_path), builtin_path)
    assert type(again.optimizer) is keras.optimizers.SGD


def _registered_instances():
    encoder = vae_encoder(input_shape=(4, 4, 1), latent_dim=2, hidden_units=(4,))
    decoder = vae_decoder(output_shape=(4, 4, 1), latent_dim=2, hidden_units=(4,))
    return [
        AbsoluteDifference(name="difference"),
        ApplicationPreprocessing("VGG16", name="vgg_preprocessing"),
        BitsPerCharacter(name="bits"),
        LocalizationLoss(box_weight=2.0, class_weight=0.5),
        RandomImageAugmentation(flip="horizontal", rotation=0.1, zoom=0.2),
        Sampling(seed=5, name="draw"),
        TripletLoss(margin=0.5, mining="batch_all", distance="euclidean"),
        VAE(encoder, decoder, beta=0.5, seed=1),
        YoloDetections(anchors=[[8.0, 8.0], [16.0, 24.0]], image_size=(32, 32)),
        YoloLoss([[8.0, 8.0], [16.0, 24.0]], (32, 32), coord_weight=4.0),
    ]


class _StubCost:
    extractor = None

    def __call__(self, images):
        return {"loss": keras.ops.sum(images)}


def test_every_keras_object_is_registered_and_round_trips():
    instances = _registered_instances()
    unsaved = {StyleTransferModel}
    registered = set(keras_recipes.custom_objects().values())
    assert {type(obj) for obj in instances} | unsaved == registered
    for obj in instances:
        # As in a file: JSON text (Keras consumes the dicts it deserializes).
        text = json.dumps(keras.saving.serialize_keras_object(obj))
        config = json.loads(text)
        assert config["registered_name"] == f"keras_recipes>{type(obj).__name__}"
        again = keras.saving.deserialize_keras_object(json.loads(text))
        assert type(again) is type(obj)
        assert json.dumps(keras.saving.serialize_keras_object(again)) == text
    # Its cost holds Python functions: saving it says so, and what to save.
    model = StyleTransferModel(_StubCost(), np.zeros((4, 4, 3)))
    with pytest.raises(NotImplementedError, match=r"result\(\)"):
        keras.saving.serialize_keras_object(model)


@pytest.mark.parametrize("application", application_names())
def test_application_preprocessing_uses_keras_classes_only(application):
    images = np.random.default_rng(1).uniform(0, 255, (2, 5, 6, 3)).astype("float32")
    preprocessing = application_preprocessing(application)
    # On a NumPy array, preprocess_input may work in place: give it a copy.
    expected = preprocess_input(application)(images.copy())
    got = keras.ops.convert_to_numpy(preprocessing(images))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-5)
    legacy = ApplicationPreprocessing(application)(images)
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(legacy), atol=1e-5)
    inputs = keras.Input((5, 6, 3))
    model = keras.Model(inputs, preprocessing(inputs))
    assert non_keras_objects(keras.saving.serialize_keras_object(model)) == []
