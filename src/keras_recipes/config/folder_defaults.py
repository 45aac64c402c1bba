"""Data sections that fit a user's folder: the source and size it implies.

A data section with `source` and `directory` keys reads a folder when
`source` is `"folder"`. Giving `directory` alone means the folder: the
source follows, and a `source` that reads no folder beside it is refused.
A section may declare `folder_defaults`, settings that suit photos better
than the embedded set's (`image_size`, `color_mode`): folder data gets them
unless the user set those keys. What was implied is returned as notes for
the start of the run, so nothing changes without a word.
"""

import dataclasses
import typing

from keras_recipes.errors import ConfigError

# The source that reads `directory` as a data folder.
FOLDER = "folder"


def explicit_keys(layer, prefix=""):
    """Returns the dotted keys a YAML layer or override mapping sets.

    Args:
        layer: A nested `dict` of config values.
        prefix: Dotted key of `layer` itself. Defaults to `""`.

    Returns:
        A `set` of dotted keys of the values (not the sections) set.

    Example:

    ```python
    explicit_keys({"data": {"directory": "photos"}})  # {"data.directory"}
    ```
    """
    keys = set()
    for name, value in layer.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            keys |= explicit_keys(value, f"{key}.")
        else:
            keys.add(key)
    return keys


def apply_folder_defaults(cls, data, explicit, prefix=""):
    """Fills what a data folder implies into a config tree's values, in place.

    In every section of `cls` with `source` and `directory` fields (and
    `"folder"` among the sources): a `directory` the user set without a
    `source` selects the folder source; one set beside a source that reads
    no folder is refused. Then, for folder data, the section's
    `folder_defaults` replace the keys the user did not set.

    Args:
        cls: The config dataclass of `data`.
        data: The merged values, nested `dict`s; changed in place.
        explicit: Dotted keys the user set (`explicit_keys`).
        prefix: Dotted key of `data`. Defaults to `""`.

    Returns:
        A list of notes, one line each, saying what was implied.

    Example:

    ```python
    notes = apply_folder_defaults(ClassifierConfig, values, {"data.directory"})
    ```
    """
    notes = []
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        hint = hints[field.name]
        if dataclasses.is_dataclass(hint) and isinstance(data.get(field.name), dict):
            notes += apply_folder_defaults(
                hint, data[field.name], explicit, f"{prefix}{field.name}."
            )
    if not _reads_folders(cls, hints):
        return notes
    key = prefix.rstrip(".") or "config"
    readers = getattr(cls, "directory_sources", (FOLDER,))
    # A saved config names every key, its section's default folder too.
    given = data.get("directory") not in (None, "", _default(cls, "directory"))
    if f"{prefix}directory" in explicit and given:
        if data.get("source") not in readers:
            if f"{prefix}source" in explicit:
                raise ConfigError(
                    f"{key}.directory is set but {key}.source is "
                    f"{data['source']!r}, which reads no folder; --set "
                    f"{key}.source=folder to train on the folder, or leave out "
                    f"{key}.directory"
                )
            data["source"] = FOLDER
            notes.append(f"{key}.source: folder ({key}.directory is set)")
    if data.get("source") != FOLDER:
        return notes
    implied = {
        name: value
        for name, value in getattr(cls, "folder_defaults", {}).items()
        if f"{prefix}{name}" not in explicit and data.get(name) != value
    }
    if implied:
        data.update(implied)
        settings = ", ".join(f"{key}.{n}={_text(v)}" for n, v in implied.items())
        notes.append(
            f"{settings}: the defaults for a folder of photos (--set them to change)"
        )
    return notes


def _default(cls, name):
    field = next(f for f in dataclasses.fields(cls) if f.name == name)
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


def _reads_folders(cls, hints):
    names = {field.name for field in dataclasses.fields(cls)}
    if not {"source", "directory"} <= names:
        return False
    return FOLDER in typing.get_args(hints["source"])


def _text(value):
    if isinstance(value, list):
        return "x".join(map(str, value))
    return str(value)
