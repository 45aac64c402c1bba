import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import ops

from keras_recipes.detection import box_iou
from keras_recipes.detection.iou import IOU_KINDS, aligned_box_iou


def iou(boxes1, boxes2, **kwargs):
    return ops.convert_to_numpy(box_iou(boxes1, boxes2, **kwargs))


def test_box_iou_matches_hand_values():
    boxes1 = np.array([[0.0, 0.0, 4.0, 4.0], [0.0, 0.0, 2.0, 2.0]])
    boxes2 = np.array([[2.0, 0.0, 6.0, 4.0], [0.0, 0.0, 4.0, 4.0], [5, 5, 6, 6]])
    expected = [[8 / 24, 1.0, 0.0], [0.0, 4 / 16, 0.0]]
    np.testing.assert_allclose(iou(boxes1, boxes2), expected)


def test_box_iou_reads_other_formats_and_leading_axes():
    boxes1 = np.array([[[0.0, 0.0, 4.0, 4.0]], [[1.0, 1.0, 2.0, 2.0]]])
    boxes2 = np.array([[[2.0, 2.0, 4.0, 4.0], [0.0, 0.0, 1.0, 1.0]]])
    result = iou(boxes1, boxes2, box_format="center_xywh")
    assert result.shape == (2, 1, 2)
    # As xyxy: [-2, -2, 2, 2], [0, 0, 2, 2] against [0, 0, 4, 4], [-.5, -.5, .5, .5].
    expected = [[4 / 28, 1 / 16], [4 / 16, 0.25 / 4.75]]
    np.testing.assert_allclose(result[:, 0], expected)


def test_box_iou_of_empty_and_flipped_boxes_is_zero():
    boxes = np.array([[1.0, 1.0, 1.0, 5.0], [3.0, 3.0, 0.0, 0.0], [0, 0, 4, 4]])
    result = iou(boxes, boxes)
    np.testing.assert_array_equal(result, [[0, 0, 0], [0, 0, 0], [0, 0, 1]])


def test_box_iou_rejects_bad_arguments():
    with pytest.raises(ValueError, match="Received: box_format='cxcywh'"):
        box_iou(np.zeros((1, 4)), np.zeros((1, 4)), box_format="cxcywh")
    with pytest.raises(ValueError, match=r"Received: boxes1.shape=\(4,\)"):
        box_iou(np.zeros(4), np.zeros((1, 4)))


coordinates = st.floats(-1000, 1000, allow_nan=False)
# Sizes are zero or at least 1e-3: a smaller area would be a float32 subnormal,
# which TensorFlow flushes to zero on CPU.
sizes = st.one_of(st.just(0.0), st.floats(1e-3, 1000))
box_lists = st.lists(
    st.tuples(coordinates, coordinates, sizes, sizes), min_size=1, max_size=6
)


def to_xyxy(rows, dtype="float32"):
    return np.array([[x, y, x + w, y + h] for x, y, w, h in rows], dtype=dtype)


@settings(max_examples=40, deadline=None)
@given(box_lists, box_lists)
def test_box_iou_is_symmetric_and_bounded(rows1, rows2):
    boxes1, boxes2 = to_xyxy(rows1), to_xyxy(rows2)
    forward = iou(boxes1, boxes2)
    assert forward.shape == (len(rows1), len(rows2))
    assert np.all(np.isfinite(forward))
    assert np.all((forward >= 0) & (forward <= 1))
    np.testing.assert_array_equal(forward, iou(boxes2, boxes1).T)


@settings(max_examples=40, deadline=None)
@given(box_lists)
def test_box_iou_with_itself_is_one_for_positive_area(rows):
    boxes = to_xyxy(rows)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    diagonal = np.diagonal(iou(boxes, boxes))
    np.testing.assert_array_equal(diagonal, np.where(area > 0, 1.0, 0.0))


@settings(max_examples=40, deadline=None)
@given(box_lists, st.lists(st.tuples(coordinates, coordinates), min_size=1))
def test_box_iou_with_zero_area_boxes_is_zero_not_nan(rows, points):
    boxes = to_xyxy(rows, dtype="float64")
    degenerate = np.array([[x, y, x, y] for x, y in points])
    lines = np.array([[x, y, x, y + 10.0] for x, y in points])
    for empty in (degenerate, lines):
        np.testing.assert_array_equal(iou(boxes, empty), 0.0)
        np.testing.assert_array_equal(iou(empty, empty), 0.0)


def _reference_variant(a, b, kind):
    """One pair's IoU variant, term by term from the papers, in float64."""
    inter_w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    inter_h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = inter_w * inter_h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    iou = inter / union
    hull_w = max(a[2], b[2]) - min(a[0], b[0])
    hull_h = max(a[3], b[3]) - min(a[1], b[1])
    if kind == "iou":
        return iou
    if kind == "giou":
        return iou - (hull_w * hull_h - union) / (hull_w * hull_h)
    dx = (a[0] + a[2] - b[0] - b[2]) / 2
    dy = (a[1] + a[3] - b[1] - b[3]) / 2
    diou = iou - (dx * dx + dy * dy) / (hull_w**2 + hull_h**2)
    if kind == "diou":
        return diou
    v = (
        4
        / math.pi**2
        * (
            math.atan((b[2] - b[0]) / (b[3] - b[1]))
            - math.atan((a[2] - a[0]) / (a[3] - a[1]))
        )
        ** 2
    )
    # alpha * v = v^2 / (1 - IoU + v) tends to 0 as two boxes become one.
    return diou - (v * v / (1 - iou + v) if v else 0.0)


@pytest.mark.parametrize("kind", IOU_KINDS)
def test_aligned_variants_equal_the_papers_formulas(kind):
    rng = np.random.default_rng(3)
    corners = rng.uniform(0, 50, size=(200, 2, 2))
    sizes = rng.uniform(0.5, 40, size=(200, 2, 2))
    boxes = np.concatenate([corners, corners + sizes], axis=-1)
    # Every fourth pair is the same box, each next one nested.
    boxes[::4, 1] = boxes[::4, 0]
    boxes[1::4, 1, :2] = boxes[1::4, 0, :2] + 0.1
    boxes[1::4, 1, 2:] = boxes[1::4, 0, 2:] - 0.1
    values = ops.convert_to_numpy(aligned_box_iou(boxes[:, 0], boxes[:, 1], kind))
    expected = [_reference_variant(a, b, kind) for a, b in boxes]
    np.testing.assert_allclose(values, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(values[::4], 1.0, atol=1e-7)
    assert np.all(values <= 1 + 1e-7) and np.all(values >= -1 - 1e-7)


def test_aligned_variants_of_disjoint_boxes_go_below_zero_and_bad_kind_raises():
    near, far = [0.0, 0.0, 2.0, 2.0], [[3.0, 0.0, 5.0, 2.0], [30.0, 0.0, 32.0, 2.0]]
    giou = ops.convert_to_numpy(aligned_box_iou([near, near], far, "giou"))
    # The farther box leaves more of the hull empty: GIoU still ranks them.
    assert 0 > giou[0] > giou[1] > -1
    with pytest.raises(ValueError, match="kind"):
        aligned_box_iou([near], [near], "eiou")
