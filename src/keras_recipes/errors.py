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
    """A data folder, image or annotation that cannot be used.

    Names and paths in the message come from the user's files and may hold
    line breaks or other control characters; those are shown escaped
    (`\\n`), so the message stays on one line.
    """

    def __init__(self, message):
        super().__init__(_one_line(str(message)))


def _one_line(text):
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
