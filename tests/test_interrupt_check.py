import os
import signal

import keras
import numpy as np
import pytest

from keras_recipes.callbacks import InterruptCheck


class SwallowedCtrlC(keras.callbacks.Callback):
    """Sends Ctrl-C at the end of epoch 2 inside a bare `except:`, as Keras's
    saving code does when a Ctrl-C lands during a checkpoint save."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            try:
                os.kill(os.getpid(), signal.SIGINT)
            except:  # noqa: E722
                pass


@pytest.fixture(autouse=True)
def python_s_own_sigint_handler():
    # A shell that starts the tests in the background ignores Ctrl-C.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _fit(callbacks):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((8, 4), "float32")
    return model, model.fit(x, x[:, :1], epochs=6, verbose=0, callbacks=callbacks)


def test_a_swallowed_ctrl_c_still_stops_training():
    # Without the check, the swallowed Ctrl-C is lost and all 6 epochs run.
    _, history = _fit([SwallowedCtrlC()])
    assert len(history.epoch) == 6
    epochs = keras.callbacks.History()
    with pytest.raises(KeyboardInterrupt):
        _fit([epochs, SwallowedCtrlC(), InterruptCheck()])
    assert epochs.epoch == [0, 1]  # stopped at the end of the epoch it came in


def test_a_handler_set_by_someone_else_is_left_alone():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _, history = _fit([SwallowedCtrlC(), InterruptCheck()])
    assert len(history.epoch) == 6  # the Ctrl-C was ignored, as asked
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_the_handler_is_python_s_own_again_after_training():
    _fit([InterruptCheck()])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    # After a fit that ended in Ctrl-C, the next fit's check takes over.
    with pytest.raises(KeyboardInterrupt):
        _fit([SwallowedCtrlC(), InterruptCheck()])
    _fit([InterruptCheck()])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
