import numpy as np
import pytest

from keras_recipes.data.shapes import (
    SHAPE_CLASSES,
    _background,
    load_shapes,
    make_shapes_image,
)


@pytest.fixture(scope="module")
def shapes():
    return load_shapes(60, 40)


def test_same_seed_same_images_and_prefixes_extend(shapes):
    (x_train, y_train), (x_test, y_test), names = shapes
    (x_small, y_small), (x_test2, _), _ = load_shapes(20, 40)
    np.testing.assert_array_equal(x_small, x_train[:20])
    for a, b in zip(y_small, y_train[:20], strict=True):
        np.testing.assert_array_equal(a["boxes"], b["boxes"])
    np.testing.assert_array_equal(x_test2, x_test)
    assert names == list(SHAPE_CLASSES)


def test_test_split_does_not_depend_on_the_seed(shapes):
    (x_train, _), (x_test, _), _ = shapes
    (x_other, _), (x_test_other, _), _ = load_shapes(5, 40, seed=7)
    np.testing.assert_array_equal(x_test_other, x_test)
    assert not np.array_equal(x_other, x_train[:5])


def test_several_objects_and_classes_per_image(shapes):
    (x_train, y_train), _, _ = shapes
    assert x_train.shape == (60, 96, 96, 3) and x_train.dtype == np.uint8
    counts = [len(y["classes"]) for y in y_train]
    assert min(counts) >= 1 and np.mean(counts) >= 3 and max(counts) >= 6
    classes = np.concatenate([y["classes"] for y in y_train])
    assert set(classes.tolist()) == {0, 1, 2}
    assert np.mean([len(set(y["classes"].tolist())) >= 2 for y in y_train]) > 0.5
    for annotation in y_train:
        boxes = annotation["boxes"]
        assert np.all(boxes[:, 2:] > boxes[:, :2]) and boxes.min() >= 0
        assert boxes.max() <= 96


def test_crossing_pairs_share_a_grid_cell_with_different_shapes(shapes):
    (_, y_train), _, _ = shapes
    pairs = 0
    for annotation in y_train:
        boxes = annotation["boxes"]
        centers = (boxes[:, :2] + boxes[:, 2:]) / 2
        cells = np.floor(centers / 8).astype(int)  # a 12 x 12 grid
        aspect = (boxes[:, 2] - boxes[:, 0]) / (boxes[:, 3] - boxes[:, 1])
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                same_cell = np.array_equal(cells[i], cells[j])
                if (
                    same_cell
                    and max(aspect[i], aspect[j]) / min(aspect[i], aspect[j]) > 3
                ):
                    pairs += 1
    assert pairs >= 10  # so one anchor per cell would lose objects


def test_boxes_are_tight_around_the_drawn_shapes():
    for seed in range(10):
        image, boxes, _ = make_shapes_image(
            np.random.default_rng(seed), max_objects=1, pair_probability=0
        )
        # The background is the generator's first draw: redraw it alone.
        background = _background(np.random.default_rng(seed), 96).astype(float)
        changed = np.abs(image - background).sum(-1) > 100
        ys, xs = np.nonzero(changed)
        ((x1, y1, x2, y2),) = boxes
        inside = (xs >= x1 - 1) & (xs < x2 + 1) & (ys >= y1 - 1) & (ys < y2 + 1)
        assert inside.all()
        # ... and reaches the box's left, right and bottom edges (all shapes
        # touch those; a triangle's apex is a single point at the top).
        assert xs.min() <= x1 + 1.5 and xs.max() >= x2 - 2.5 and ys.max() >= y2 - 2.5


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="image_size"):
        make_shapes_image(np.random.default_rng(0), image_size=8)
    with pytest.raises(ValueError, match="max_objects"):
        make_shapes_image(np.random.default_rng(0), max_objects=0)
