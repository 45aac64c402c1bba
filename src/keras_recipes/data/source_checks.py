"""Checks the `data` sections of the image recipes share."""

from keras_recipes.errors import ConfigError


def check_image_size(key, image_size, smallest=1):
    """Refuses an `image_size` that is not `[height, width]` of usable sizes.

    Args:
        key: The config section's dotted name, e.g. `"data"`.
        image_size: The configured `[height, width]`.
        smallest: The least height or width the recipe can use. Defaults to
            `1`.

    Returns:
        `None`; raises `ConfigError` on a bad size.

    Example:

    ```python
    check_image_size("data", [0, 8])  # ConfigError: data.image_size must be...
    ```
    """
    if len(image_size) != 2 or min(image_size) < smallest:
        sizes = "positive sizes" if smallest == 1 else f"each at least {smallest}"
        raise ConfigError(
            f"{key}.image_size must be [height, width] with {sizes}. "
            f"Received: {image_size}"
        )


def check_folder_source(key, source, directory, layout=""):
    """Refuses `source: folder` without a `directory`.

    Args:
        key: The config section's dotted name, e.g. `"data"`.
        source: The configured source.
        directory: The configured directory, or `None`.
        layout: What the folder must hold, for the message. Defaults to `""`.

    Returns:
        `None`; raises `ConfigError` when the folder is missing.

    Example:

    ```python
    check_folder_source("data", "folder", None, "class subfolders")
    ```
    """
    if source == "folder" and not directory:
        hint = f" ({layout})" if layout else ""
        raise ConfigError(
            f"{key}.directory is not set but {key}.source is 'folder'; "
            f"--set {key}.directory=PATH{hint}"
        )
