"""A recipe's config keys with their defaults and docs, for `run NAME --help`."""

import dataclasses
import json
import re
import typing


def config_keys(config, prefix=""):
    """Lists every key of a config tree with its value, allowed values and doc.

    Args:
        config: A config dataclass instance, e.g. from `load_config`.
        prefix: Prepended to every key, with a dot. Defaults to `""`.

    Returns:
        A list of `(key, value, doc)` tuples in the order of the config's
        fields; `doc` says what the key does and, for a key with a fixed
        set of values, which ones; it is `""` when there is nothing to say.

    Example:

    ```python
    config_keys(load_config("small_data_classifier"))[1]
    # ("seed", 42, "Python, NumPy, Keras and TF seed.")
    ```
    """
    hints = typing.get_type_hints(type(config))
    keys = []
    for field in dataclasses.fields(config):
        key = f"{prefix}{field.name}"
        value = getattr(config, field.name)
        if dataclasses.is_dataclass(value):
            keys += config_keys(value, f"{key}.")
            continue
        doc = field.metadata.get("doc", "")
        choices = _choices(hints.get(field.name))
        named = all(re.search(rf"\b{re.escape(c)}\b", doc) for c in choices)
        if choices and not named:
            listed = " | ".join(choices)
            doc = f"{doc} ({listed})" if doc else listed
        keys.append((key, value, doc))
    return keys


def _choices(hint):
    """Returns the allowed values of a `Literal` hint (or of one in a union)."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) is typing.Literal:
        return [_yaml(a) for a in args]
    literals = [a for a in args if typing.get_origin(a) is typing.Literal]
    return _choices(literals[0]) if literals else []


def format_config_keys(config):
    """Returns the lines `run NAME --help` prints for a recipe's config keys.

    Each line is `key: default` (in YAML's spelling, as `show` prints it),
    then the key's doc after `#`.

    Args:
        config: A config dataclass instance.

    Returns:
        The text, one key a line.

    Example:

    ```python
    print(format_config_keys(load_config("mlp")))
    ```
    """
    rows = [(f"{key}: {_yaml(value)}", doc) for key, value, doc in config_keys(config)]
    width = min(48, max(len(left) for left, _ in rows))
    lines = [
        f"  {left:{width}s}  # {doc}" if doc else f"  {left}" for left, doc in rows
    ]
    return "\n".join(lines)


def _yaml(value):
    if value is None:
        return "null"
    if value == "":
        return '""'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)
