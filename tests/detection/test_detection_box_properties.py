"""More properties of IoU and box conversions: formats, nesting, shifts."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import ops

from keras_recipes.detection import BOX_FORMATS, box_iou, convert_boxes

corners = st.integers(-500, 500)
lengths = st.integers(1, 400)
# Integer-valued float64 boxes: every area and intersection is exact.
boxes = st.lists(st.tuples(corners, corners, lengths, lengths), min_size=1, max_size=5)


def _xyxy(rows):
    return np.array([[x, y, x + w, y + h] for x, y, w, h in rows], "float64")


def _iou(boxes1, boxes2, **kwargs):
    return ops.convert_to_numpy(box_iou(boxes1, boxes2, **kwargs))


@settings(max_examples=40, deadline=None)
@given(boxes, boxes, st.sampled_from(BOX_FORMATS))
def test_iou_does_not_depend_on_the_box_format(rows1, rows2, box_format):
    first, second = _xyxy(rows1), _xyxy(rows2)
    expected = _iou(first, second)
    converted = [convert_boxes(b, "xyxy", box_format) for b in (first, second)]
    np.testing.assert_allclose(
        _iou(*converted, box_format=box_format), expected, rtol=1e-12, atol=0
    )


@settings(max_examples=40, deadline=None)
@given(corners, corners, lengths, lengths, st.data())
def test_iou_of_a_box_inside_another_is_their_area_ratio(x, y, width, height, data):
    inner_x = data.draw(st.integers(x, x + width - 1))
    inner_y = data.draw(st.integers(y, y + height - 1))
    inner_width = data.draw(st.integers(1, x + width - inner_x))
    inner_height = data.draw(st.integers(1, y + height - inner_y))
    outer = _xyxy([(x, y, width, height)])
    inner = _xyxy([(inner_x, inner_y, inner_width, inner_height)])
    ratio = inner_width * inner_height / (width * height)
    np.testing.assert_allclose(_iou(inner, outer), [[ratio]], rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(boxes, st.integers(0, 50), st.booleans())
def test_iou_of_boxes_that_only_touch_or_lie_apart_is_zero(rows, gap, vertical):
    first = _xyxy(rows)
    # Every box moved past the right (or bottom) edge of all of them.
    axis = 1 if vertical else 0
    shift = first[:, axis + 2].max() - first[:, axis].min() + gap
    second = first.copy()
    second[:, [axis, axis + 2]] += shift
    np.testing.assert_array_equal(_iou(first, second), 0.0)


@settings(max_examples=40, deadline=None)
@given(boxes, boxes, corners, corners)
def test_iou_does_not_change_when_both_sets_move_together(rows1, rows2, dx, dy):
    first, second = _xyxy(rows1), _xyxy(rows2)
    offset = np.array([dx, dy, dx, dy], "float64")
    np.testing.assert_allclose(
        _iou(first + offset, second + offset), _iou(first, second), rtol=1e-12
    )


@settings(max_examples=40, deadline=None)
@given(boxes, st.sampled_from(BOX_FORMATS))
def test_conversions_keep_sizes_and_converting_to_the_same_format_is_identity(
    rows, box_format
):
    xyxy = _xyxy(rows)
    converted = ops.convert_to_numpy(convert_boxes(xyxy, "xyxy", box_format))
    same = ops.convert_to_numpy(convert_boxes(converted, box_format, box_format))
    np.testing.assert_array_equal(same, converted)
    xywh = ops.convert_to_numpy(convert_boxes(converted, box_format, "xywh"))
    np.testing.assert_array_equal(xywh[:, 2:], [[w, h] for _, _, w, h in rows])
