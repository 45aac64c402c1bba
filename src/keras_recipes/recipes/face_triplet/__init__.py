"""FaceNet-style embeddings: triplet loss, verification and one-shot recognition.

`config` holds the settings (no TensorFlow), `data` the identities and the
P x K batches, `callbacks` the per-epoch verification score, `evaluation`
the verification and recognition scores, `export` the run's enrolment
database and projector files, `figures` the PNGs, and `recipe` the
`FaceTriplet` recipe that wires them.

Run it with `python -m keras_recipes run face_triplet` or
`python -m keras_recipes.recipes.face_triplet --set train.epochs=5`.
"""
