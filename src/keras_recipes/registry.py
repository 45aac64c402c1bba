"""The registry that maps recipe names to their `Recipe` classes."""

import difflib

from keras_recipes.errors import UserError

_RECIPES = {}


def register(cls):
    """Class decorator that registers a `Recipe` subclass under `cls.name`.

    Args:
        cls: A `Recipe` subclass with a unique `name`.

    Returns:
        `cls`, unchanged.

    Example:

    ```python
    @register
    class MyRecipe(Recipe):
        name = "my_recipe"
    ```
    """
    if cls.__module__ == "__main__":
        # `python -m keras_recipes.recipes.x` runs the module a second time as
        # `__main__`; the package's own import already registered the class.
        return cls
    if not cls.name:
        raise ValueError(f"{cls.__name__} needs a `name` to be registered.")
    existing = _RECIPES.get(cls.name)
    if existing is not None and existing.__qualname__ != cls.__qualname__:
        raise ValueError(
            f"Recipe name '{cls.name}' is taken by {existing.__qualname__}. "
            f"Received: {cls.__qualname__}"
        )
    _RECIPES[cls.name] = cls
    return cls


def _load_builtin_recipes():
    import keras_recipes.recipes  # noqa: F401  (registers the built-in recipes)


def get_recipe(name):
    """Returns the `Recipe` class registered under `name`.

    Args:
        name: A recipe name, as `list_recipes()` gives.

    Returns:
        The `Recipe` subclass.

    Example:

    ```python
    get_recipe("small_data_classifier")
    ```
    """
    _load_builtin_recipes()
    if name not in _RECIPES:
        match = difflib.get_close_matches(name, list(_RECIPES), n=1)
        hint = f"; did you mean '{match[0]}'?" if match else ""
        raise UserError(
            f"unknown recipe '{name}'{hint} (available: {', '.join(sorted(_RECIPES))})"
        )
    return _RECIPES[name]


def list_recipes():
    """Returns every registered recipe with its one-line description.

    Returns:
        A `dict` mapping recipe names to descriptions, sorted by name.

    Example:

    ```python
    for name, description in list_recipes().items():
        print(name, description)
    ```
    """
    _load_builtin_recipes()
    return {name: _RECIPES[name].description for name in sorted(_RECIPES)}
