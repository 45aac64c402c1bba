"""TensorBoard logging once per epoch, with no per-batch hooks."""

import keras


class EpochTensorBoard(keras.callbacks.TensorBoard):
    """`TensorBoard` logging once per epoch, with no per-batch hooks.

    Keras's callback defines batch hooks even when it only logs per epoch
    (`update_freq="epoch"`, no profiling), and any callback with batch hooks
    makes `fit` call it, after turning the logs into Python numbers, at every
    step. Without them the steps run back to back. It writes the same
    per-epoch summaries as `keras.callbacks.TensorBoard(write_graph=False)`;
    Keras writes the train graph from a batch hook, so for the graph use
    Keras's callback (as `build_callbacks` does when `write_graph` is on).

    Args:
        log_dir: Folder for the event files. Defaults to `"logs"`.
        histogram_freq: Epochs between weight histograms; `0` for none.
            Defaults to `0`.
        write_images: Whether to write the weights as images. Defaults to
            `False`.
        embeddings_freq: Epochs between embedding snapshots; `0` for none.
            Defaults to `0`.
        embeddings_metadata: As for `keras.callbacks.TensorBoard`. Defaults
            to `None`.

    Example:

    ```python
    board = EpochTensorBoard(log_dir="run/logs")
    ```
    """

    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_images=False,
        embeddings_freq=0,
        embeddings_metadata=None,
    ):
        super().__init__(
            log_dir=log_dir,
            histogram_freq=histogram_freq,
            write_graph=False,
            write_images=write_images,
            update_freq="epoch",
            profile_batch=0,
            embeddings_freq=embeddings_freq,
            embeddings_metadata=embeddings_metadata,
        )

    on_train_batch_begin = keras.callbacks.Callback.on_train_batch_begin
    on_train_batch_end = keras.callbacks.Callback.on_train_batch_end
    on_test_batch_begin = keras.callbacks.Callback.on_test_batch_begin
