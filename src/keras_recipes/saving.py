"""Writing run files so that a reader never sees half of one.

Saved models load anywhere when Keras can: plain `keras.saving.load_model`,
in a process that never imported this package, rebuilds every class of
Keras itself, but a class of another package only if the module that
registers it was imported first (while loading, Keras imports modules of
keras, keras_hub, keras_cv and keras_nlp only). So a loss or metric of
this package, which only training needs, does not stay in the compile
config Keras reads: `config.json` then holds none (Keras loads the model
uncompiled, ready to predict), and `metadata.json`, which Keras does not
read, keeps it for `restore_compile`.
"""

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

__all__ = [
    "non_keras_objects",
    "restore_compile",
    "save_model_atomic",
    "write_json_atomic",
    "write_text_atomic",
]

_CONFIG = "config.json"
_METADATA = "metadata.json"
_KEY = "keras_recipes"


def save_model_atomic(model, path):
    """Saves a Keras model to a temporary file, then renames it into place.

    When the compile config names a loss, metric or optimizer Keras does
    not know, it moves to the archive's `metadata.json` (see
    `restore_compile`): plain `keras.saving.load_model` then rebuilds the
    model, uncompiled, in any process, provided its layers are Keras's.

    Args:
        model: The `keras.Model`.
        path: Destination, ending in `.keras`.

    Returns:
        The `Path` written.

    Example:

    ```python
    save_model_atomic(model, run_dir / "model.keras")
    ```
    """
    path = Path(path)
    temp = path.with_name(f".{path.stem}.partial.keras")
    try:
        model.save(temp)
        _set_aside_compile_config(temp)
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)
    return path


def non_keras_objects(config):
    """Returns the classes and functions of a saved config Keras cannot find alone.

    Keras rebuilds a class of its own from the config; any other class or
    registered function is found only if the module that registers it was
    imported before loading.

    Args:
        config: A serialized Keras object, e.g. the `config.json` of a
            `.keras` archive, parsed.

    Returns:
        A sorted list of `"module.ClassName"` (or, for a registered
        function, `"package>name"`) strings; empty when Keras needs nothing
        else.

    Example:

    ```python
    config = json.loads(zipfile.ZipFile("model.keras").read("config.json"))
    non_keras_objects(config)  # ['keras_recipes.models.vae.VAE']
    ```
    """
    found = set()
    stack = [config]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
            continue
        if not isinstance(value, dict):
            continue
        module, name = value.get("module"), value.get("class_name")
        if isinstance(module, str) and isinstance(name, str):
            if module == "builtins":
                # A function: Keras's own are saved by bare name, a
                # registered one as "package>name".
                if name == "function" and ">" in str(value.get("config")):
                    found.add(str(value["config"]))
            elif module != "keras" and not module.startswith("keras."):
                found.add(f"{module}.{name}")
        stack.extend(value.values())
    return sorted(found)


def restore_compile(model, path):
    """Compiles a loaded model as it was saved, if its archive set that aside.

    `save_model_atomic` keeps a compile config that names objects of this
    package in the archive's `metadata.json`, so that Keras alone loads the
    model (uncompiled). In a process that imported the modules registering
    those objects (loading a run imports its recipe), this compiles the
    model with that config again; the optimizer starts afresh.

    Args:
        model: The model `keras.saving.load_model(path)` returned.
        path: The `.keras` archive it came from.

    Returns:
        `model`, compiled when its archive kept a compile config aside.

    Example:

    ```python
    model = restore_compile(keras.saving.load_model(path), path)
    ```
    """
    if getattr(model, "compiled", False):
        return model
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        metadata = json.loads(archive.read(_METADATA)) if _METADATA in names else {}
    compile_config = metadata.get(_KEY, {}).get("compile_config")
    if compile_config:
        model.compile_from_config(compile_config)
    return model


def _set_aside_compile_config(path):
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read(_CONFIG))
        compile_config = config.get("compile_config")
        if not compile_config or not non_keras_objects(compile_config):
            return
        metadata = json.loads(archive.read(_METADATA))
    config["compile_config"] = None
    metadata[_KEY] = {"compile_config": compile_config}
    replaced = {_CONFIG: config, _METADATA: metadata}
    rewritten = path.with_name(f"{path.name}.rewrite")
    try:
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(rewritten, "w") as target:
            for info in source.infolist():
                member = zipfile.ZipInfo(info.filename, info.date_time)
                member.compress_type = info.compress_type
                member.external_attr = info.external_attr
                if info.filename in replaced:
                    target.writestr(member, json.dumps(replaced[info.filename]))
                    continue
                # The size tells the writer whether the member needs ZIP64.
                member.file_size = info.file_size
                with source.open(info) as reader, target.open(member, "w") as writer:
                    shutil.copyfileobj(reader, writer, 1 << 20)
        rewritten.replace(path)
    finally:
        rewritten.unlink(missing_ok=True)


def write_json_atomic(path, data):
    """Writes `data` as indented JSON, atomically.

    Args:
        path: Destination file.
        data: JSON-serialisable data.

    Returns:
        The `Path` written.

    Example:

    ```python
    write_json_atomic(run_dir / "metrics.json", {"test_accuracy": 0.98})
    ```
    """
    return write_text_atomic(path, json.dumps(data, indent=2) + "\n")


def write_text_atomic(path, text):
    """Writes text to a temporary file beside `path`, then renames it.

    A reader sees either the old file, no file, or the whole new text.

    Args:
        path: Destination file.
        text: The contents.

    Returns:
        The `Path` written.

    Example:

    ```python
    write_text_atomic("metrics.json", json.dumps(metrics))
    ```
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        # mkstemp makes the file private (0600); a run's files follow the
        # umask like every other file the run writes.
        os.fchmod(handle, 0o666 & ~_umask())
        with os.fdopen(handle, "w") as file:
            file.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
