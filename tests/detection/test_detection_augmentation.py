import numpy as np
import pytest

from keras_recipes.detection.augmentation import augment_detection

NO_COLOUR = {"hue": 0, "saturation": 0, "brightness": 0, "contrast": 0}


def _squares():
    """Black image with a red and a green rectangle; their boxes."""
    image = np.zeros((64, 80, 3), "float32")
    image[10:30, 12:28, 0] = 255
    image[40:56, 50:74, 1] = 255
    boxes = np.array([[12, 10, 28, 30], [50, 40, 74, 56]], "float32")
    return image, boxes, np.array([0, 1, -1], "int32")


def _bounds(image, channel):
    ys, xs = np.nonzero(image[..., channel] > 127)
    return [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]


@pytest.mark.parametrize("seed", range(6))
def test_boxes_follow_the_pixels(seed):
    image, boxes, classes = _squares()
    padded = np.concatenate([boxes, np.zeros((1, 4), "float32")])
    out, out_boxes, out_classes = augment_detection(
        image, padded, classes, [3, seed], scale=0.2, translate=0.08, **NO_COLOUR
    )
    out, out_boxes, out_classes = (np.asarray(a) for a in (out, out_boxes, out_classes))
    assert out_classes[2] == -1  # padding stays padding
    for channel in range(2):
        if out_classes[channel] == -1:
            continue
        np.testing.assert_allclose(out_boxes[channel], _bounds(out, channel), atol=1.0)


def test_same_seed_same_result_and_seeds_differ():
    image, boxes, classes = _squares()
    first = augment_detection(image, boxes, classes[:2], [1, 2])
    again = augment_detection(image, boxes, classes[:2], [1, 2])
    other = augment_detection(image, boxes, classes[:2], [1, 3])
    np.testing.assert_array_equal(np.asarray(first[0]), np.asarray(again[0]))
    np.testing.assert_array_equal(np.asarray(first[1]), np.asarray(again[1]))
    assert not np.array_equal(np.asarray(first[0]), np.asarray(other[0]))


def test_flip_mirrors_boxes():
    image, boxes, classes = _squares()
    flips = 0
    for seed in range(8):
        out, out_boxes, _ = augment_detection(
            image, boxes, classes[:2], [0, seed], scale=0, translate=0, **NO_COLOUR
        )
        out, out_boxes = np.asarray(out), np.asarray(out_boxes)
        mirrored = not np.array_equal(out, image)
        flips += mirrored
        expected = boxes[:, [2, 1, 0, 3]] * [-1, 1, -1, 1] + [80, 0, 80, 0]
        np.testing.assert_allclose(out_boxes, expected if mirrored else boxes)
        if mirrored:
            np.testing.assert_array_equal(out, image[:, ::-1])
    assert 0 < flips < 8


def test_boxes_mostly_outside_are_dropped():
    image = np.zeros((64, 64, 3), "float32")
    boxes = np.array([[0, 20, 10, 40], [20, 20, 44, 44]], "float32")
    dropped = kept_partly = 0
    for seed in range(40):
        _, out_boxes, out_classes = augment_detection(
            image,
            boxes,
            [0, 1],
            [5, seed],
            flip=False,
            scale=0.0,
            translate=0.2,
            **NO_COLOUR,
        )
        out_boxes, out_classes = np.asarray(out_boxes), np.asarray(out_classes)
        assert out_classes[1] == 1  # the central box always stays
        visible = (out_boxes[0, 2] - out_boxes[0, 0]) / 10
        if out_classes[0] == -1:
            dropped += 1
            assert visible < 0.4 + 1e-4
        else:
            kept_partly += visible < 1
            assert visible >= 0.4 - 1e-4
    assert dropped > 0 and kept_partly > 0


def test_colour_changes_leave_boxes_alone():
    image, boxes, classes = _squares()
    image[..., 2] = 90
    out, out_boxes, _ = augment_detection(
        image, boxes, classes[:2], [9, 9], flip=False, scale=0, translate=0
    )
    np.testing.assert_array_equal(np.asarray(out_boxes), boxes)
    out = np.asarray(out)
    assert out.min() >= 0 and out.max() <= 255
    assert np.abs(out - image).mean() > 1
