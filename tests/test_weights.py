import keras
import numpy as np
import pytest

from keras_recipes.errors import ConfigError, DataError, UserError
from keras_recipes.weights import build_application, keras_cache_dir


def test_random_weights_and_local_file_round_trip(tmp_path):
    base = build_application(
        "vgg16", weights=None, include_top=False, input_shape=(32, 32, 3)
    )
    assert base.name == "vgg16" and base.output.shape[1:] == (1, 1, 512)
    path = tmp_path / "base.weights.h5"
    base.save_weights(path)
    again = build_application(
        "VGG16", weights=str(path), include_top=False, input_shape=(32, 32, 3)
    )
    for saved, loaded in zip(base.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, loaded)


def test_unknown_backbone_suggests_the_nearest():
    with pytest.raises(ConfigError, match="did you mean 'VGG16'"):
        build_application("vgg_16")


def test_missing_local_file(tmp_path):
    with pytest.raises(DataError, match="weights file not found"):
        build_application("VGG16", weights=str(tmp_path / "nope.h5"))


def test_offline_imagenet_names_the_file_and_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    cached = keras_cache_dir() / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert not cached.exists()

    def offline(fname, origin, **kwargs):
        raise Exception(f"URL fetch failure on {origin}: None -- no network")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    import keras.src.applications.vgg16 as vgg16_module

    monkeypatch.setattr(vgg16_module.file_utils, "get_file", offline)
    with pytest.raises(UserError) as error:
        build_application("VGG16", include_top=False)
    message = str(error.value)
    assert cached.name in message and str(tmp_path / "models") in message
    assert "\n" not in message
