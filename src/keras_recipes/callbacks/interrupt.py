"""A callback that makes sure Ctrl-C stops training."""

import signal
import threading

import keras


class InterruptCheck(keras.callbacks.Callback):
    """Stops training at the next batch after a Ctrl-C that was swallowed.

    Keras's `saving_lib.save_model` opens its weights file inside a bare
    `except:`, which catches `KeyboardInterrupt` too: a Ctrl-C that lands
    while a checkpoint is being saved is lost (7 of 300 in a loop of
    `model.save`), and training runs on to the end. While training, this
    callback's SIGINT handler records every Ctrl-C before raising
    `KeyboardInterrupt` as Python's own handler does, and the next batch
    (or validation batch, or epoch end) raises again if the first was
    swallowed. Outside the main thread, or when someone else has set a
    SIGINT handler, it does nothing. Training that ends in a Ctrl-C leaves
    the handler in place; it acts as Python's own, and the next fit's check
    takes it over.

    Example:

    ```python
    model.fit(x, y, epochs=10, callbacks=[InterruptCheck()])
    ```
    """

    def __init__(self):
        super().__init__()
        self.interrupted = False
        self._previous = None

    def _handle(self, signum, frame):
        self.interrupted = True
        signal.default_int_handler(signum, frame)

    def _check(self, *args, **kwargs):
        if self.interrupted:
            raise KeyboardInterrupt

    def on_train_begin(self, logs=None):
        self.interrupted = False
        if threading.current_thread() is not threading.main_thread():
            return
        current = signal.getsignal(signal.SIGINT)
        # An earlier fit that ended in Ctrl-C left its check's handler behind.
        earlier = isinstance(getattr(current, "__self__", None), InterruptCheck)
        if current is signal.default_int_handler or earlier:
            signal.signal(signal.SIGINT, self._handle)
            self._previous = signal.default_int_handler

    def on_train_end(self, logs=None):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    on_train_batch_begin = _check
    on_test_batch_begin = _check
    on_epoch_end = _check
