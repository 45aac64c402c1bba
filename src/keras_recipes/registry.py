"""The registry of recipes that users add: a dict and `register`."""

_RECIPES = {}


def register(cls):
    """Class decorator that registers a `Recipe` subclass under `cls.name`.

    Registered recipes can be run by name, like the built-in ones, with
    `keras_recipes.run(name)` and `python -m keras_recipes run name`; a
    registered name takes precedence over a built-in one.

    Args:
        cls: A `Recipe` subclass with a unique `name`.

    Returns:
        `cls`, unchanged.

    Example:

    ```python
    @register
    class MyRecipe(SmallDataClassifier):
        name = "my_recipe"
    ```
    """
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


def registered():
    """Returns the recipes registered so far, by name.

    Returns:
        A new `dict` mapping names to `Recipe` subclasses.

    Example:

    ```python
    registered().get("my_recipe")
    ```
    """
    return dict(_RECIPES)
