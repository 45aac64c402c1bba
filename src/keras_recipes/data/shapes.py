"""The embedded `shapes` detection set: synthetic, deterministic, with boxes."""

import numpy as np
from PIL import Image, ImageDraw

SHAPE_CLASSES = ("ellipse", "rectangle", "triangle")
SHAPES_TEST_SEED = 1_000_003
_SUPERSAMPLE = 3
# Objects besides the crossing pair cover at most this fraction of each other.
_MAX_COVER = 0.3


def make_shapes_image(rng, image_size=96, max_objects=5, pair_probability=0.5):
    """Draws one image of coloured shapes on a textured background.

    Each object is an ellipse, a rectangle or a triangle of a random colour,
    size and aspect ratio (tall, square or wide), so box shapes vary and
    anchors matter. With probability `pair_probability` the image also holds
    a crossing pair: a tall and a wide object with (almost) the same centre,
    which therefore fall in one grid cell whatever the grid. Other objects
    cover at most 30% of each other. Every box is tight around its whole shape,
    even where another shape covers part of it.

    Args:
        rng: A `numpy.random.Generator`; the image depends on it alone.
        image_size: Height and width in pixels. Defaults to `96`.
        max_objects: Most objects besides the crossing pair (at least 1).
            Defaults to `5`.
        pair_probability: Chance of a crossing pair. Defaults to `0.5`.

    Returns:
        `(image, boxes, classes)`: a uint8 array `[size, size, 3]`, float32
        boxes `[N, 4]` in `"xyxy"` pixels and int32 class ids `[N]` indexing
        `SHAPE_CLASSES`, in drawing order.

    Example:

    >>> image, boxes, classes = make_shapes_image(np.random.default_rng(0))
    >>> image.shape, boxes.shape[1], len(classes) == len(boxes)
    ((96, 96, 3), 4, True)
    """
    if image_size < 16:
        raise ValueError(
            f"`image_size` must be at least 16. Received: image_size={image_size}"
        )
    if max_objects < 1:
        raise ValueError(
            f"`max_objects` must be at least 1. Received: max_objects={max_objects}"
        )
    background = _background(rng, image_size)
    scale = image_size / 96.0
    boxes, classes = [], []
    if rng.uniform() < pair_probability:
        center = rng.uniform(22 * scale, image_size - 22 * scale, size=2)
        for aspect in (rng.uniform(0.3, 0.5), rng.uniform(2.0, 3.3)):
            size = rng.uniform(20, 30) * scale
            offset = rng.uniform(-1.5, 1.5, size=2) * scale
            boxes.append(_box(center + offset, size, aspect, image_size))
            classes.append(int(rng.integers(len(SHAPE_CLASSES))))
    for _ in range(int(rng.integers(1, max_objects + 1))):
        for _attempt in range(20):
            size = rng.uniform(11, 30) * scale
            aspect = float(np.exp(rng.uniform(-0.9, 0.9)))
            width, height = size * np.sqrt(aspect), size / np.sqrt(aspect)
            center = rng.uniform(
                [width / 2 + 1, height / 2 + 1],
                [image_size - width / 2 - 1, image_size - height / 2 - 1],
            )
            box = _box(center, size, aspect, image_size)
            if all(_cover(box, other) <= _MAX_COVER for other in boxes):
                boxes.append(box)
                classes.append(int(rng.integers(len(SHAPE_CLASSES))))
                break
    canvas = Image.fromarray(background).resize(
        (image_size * _SUPERSAMPLE,) * 2, Image.Resampling.NEAREST
    )
    draw = ImageDraw.Draw(canvas)
    for box, label in zip(boxes, classes, strict=True):
        _draw_shape(draw, box, SHAPE_CLASSES[label], _colour(rng, background, box))
    image = canvas.resize((image_size,) * 2, Image.Resampling.BOX)
    noisy = np.asarray(image, "float32") + rng.normal(0, 6, (image_size,) * 2 + (3,))
    return (
        np.clip(np.round(noisy), 0, 255).astype("uint8"),
        np.array(boxes, "float32").reshape(-1, 4),
        np.array(classes, "int32"),
    )


def load_shapes(num_train=2000, num_test=300, image_size=96, seed=0, **kwargs):
    """Generates the `shapes` detection set with a fixed held-out split.

    Image `i` of the training split depends only on `(seed, i)`, so a larger
    `num_train` extends a smaller one. The test split uses its own fixed
    seed, so it is the same whatever `seed` is and never overlaps training.

    Args:
        num_train: Training images. Defaults to `2000`.
        num_test: Held-out test images. Defaults to `300`.
        image_size: Height and width in pixels. Defaults to `96`.
        seed: Seed of the training images. Defaults to `0`.
        **kwargs: Passed to `make_shapes_image` (`max_objects`,
            `pair_probability`).

    Returns:
        `((x_train, y_train), (x_test, y_test), class_names)`: uint8 images
        `[N, size, size, 3]`, and per image a dict with `"boxes"` (`[K, 4]`
        float32 `"xyxy"` pixels) and `"classes"` (`[K]` int32), the format of
        `evaluate_detections`.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test), names = load_shapes(200, 50)
    y_train[0]["boxes"]  # [[x1, y1, x2, y2], ...]
    ```
    """
    splits = []
    for count, split_seed in ((num_train, seed), (num_test, SHAPES_TEST_SEED)):
        images, annotations = [], []
        for index in range(count):
            rng = np.random.default_rng([split_seed, index])
            image, boxes, classes = make_shapes_image(rng, image_size, **kwargs)
            images.append(image)
            annotations.append({"boxes": boxes, "classes": classes})
        shape = (count, image_size, image_size, 3)
        splits.append(
            (np.stack(images) if images else np.zeros(shape, "uint8"), annotations)
        )
    return splits[0], splits[1], list(SHAPE_CLASSES)


def _box(center, size, aspect, image_size):
    width, height = size * np.sqrt(aspect), size / np.sqrt(aspect)
    x1, y1 = center[0] - width / 2, center[1] - height / 2
    x1 = float(np.clip(x1, 0, image_size - width))
    y1 = float(np.clip(y1, 0, image_size - height))
    return [x1, y1, x1 + float(width), y1 + float(height)]


def _cover(a, b):
    """Intersection over the smaller of the two areas."""
    width = max(min(a[2], b[2]) - max(a[0], b[0]), 0.0)
    height = max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return width * height / smaller


def _background(rng, image_size):
    """A smooth two-colour gradient with a few faint stripes."""
    start, end = rng.uniform(40, 215, size=(2, 3))
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:image_size, 0:image_size] / image_size
    ramp = (np.cos(angle) * xs + np.sin(angle) * ys + 1.5) / 3.0
    image = start + (end - start) * ramp[..., None]
    frequency = rng.uniform(2, 6)
    image += (
        12 * np.sin(2 * np.pi * frequency * (xs + ys * rng.uniform(-1, 1)))[..., None]
    )
    return np.clip(image, 0, 255).astype("uint8")


def _colour(rng, background, box):
    """A random colour far enough from the background under the box."""
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    under = background[y1 : max(y2, y1 + 1), x1 : max(x2, x1 + 1)]
    mean = under.reshape(-1, 3).mean(axis=0)
    for _ in range(50):
        colour = rng.uniform(0, 255, size=3)
        if np.abs(colour - mean).sum() > 200:
            break
    return tuple(int(c) for c in colour)


def _draw_shape(draw, box, name, colour):
    x1, y1, x2, y2 = (v * _SUPERSAMPLE for v in box)
    # PIL fills the pixel at the right and bottom edge too; stop one short.
    right, bottom = x2 - 1, y2 - 1
    if name == "ellipse":
        draw.ellipse([x1, y1, right, bottom], fill=colour)
    elif name == "rectangle":
        draw.rectangle([x1, y1, right, bottom], fill=colour)
    else:
        apex = x1 + (right - x1) * 0.5
        draw.polygon([(apex, y1), (right, bottom), (x1, bottom)], fill=colour)
