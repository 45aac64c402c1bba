"""Character-level language model: an LSTM, GRU or simple RNN that writes text.

`config` holds the settings (no TensorFlow) and `recipe` the `CharRNN`
recipe: the text cut into sequences, the recurrent network, bits per
character, and a sample of its writing in `samples.txt`.

Run it with `python -m keras_recipes run char_rnn` (or
`python -m keras_recipes.recipes.char_rnn --set train.epochs=1`), then
`python -m keras_recipes sample <run> --temperature 0.8`.
"""
