import doctest

import numpy as np
import pytest
from keras import ops

from keras_recipes.data import letterbox, shapes
from keras_recipes.detection import decode, targets


@pytest.mark.parametrize("module", [decode, targets, shapes, letterbox])
def test_docstring_examples_run(module):
    result = doctest.testmod(
        module,
        extraglobs={"np": np, "ops": ops},
        optionflags=doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 0
    assert result.failed == 0
