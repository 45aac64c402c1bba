import numpy as np
import pytest

from keras_recipes.detection.augmentation import MIN_VISIBLE_FRACTION
from keras_recipes.detection.mosaic import mosaic

HEIGHT, WIDTH = 48, 64


def _four_images(seed):
    """Four images with two rectangles each, every rectangle its own value."""
    rng = np.random.default_rng(seed)
    images = np.zeros((4, HEIGHT, WIDTH, 3), "float32")
    boxes = np.zeros((4, 3, 4), "float32")
    classes = np.full((4, 3), -1, "int32")
    for image in range(4):
        # Two rectangles side by side, so they never overlap.
        for slot in range(2):
            x0 = rng.integers(slot * WIDTH // 2, (slot + 1) * WIDTH // 2 - 4)
            x1 = rng.integers(x0 + 2, (slot + 1) * WIDTH // 2 + 1)
            y0 = rng.integers(0, HEIGHT - 3)
            y1 = rng.integers(y0 + 2, HEIGHT + 1)
            images[image, y0:y1, x0:x1, 0] = 10 * (2 * image + slot + 1)
            boxes[image, slot] = [x0, y0, x1, y1]
            classes[image, slot] = slot
    return images, boxes, classes


@pytest.mark.parametrize("seed", range(12))
def test_boxes_of_the_window_are_the_moved_boxes(seed):
    images, boxes, classes = _four_images(seed)
    window, out_boxes, out_classes = (
        np.asarray(a) for a in mosaic(images, boxes, classes, [5, seed])
    )
    assert window.shape == (HEIGHT, WIDTH, 3)
    assert out_boxes.shape == (12, 4) and out_classes.shape == (12,)
    kept = 0
    for image in range(4):
        for slot in range(3):
            index = 3 * image + slot
            if classes[image, slot] == -1:
                assert out_classes[index] == -1  # padding stays padding
                continue
            value = 10 * (2 * image + slot + 1)
            ys, xs = np.nonzero(window[..., 0] == value)
            x0, y0, x1, y1 = boxes[image, slot]
            shown = len(xs) / ((x1 - x0) * (y1 - y0))
            if shown < MIN_VISIBLE_FRACTION:
                assert out_classes[index] == -1
                continue
            kept += 1
            assert out_classes[index] == classes[image, slot]
            bounds = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
            np.testing.assert_array_equal(out_boxes[index], bounds)
    assert kept >= 1


def test_window_is_a_slice_of_the_tiled_images():
    images, boxes, classes = _four_images(0)
    rng = np.random.default_rng(1)
    images = rng.uniform(0, 255, images.shape).astype("float32")
    canvas = np.concatenate(
        [np.concatenate(images[:2], 1), np.concatenate(images[2:], 1)], 0
    )
    corners = set()
    for seed in range(20):
        window = np.asarray(mosaic(images, boxes, classes, [9, seed])[0])
        matches = [
            (top, left)
            for top in range(HEIGHT + 1)
            for left in range(WIDTH + 1)
            if np.array_equal(canvas[top : top + HEIGHT, left : left + WIDTH], window)
        ]
        assert len(matches) == 1
        corners.add(matches[0])
    assert len(corners) > 10  # the window moves with the seed


def test_same_seed_same_mosaic():
    images, boxes, classes = _four_images(3)
    first = mosaic(images, boxes, classes, [1, 2])
    again = mosaic(images, boxes, classes, [1, 2])
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
