import dataclasses

import pytest

from keras_recipes import config as config_lib
from keras_recipes.config import RecipeConfig, param, section
from keras_recipes.errors import ConfigError
from keras_recipes.saving import write_text_atomic


@dataclasses.dataclass
class ToyModel:
    units: int = param(8, minimum=1)
    dropout: float = param(0.5, minimum=0, below=1)
    filters: list[int] = param([4, 8])


@dataclasses.dataclass
class ToyConfig(RecipeConfig):
    recipe: str = param("toy")
    model: ToyModel = section(ToyModel)


def test_defaults_then_yaml_then_overrides():
    layer = {"train": {"epochs": 4, "batch_size": 16}, "model": {"units": 32}}
    config = config_lib.resolve(
        ToyConfig, [("toy.yaml", layer)], ["train.epochs=7", "model.filters=[1, 2, 3]"]
    )
    assert config.train.epochs == 7  # override beats YAML
    assert config.train.batch_size == 16  # YAML beats default
    assert config.model.units == 32
    assert config.model.filters == [1, 2, 3]
    assert config.optimizer.name == "adam"  # untouched default


def test_unknown_key_names_it_and_suggests_the_nearest():
    with pytest.raises(ConfigError) as error:
        config_lib.resolve(ToyConfig, overrides=["train.epochz=3"])
    message = str(error.value)
    assert "train.epochz" in message and "did you mean 'epochs'" in message
    assert "\n" not in message


def test_unknown_yaml_key_names_the_file():
    with pytest.raises(ConfigError, match=r"'model\.unitz' in my\.yaml.*'units'"):
        config_lib.resolve(ToyConfig, [("my.yaml", {"model": {"unitz": 3}})])


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("train.epochs=three", "must be int"),
        ("train.epochs=0", "must be >= 1"),
        ("model.dropout=1.0", "must be < 1"),
        ("optimizer.learning_rate=-0.1", "must be >= 0"),
        ("optimizer.name=adamm", "did you mean 'adam'"),
        ("train.epochs=2.5", "must be int"),
        ("callbacks.early_stopping.enabled=maybe", "must be bool"),
        ("train=3", "is a section"),
        ("train.epochs.x=3", "is a value, not a section"),
        ("noequals", "key=value"),
        ("optimizer.learning_rate=.nan", "finite"),
        ("model.dropout=-.inf", "finite"),
    ],
)
def test_bad_values_are_named(override, fragment):
    with pytest.raises(ConfigError, match=fragment):
        config_lib.resolve(ToyConfig, overrides=[override])


def test_values_are_typed():
    config = config_lib.resolve(
        ToyConfig,
        overrides={"optimizer.learning_rate": "1e-3", "train.steps_per_epoch": None},
    )
    assert config.optimizer.learning_rate == pytest.approx(1e-3)
    assert isinstance(config.optimizer.learning_rate, float)
    assert config.train.steps_per_epoch is None
    assert config_lib.parse_override("a.b=[1, 2]") == ("a.b", [1, 2])
    assert config_lib.parse_override("a.b=true") == ("a.b", True)
    assert config_lib.parse_override("a.b=x=y") == ("a.b", "x=y")


def test_cross_field_checks():
    with pytest.raises(ConfigError, match="nesterov"):
        config_lib.resolve(ToyConfig, overrides=["optimizer.nesterov=true"])
    with pytest.raises(ConfigError, match="boundaries"):
        config_lib.resolve(ToyConfig, overrides=["optimizer.schedule.name=step"])
    with pytest.raises(ConfigError, match="reduce_lr_on_plateau"):
        config_lib.resolve(
            ToyConfig,
            overrides=[
                "optimizer.schedule.name=cosine",
                "callbacks.reduce_lr_on_plateau.enabled=true",
            ],
        )


def test_saved_config_resolves_to_the_same_tree(tmp_path):
    config = config_lib.resolve(
        ToyConfig, overrides=["train.epochs=5", "optimizer.learning_rate=3e-4"]
    )
    path = config_lib.save_config(config, tmp_path / "config.yaml")
    again = config_lib.resolve(ToyConfig, [(str(path), config_lib.read_yaml(path))])
    assert again == config


def test_read_yaml_reports_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("train:\n  epochs: [1, 2\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml line \d"):
        config_lib.read_yaml(path)
    with pytest.raises(ConfigError, match="not found"):
        config_lib.read_yaml(tmp_path / "missing.yaml")


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    write_text_atomic(tmp_path / "a.txt", "one")
    write_text_atomic(tmp_path / "a.txt", "two")
    assert (tmp_path / "a.txt").read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_string_fields_take_the_text_as_written():
    config = config_lib.resolve(
        ToyConfig, overrides=["recipe=toy", "callbacks.early_stopping.monitor=no"]
    )
    assert config.callbacks.early_stopping.monitor == "no"
    with pytest.raises(ConfigError, match="must be str"):
        config_lib.resolve(ToyConfig, overrides={"recipe": False})


def test_atomic_writes_follow_the_umask(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        path = write_text_atomic(tmp_path / "config.yaml", "seed: 1\n")
        assert path.stat().st_mode & 0o777 == 0o644
        os.umask(0o077)
        path = write_text_atomic(tmp_path / "metrics.json", "{}\n")
        assert path.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)
