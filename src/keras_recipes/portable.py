"""The Keras objects of this package, for loading a model that needs them.

Plain `keras.saving.load_model` rebuilds a class that is not Keras's own
only if the module that registers it was imported first. The models the
recipes save in `model.keras` hold Keras's classes only; a `vae` run's
training checkpoint holds its `VAE`, whose training step is code of this
package. `custom_objects()` gives every class and function the package
registers, for that file and for files saved by earlier versions of the
package.
"""

import keras

# Imported for what they register with Keras.
import keras_recipes.data.image_augmentation  # noqa: F401
import keras_recipes.detection.decode  # noqa: F401
import keras_recipes.detection.localization  # noqa: F401
import keras_recipes.detection.loss  # noqa: F401
import keras_recipes.losses.triplet  # noqa: F401
import keras_recipes.models.char_rnn  # noqa: F401
import keras_recipes.models.embedding  # noqa: F401
import keras_recipes.models.transfer  # noqa: F401
import keras_recipes.models.vae  # noqa: F401
import keras_recipes.style.model  # noqa: F401

_PREFIX = "keras_recipes>"


def custom_objects():
    """Returns every Keras class and function this package registers.

    Each is registered with
    `keras.saving.register_keras_serializable(package="keras_recipes")`,
    under the name `"keras_recipes>ClassName"` that saved configs record.

    Returns:
        A `dict` from registered name to the class or function, for the
        `custom_objects` argument of `keras.saving.load_model`.

    Example:

    ```python
    import keras
    import keras_recipes

    model = keras.saving.load_model(
        "runs/vae/x/checkpoints/best.keras",
        custom_objects=keras_recipes.custom_objects(),
    )
    ```
    """
    registered = keras.saving.get_custom_objects()
    return {
        name: value for name, value in registered.items() if name.startswith(_PREFIX)
    }
