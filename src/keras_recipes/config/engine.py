"""Typed config trees: strict YAML merge, `--set` overrides, resolved saving.

A recipe's config is a tree of dataclasses. The defaults in the classes come
first, then a YAML file, then `a.b=value` overrides; every key and value is
checked against the tree, so a typo or an out-of-range value stops the run
before any work with a message that names the key, the value and what is
allowed. This module does not import TensorFlow, so a bad config fails fast
and quietly.
"""

import dataclasses
import difflib
import math
import types
import typing
from pathlib import Path
from typing import Any, Literal

import yaml

from keras_recipes.config.folder_defaults import apply_folder_defaults, explicit_keys
from keras_recipes.errors import ConfigError
from keras_recipes.saving import write_text_atomic


def param(default, *, choices=None, minimum=None, maximum=None, below=None, doc=""):
    """Declares a config field with its default, allowed values and range.

    Args:
        default: The default value; a list or dict is copied for each config.
        choices: Allowed values, or `None` for any value of the field's type.
            Defaults to `None`.
        minimum: Smallest allowed value (inclusive). Defaults to `None`.
        maximum: Largest allowed value (inclusive). Defaults to `None`.
        below: Upper bound that the value must stay strictly under.
            Defaults to `None`.
        doc: One line that says what the field does. Defaults to `""`.

    Returns:
        A `dataclasses.Field`.

    Example:

    ```python
    @dataclasses.dataclass
    class TrainConfig:
        epochs: int = param(10, minimum=1, doc="Passes over the training data.")
    ```
    """
    metadata = {
        "choices": choices,
        "minimum": minimum,
        "maximum": maximum,
        "below": below,
        "doc": doc,
    }
    if isinstance(default, (list, dict)):
        return dataclasses.field(
            default_factory=lambda: _copy(default), metadata=metadata
        )
    return dataclasses.field(default=default, metadata=metadata)


def section(cls, **defaults):
    """Declares a nested config section built from its own defaults.

    Args:
        cls: The dataclass of the section.
        **defaults: Values that differ from `cls`'s own defaults in this
            place, as keyword arguments; a nested section takes a `dict`.
            They are checked like any other setting.

    Returns:
        A `dataclasses.Field` whose default is `cls()` with `defaults` applied.

    Example:

    ```python
    train: TrainConfig = section(TrainConfig, epochs=40, batch_size=16)
    ```
    """
    if not defaults:
        return dataclasses.field(default_factory=cls)
    layer = [(f"the defaults of {cls.__name__}", _copy(defaults))]
    return dataclasses.field(default_factory=lambda: resolve(cls, layer))


def _copy(value):
    return yaml.safe_load(yaml.safe_dump(value, sort_keys=False))


def _hints(cls):
    return typing.get_type_hints(cls)


def _fields(cls):
    return {f.name: f for f in dataclasses.fields(cls)}


def _nearest(name, candidates):
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""


def _unknown_key(key, name, candidates, source):
    where = (
        f" in {source!r}"
        if "\n" in str(source)
        else (f" in {source}" if source else "")
    )
    allowed = ", ".join(sorted(candidates))
    return ConfigError(
        f"unknown config key {key!r}{where}{_nearest(name, candidates)} "
        f"(allowed here: {allowed})"
    )


def _describe(hint):
    origin = typing.get_origin(hint)
    if origin is Literal:
        return " | ".join(repr(a) for a in typing.get_args(hint))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(hint))
    if hint is type(None):
        return "null"
    if origin in (list, tuple):
        return f"a list of {_describe(typing.get_args(hint)[0])}"
    if origin is dict:
        return "a mapping"
    return getattr(hint, "__name__", str(hint))


def _coerce(value, hint, key):
    """Returns `value` converted to `hint`, or raises `ConfigError`."""
    origin = typing.get_origin(hint)
    bad = ConfigError(
        f"config key {key!r} must be {_describe(hint)}. Received: {value!r}"
    )
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(value, option, key)
            except ConfigError:
                pass
        raise bad
    if origin is Literal:
        allowed = typing.get_args(hint)
        for choice in allowed:
            if value == choice and type(value) is type(choice):
                return choice
            if isinstance(choice, int) and isinstance(value, str):
                if value == str(choice):
                    return choice
        raise ConfigError(
            f"config key {key!r} must be one of {' | '.join(map(str, allowed))}"
            f"{_nearest(str(value), map(str, allowed))} Received: {value!r}"
        )
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(
                f"config key {key!r} is a section; give a mapping of its keys. "
                f"Received: {value!r}"
            )
        return _build(hint, value, key)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise bad
        item = typing.get_args(hint)[0]
        items = [_coerce(v, item, f"{key}[{i}]") for i, v in enumerate(value)]
        return items
    if origin is dict:
        if not isinstance(value, dict):
            raise bad
        _, item = typing.get_args(hint)
        return {str(k): _coerce(v, item, f"{key}.{k}") for k, v in value.items()}
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise bad
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise bad
    if hint is float:
        if isinstance(value, str):
            # YAML 1.1 reads `1e-3` (no dot) as a string.
            try:
                value = float(value)
            except ValueError:
                raise bad from None
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise bad
        if not math.isfinite(value):
            raise ConfigError(
                f"config key {key!r} must be a finite number. Received: {value!r}"
            )
        return float(value)
    if hint is str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise bad
    raise TypeError(f"unsupported config type {hint!r} at {key}")


def _check_range(value, field, key):
    meta = field.metadata
    if value is None or isinstance(value, (bool, str, list, dict)):
        if meta.get("choices") and value not in meta["choices"]:
            raise ConfigError(
                f"config key {key!r} must be one of {meta['choices']}. "
                f"Received: {value!r}"
            )
        return
    if meta.get("minimum") is not None and value < meta["minimum"]:
        raise ConfigError(
            f"config key {key!r} must be >= {meta['minimum']}. Received: {value!r}"
        )
    if meta.get("maximum") is not None and value > meta["maximum"]:
        raise ConfigError(
            f"config key {key!r} must be <= {meta['maximum']}. Received: {value!r}"
        )
    if meta.get("below") is not None and value >= meta["below"]:
        raise ConfigError(
            f"config key {key!r} must be < {meta['below']}. Received: {value!r}"
        )


def _build(cls, data, prefix=""):
    fields = _fields(cls)
    hints = _hints(cls)
    for name in data:
        if name not in fields:
            key = f"{prefix}.{name}" if prefix else str(name)
            raise _unknown_key(key, str(name), fields, "")
    values = {}
    for name, field in fields.items():
        key = f"{prefix}.{name}" if prefix else name
        if name in data:
            value = _coerce(data[name], hints[name], key)
            _check_range(value, field, key)
            values[name] = value
    config = cls(**values)
    validate = getattr(config, "validate", None)
    if validate is not None:
        validate(prefix or "config")
    return config


def to_dict(config):
    """Returns a config tree as plain nested dicts and lists.

    Args:
        config: A config dataclass instance.

    Returns:
        A `dict` that `yaml.safe_dump` can write.

    Example:

    ```python
    to_dict(TrainConfig())["epochs"]  # 10
    ```
    """
    return _copy(dataclasses.asdict(config))


def check_keys(cls, data, source, prefix=""):
    """Raises `ConfigError` for a key of `data` that `cls` does not have.

    Args:
        cls: The config dataclass `data` must fit.
        data: A nested `dict` read from YAML.
        source: Where `data` came from, named in the message.
        prefix: Dotted path of `data` within the whole tree. Defaults to `""`.

    Returns:
        `None`.

    Example:

    ```python
    check_keys(TrainConfig, {"epochz": 3}, "run.yaml")  # raises ConfigError
    ```
    """
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: '{prefix or 'the file'}' must be a mapping of keys. "
            f"Received: {data!r}"
        )
    fields = _fields(cls)
    hints = _hints(cls)
    for name, value in data.items():
        key = f"{prefix}.{name}" if prefix else str(name)
        if name not in fields:
            raise _unknown_key(key, str(name), fields, source)
        hint = hints[name]
        if dataclasses.is_dataclass(hint) and isinstance(value, dict):
            check_keys(hint, value, source, key)


def _merge(base, update):
    for name, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(name), dict):
            _merge(base[name], value)
        else:
            base[name] = value
    return base


def parse_override(text):
    """Splits one `a.b=value` override into its key and YAML-typed value.

    Args:
        text: The override as written on the command line.

    Returns:
        A `(key, value)` tuple; the value is parsed as YAML, so `3` is an
        `int`, `1e-3` a float, `true` a bool, `[16, 32]` a list and `null`
        `None`.

    Example:

    ```python
    parse_override("train.epochs=3")  # ("train.epochs", 3)
    ```
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(
            f"override {text!r} is not of the form key=value, e.g. --set train.epochs=5"
        )
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key, value


def _set_path(cls, data, key, value, source, text=None):
    names = key.split(".")
    node_cls, node = cls, data
    for depth, name in enumerate(names):
        path = ".".join(names[: depth + 1])
        fields = _fields(node_cls)
        if name not in fields:
            raise _unknown_key(path, name, fields, source)
        hint = _hints(node_cls)[name]
        if depth == len(names) - 1:
            takes_text = hint is str or (
                typing.get_origin(hint) in (typing.Union, types.UnionType)
                and str in typing.get_args(hint)
            )
            if (
                takes_text
                and text is not None
                and not isinstance(value, (str, type(None)))
            ):
                # A string field takes the text as written: `--set x.name=no`
                # means "no", not YAML's False.
                value = text.partition("=")[2].strip()
            node[name] = value
            return
        if not dataclasses.is_dataclass(hint):
            raise ConfigError(
                f"config key {path!r} is a value, not a section, so {key!r} "
                f"does not exist ({source})"
            )
        node_cls = hint
        node = node.setdefault(name, {})


def read_yaml(path):
    """Reads a YAML mapping with the safe loader.

    Args:
        path: File to read.

    Returns:
        The mapping as a `dict` (empty for an empty file).

    Example:

    ```python
    read_yaml("configs/small_data_classifier.yaml")["recipe"]
    ```
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise ConfigError(f"{path}{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping of config keys")
    return data


def resolve(cls, layers=(), overrides=None):
    """Builds a config: class defaults, then YAML layers, then overrides.

    Args:
        cls: The recipe's config dataclass.
        layers: `(source, dict)` pairs merged in order, such as the shipped
            YAML and a user's file. Defaults to `()`.
        overrides: `a.b=value` strings, or a `{"a.b": value}` mapping.
            Defaults to `None`.

    Returns:
        A validated instance of `cls`. Its `implied_settings` attribute
        holds one line for each setting a data folder implied
        (`config.folder_defaults`).

    Example:

    ```python
    resolve(MyConfig, overrides=["train.epochs=3"]).train.epochs  # 3
    ```
    """
    data = to_dict(cls())
    explicit = set()
    for source, layer in layers:
        check_keys(cls, layer, source)
        _merge(data, _copy(layer))
        explicit |= explicit_keys(layer)
    if isinstance(overrides, dict):
        items = [(key, value, None) for key, value in overrides.items()]
    else:
        items = [(*parse_override(text), text) for text in overrides or ()]
    for key, value, text in items:
        source = f"--set {text}" if text is not None else f"overrides[{key!r}]"
        _set_path(cls, data, key, value, source, text)
        explicit |= explicit_keys({key: value})
    notes = apply_folder_defaults(cls, data, explicit)
    config = _build(cls, data)
    # Not a field: the driver prints them, and the saved config holds the
    # values they explain.
    config.implied_settings = tuple(notes)
    return config


def save_config(config, path):
    """Writes a resolved config as YAML, atomically.

    Args:
        config: A config dataclass instance.
        path: Destination file.

    Returns:
        The `Path` written.

    Example:

    ```python
    save_config(config, run_dir / "config.yaml")
    ```
    """
    text = yaml.safe_dump(to_dict(config), sort_keys=False)
    return write_text_atomic(path, text)
