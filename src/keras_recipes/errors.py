"""Errors that are the user's to fix, reported in one line by the CLI."""


class UserError(Exception):
    """A mistake in the user's input: a config key, a value, a file or a folder.

    The command line prints the message alone on one line and exits with
    status 2; everything else is a bug and keeps its traceback. The message
    says what is wrong, where, and how to fix it.

    Example:

    ```python
    raise UserError("data folder not found: /tmp/cats (check data.directory)")
    ```
    """


class ConfigError(UserError):
    """A config key or value that is unknown, mistyped or out of range."""


class DataError(UserError):
    """A data folder, image or annotation that cannot be used."""
