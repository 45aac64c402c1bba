"""Labeled Faces in the Wild, through scikit-learn's downloader."""

import warnings
from pathlib import Path

from keras_recipes.errors import DataError


def load_lfw(min_faces_per_person=20, resize=0.5, color=False, data_home=None):
    """Returns the LFW faces of the people with enough images, downloading once.

    scikit-learn fetches the funnelled LFW images (about 200 MB) on first
    use into `data_home/lfw_home` and reads them from there afterwards; the
    face is cropped to the central 125x94 region and scaled by `resize`.
    Without the internet and without a copy, this stops with one line.

    Args:
        min_faces_per_person: Keep the people with at least this many
            images. Defaults to `20` (62 people, 3,023 images).
        resize: Scale of the 125x94 crop. Defaults to `0.5` (62x47).
        color: RGB rather than grayscale. Defaults to `False`.
        data_home: scikit-learn's data folder. Defaults to `None`
            (`~/scikit_learn_data`).

    Returns:
        `(images, labels, names)`: float32 `[N, height, width, channels]` in
        [0, 255], int32 labels, and the people's names.

    Example:

    ```python
    images, labels, names = load_lfw(min_faces_per_person=20)
    ```

    Reference:
        [Huang et al., 2007](http://vis-www.cs.umass.edu/lfw/)
    """
    from sklearn.datasets import fetch_lfw_people, get_data_home

    home = Path(get_data_home(data_home)) / "lfw_home"
    try:
        with warnings.catch_warnings():  # "Retry downloading" lines, offline
            warnings.simplefilter("ignore", UserWarning)
            faces = fetch_lfw_people(
                data_home=data_home,
                min_faces_per_person=min_faces_per_person,
                resize=resize,
                color=color,
            )
    except OSError as error:  # URLError is an OSError.
        reason = getattr(error, "reason", error)
        raise DataError(
            f"cannot download LFW through scikit-learn ({reason}): connect to "
            f"the internet once, or put the lfw_funneled folder in {home}/, or "
            f"use data.source=folder with data.directory=<identity subfolders>"
        ) from None
    images = faces.images.astype("float32") * 255.0
    if not color:
        images = images[..., None]
    return images, faces.target.astype("int32"), [str(n) for n in faces.target_names]
