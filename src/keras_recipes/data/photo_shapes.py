"""Shapes drawn on real photographs: a seeded detection set as a VOC folder.

A detection set made differently from the embedded `shapes` set: crops of
the photographs shipped with scikit-image as backgrounds, images of many
sizes (120-220 px wide, 90-200 px high by default), ellipses, rectangles
and triangles (pointing up or down) in random colours with an outline of
the opposite colour, drawn at twice the size and averaged down. The test
images use photographs never seen in training (`TEST_PHOTOS`), so the set
measures how well a detector carries over to new backgrounds. The classes
are `SHAPE_CLASSES`. The same seed always gives the same files.
"""

import numpy as np
from PIL import Image, ImageDraw

from keras_recipes.data.annotations.voc import write_voc
from keras_recipes.data.shapes import SHAPE_CLASSES

# scikit-image photographs behind the training and validation images.
TRAIN_PHOTOS = (
    "astronaut",
    "chelsea",
    "rocket",
    "immunohistochemistry",
    "hubble_deep_field",
    "camera",
    "coins",
    "grass",
    "gravel",
    "moon",
    "page",
    "cell",
    "horse",
)
# Photographs behind the test images only.
TEST_PHOTOS = ("coffee", "brick", "clock", "retina")
# Objects cover at most this fraction of the smaller of two boxes.
_MAX_COVER = 0.3


def _photo(name):
    import skimage.data

    image = getattr(skimage.data, name)()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return image[..., :3].astype("uint8")


def _covers_too_much(box, area, boxes):
    inter = [
        max(0, min(box[2], b[2]) - max(box[0], b[0]))
        * max(0, min(box[3], b[3]) - max(box[1], b[1]))
        for b in boxes
    ]
    return any(
        i > _MAX_COVER * min(area, (b[2] - b[0]) * (b[3] - b[1]))
        for i, b in zip(inter, boxes, strict=True)
    )


def make_photo_shapes_image(
    rng, photos, width_range=(120, 220), height_range=(90, 200)
):
    """Draws one to four shapes on a crop of a photograph.

    The image size is drawn from the two ranges, a crop of one of `photos`
    with the image's aspect ratio is stretched to it, and each shape is
    drawn unless it would cover more than 30% of the smaller of its box and
    an earlier box. Shapes are drawn at twice the size and box-averaged
    down, so their edges are smooth. Every box is tight around its shape.

    Args:
        rng: A `numpy.random.Generator`; the image depends on it (and on
            `photos`) alone.
        photos: A list of uint8 RGB arrays `[height, width, 3]` to crop
            backgrounds from.
        width_range: Smallest and largest image width in pixels, both
            included. Defaults to `(120, 220)`.
        height_range: Smallest and largest image height in pixels, both
            included. Defaults to `(90, 200)`.

    Returns:
        `(image, annotation)`: a uint8 array `[height, width, 3]` and a
        dict with float32 `"boxes"` `[N, 4]` in `"xyxy"` pixels and int32
        `"classes"` `[N]` indexing `SHAPE_CLASSES`.

    Example:

    ```python
    import skimage.data

    rng = np.random.default_rng(0)
    image, annotation = make_photo_shapes_image(rng, [skimage.data.astronaut()])
    ```
    """
    width = int(rng.integers(width_range[0], width_range[1] + 1))
    height = int(rng.integers(height_range[0], height_range[1] + 1))
    photo = photos[rng.integers(len(photos))]
    crop_h = int(rng.integers(min(80, photo.shape[0]), photo.shape[0] + 1))
    crop_w = int(min(photo.shape[1], crop_h * width / height))
    top = int(rng.integers(0, photo.shape[0] - crop_h + 1))
    left = int(rng.integers(0, photo.shape[1] - crop_w + 1))
    crop = Image.fromarray(photo[top : top + crop_h, left : left + crop_w])
    canvas = crop.resize((width * 2, height * 2), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(canvas)
    boxes, classes = [], []
    for _ in range(int(rng.integers(1, 5))):
        side = rng.uniform(0.14, 0.4) * min(width, height)
        aspect = float(np.exp(rng.uniform(-0.7, 0.7)))
        w, h = side * np.sqrt(aspect), side / np.sqrt(aspect)
        x1, y1 = rng.uniform(0, width - w), rng.uniform(0, height - h)
        box = [x1, y1, x1 + w, y1 + h]
        if _covers_too_much(box, w * h, boxes):
            continue
        label = int(rng.integers(len(SHAPE_CLASSES)))
        fill = tuple(int(c) for c in rng.integers(0, 256, 3))
        outline = tuple(255 - c for c in fill)
        a, b, c, d = (2 * v for v in box)
        corners = [a, b, c - 1, d - 1]
        if label == 0:
            draw.ellipse(corners, fill=fill, outline=outline, width=4)
        elif label == 1:
            draw.rectangle(corners, fill=fill, outline=outline, width=4)
        else:
            apex_down = rng.uniform() < 0.5
            tip, base = (d - 1, b) if apex_down else (b, d - 1)
            draw.polygon(
                [((a + c) / 2, tip), (c - 1, base), (a, base)],
                fill=fill,
                outline=outline,
                width=4,
            )
        boxes.append(box)
        classes.append(label)
    image = np.asarray(canvas.resize((width, height), Image.Resampling.BOX))
    return image, {
        "boxes": np.array(boxes, "float32").reshape(-1, 4),
        "classes": np.array(classes, "int32"),
    }


def write_photo_voc(
    root,
    num_train=900,
    num_val=100,
    num_test=300,
    seed=0,
    width_range=(120, 220),
    height_range=(90, 200),
):
    """Writes the photo-background shapes set as a Pascal VOC folder.

    The `train` and `val` images have `TRAIN_PHOTOS` behind them, the
    `test` images `TEST_PHOTOS`. Images are numbered across the splits
    (train first, then val, then test) and drawn one after the other from
    one generator, so a seed and the three counts fix every file.

    Args:
        root: The VOC folder to write; created if needed. Split lists are
            appended to, so give a new or empty folder.
        num_train: Training images. Defaults to `900`.
        num_val: Validation images. Defaults to `100`.
        num_test: Test images. Defaults to `300`.
        seed: Seed of the generator. Defaults to `0`.
        width_range: Smallest and largest image width in pixels, both
            included. Defaults to `(120, 220)`.
        height_range: Smallest and largest image height in pixels, both
            included. Defaults to `(90, 200)`.

    Returns:
        `root`, as given.

    Example:

    ```python
    root = write_photo_voc("data/photo_voc", seed=2026)
    result = keras_recipes.run(
        "yolo",
        {"data.source": "folder", "data.format": "voc", "data.directory": root},
    )
    ```
    """
    rng = np.random.default_rng(seed)
    train_photos = [_photo(name) for name in TRAIN_PHOTOS]
    test_photos = [_photo(name) for name in TEST_PHOTOS]
    first = 0
    for split, count, photos in (
        ("train", num_train, train_photos),
        ("val", num_val, train_photos),
        ("test", num_test, test_photos),
    ):
        for index in range(count):
            image, annotation = make_photo_shapes_image(
                rng, photos, width_range, height_range
            )
            write_voc(
                root,
                split,
                [image],
                [annotation],
                list(SHAPE_CLASSES),
                first_id=first + index,
            )
        first += count
    return root
