"""Property tests: the override parser and the strict merge never crash."""

import dataclasses

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_recipes import config as config_lib
from keras_recipes.config import RecipeConfig, param, section
from keras_recipes.errors import ConfigError


@dataclasses.dataclass
class ToyModel:
    units: int = param(8, minimum=1)
    rate: float = param(0.5, minimum=0, below=1)
    name: str = param("toy")
    sizes: list[int] = param([4])


@dataclasses.dataclass
class ToyConfig(RecipeConfig):
    recipe: str = param("toy")
    model: ToyModel = section(ToyModel)


KEYS = [
    "seed",
    "model.units",
    "model.rate",
    "model.name",
    "model.sizes",
    "train.epochs",
    "train.batch_size",
    "optimizer.learning_rate",
    "optimizer.name",
    "optimizer.schedule.name",
    "callbacks.early_stopping.enabled",
]
yaml_scalars = st.one_of(
    st.integers(-5, 5000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=12),
    st.lists(st.integers(-3, 64), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_override_text_parses_or_fails_cleanly(text):
    try:
        config_lib.resolve(ToyConfig, overrides=[text])
    except ConfigError as error:
        assert "\n" not in str(error)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(KEYS + ["model.unitz", "train.epochs.deep", "nope"]), yaml_scalars
)
def test_typed_values_either_validate_or_name_the_key(key, value):
    try:
        config = config_lib.resolve(ToyConfig, overrides={key: value})
    except ConfigError as error:
        assert key.split(".")[0] in str(error) or "recipe" in str(error)
        return
    resolved = config_lib.to_dict(config)
    node = resolved
    for part in key.split("."):
        node = node[part]
    if isinstance(value, bool) or value is None:
        assert node == value
    elif isinstance(value, (int, float)) and not isinstance(node, str):
        assert node == value  # NaN and infinities never get here


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.one_of(st.integers(), st.text(max_size=5), st.none(), st.booleans()),
        lambda children: st.dictionaries(
            st.sampled_from(["model", "train", "units", "epochs", "x", "seed"]),
            children,
            max_size=4,
        ),
        max_leaves=10,
    )
)
def test_any_yaml_document_merges_or_fails_cleanly(document):
    try:
        config_lib.resolve(ToyConfig, [("fuzz.yaml", document)])
    except ConfigError as error:
        assert "\n" not in str(error)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 10_000), st.floats(1e-6, 0.99), st.lists(st.integers(1, 99)))
def test_saved_config_round_trips(epochs, rate, sizes):
    config = config_lib.resolve(
        ToyConfig,
        overrides={"train.epochs": epochs, "model.rate": rate, "model.sizes": sizes},
    )
    text = yaml.safe_dump(config_lib.to_dict(config))
    again = config_lib.resolve(ToyConfig, [("saved", yaml.safe_load(text))])
    assert again == config
