"""Face verification and recognition on top of a trained embedding."""

from keras_recipes.faces.pairs import sample_pairs
from keras_recipes.faces.projector import write_projector
from keras_recipes.faces.recognition import (
    UNKNOWN,
    EnrollmentDatabase,
    embed_images,
    enroll_one_per_identity,
    one_shot_accuracy,
    open_set_accuracy,
)
from keras_recipes.faces.verification import (
    best_threshold,
    equal_error_rate,
    pair_distances,
    roc_auc,
    roc_curve,
    validation_rate,
    verification_accuracy,
    verification_report,
)

__all__ = [
    "UNKNOWN",
    "EnrollmentDatabase",
    "best_threshold",
    "embed_images",
    "enroll_one_per_identity",
    "equal_error_rate",
    "one_shot_accuracy",
    "open_set_accuracy",
    "pair_distances",
    "roc_auc",
    "roc_curve",
    "sample_pairs",
    "validation_rate",
    "verification_accuracy",
    "verification_report",
    "write_projector",
]
