"""The built-in recipes, and finding any recipe or its config by name.

The table names modules rather than importing them: a recipe's config class
lives in a module of its own that does not import TensorFlow, so listing the
recipes and resolving a config stay quick, and one broken recipe module does
not hide the others.
"""

import difflib
import importlib

from keras_recipes.errors import UserError
from keras_recipes.registry import registered

# name: (package under keras_recipes.recipes, config class, recipe class).
# The config class is in `<package>.config`, the recipe in `<package>.recipe`.
BUILTIN = {
    "autoencoder": ("autoencoder", "AutoencoderConfig", "AutoencoderRecipe"),
    "char_rnn": ("char_rnn", "CharRNNConfig", "CharRNN"),
    "deep_mlp": ("basics", "DeepMLPConfig", "DeepMLP"),
    "face_triplet": ("face_triplet", "FaceTripletConfig", "FaceTriplet"),
    "glyph_pretraining": (
        "transfer_digits",
        "GlyphPretrainingConfig",
        "GlyphPretraining",
    ),
    "linear_regression": ("basics", "LinearRegressionConfig", "LinearRegression"),
    "logistic_regression": (
        "basics",
        "LogisticRegressionConfig",
        "LogisticRegression",
    ),
    "mlp": ("basics", "MLPConfig", "MLP"),
    "small_data_classifier": (
        "small_data_classifier",
        "SmallDataClassifierConfig",
        "SmallDataClassifier",
    ),
    "style_transfer": ("style_transfer", "StyleTransferConfig", "StyleTransfer"),
    "transfer_digits": ("transfer_digits", "TransferDigitsConfig", "TransferDigits"),
    "vae": ("vae", "VAEConfig", "VAERecipe"),
    "vgg16_bottleneck": (
        "vgg16_bottleneck",
        "VGG16BottleneckConfig",
        "VGG16Bottleneck",
    ),
    "vgg16_fine_tune": ("vgg16_fine_tune", "VGG16FineTuneConfig", "VGG16FineTune"),
    "yolo": ("yolo", "YoloConfig", "YoloRecipe"),
}


def _unknown(name):
    names = sorted(set(BUILTIN) | set(registered()))
    match = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean '{match[0]}'?" if match else ""
    return UserError(
        f"unknown recipe '{name}'{hint} (available: {', '.join(names)}; a recipe "
        f"of your own is found once the module that registers it with "
        f"@keras_recipes.register is imported)"
    )


def _load(name, part):
    package, config_name, recipe_name = BUILTIN[name]
    module_name = f"keras_recipes.recipes.{package}.{part}"
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UserError(
            f"recipe '{name}' cannot be loaded: {module_name} failed to import "
            f"({type(error).__name__}: {error})"
        ) from error
    return getattr(module, config_name if part == "config" else recipe_name)


def get_recipe(name):
    """Returns the `Recipe` class of a recipe name.

    Args:
        name: A registered or built-in recipe name, as `list_recipes()` gives.

    Returns:
        The `Recipe` subclass.

    Example:

    ```python
    get_recipe("small_data_classifier")
    ```
    """
    custom = registered().get(name)
    if custom is not None:
        return custom
    if name not in BUILTIN:
        raise _unknown(name)
    return _load(name, "recipe")


def get_config_class(name):
    """Returns the config class of a recipe name, without importing the recipe.

    For a built-in recipe this imports only its config module, so it does
    not start TensorFlow.

    Args:
        name: A registered or built-in recipe name.

    Returns:
        The recipe's config dataclass.

    Example:

    ```python
    get_config_class("yolo")().train.epochs
    ```
    """
    custom = registered().get(name)
    if custom is not None:
        return custom.config_class
    if name not in BUILTIN:
        raise _unknown(name)
    return _load(name, "config")


def list_recipes():
    """Returns every recipe with its one-line description, sorted by name.

    A built-in recipe whose config module fails to import is listed with the
    reason instead of its description, so the others still list.

    Returns:
        A `dict` mapping recipe names to descriptions.

    Example:

    ```python
    for name, description in list_recipes().items():
        print(name, description)
    ```
    """
    found = {}
    for name in BUILTIN:
        try:
            found[name] = get_config_class(name).description
        except UserError as error:
            found[name] = f"(broken) {error}"
    for name, cls in registered().items():
        found[name] = cls.description
    return dict(sorted(found.items()))
