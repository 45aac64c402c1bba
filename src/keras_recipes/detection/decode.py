"""Decoding YOLO outputs to boxes, scores and classes, then per-class NMS."""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_recipes.detection.nms import batched_class_nms
from keras_recipes.detection.targets import check_anchors

# exp() of larger log-scales overflows float32 long before it is meaningful.
MAX_LOG_SCALE = 10.0
# How `yolo_detections` suppresses: TensorFlow's combined NMS kernel, or
# `batched_class_nms` in plain ops, which ONNX and LiteRT can hold.
NMS_METHODS = ("combined", "portable")


def centers(offsets, rows, columns, xy_scale=1.0):
    """Returns predicted box centres, relative to the image, from raw offsets.

    `x = (c + xy_scale * sigmoid(t_x) - (xy_scale - 1) / 2) / S_c` for the
    cell in column `c` of `S_c`, and the same for `y` with rows. A scale of
    1 keeps the centre in its cell (YOLOv2); 2 lets it reach half a cell
    past either side (YOLOv4's grid sensitivity fix, YOLOv5).

    Args:
        offsets: Tensor `[..., rows, columns, B, 2]` of raw `t_x, t_y`.
        rows: Rows of the grid.
        columns: Columns of the grid.
        xy_scale: Scale of the sigmoid. Defaults to `1.0`.

    Returns:
        A tensor `[..., rows, columns, B, 2]` of `(x, y)` in `[0, 1]` units.

    Example:

    >>> ops.convert_to_numpy(centers(np.zeros((1, 2, 1, 2)), 1, 2))[0, 1, 0]
    array([0.75, 0.5 ])
    """
    dtype = offsets.dtype
    column_index = ops.reshape(ops.arange(columns, dtype=dtype), (1, columns, 1))
    row_index = ops.reshape(ops.arange(rows, dtype=dtype), (rows, 1, 1))
    shift = (xy_scale - 1.0) / 2.0
    position = xy_scale * ops.sigmoid(offsets) - shift
    return ops.stack(
        [
            (column_index + position[..., 0]) / columns,
            (row_index + position[..., 1]) / rows,
        ],
        axis=-1,
    )


def decode_yolo_output(outputs, anchors, image_size, xy_scale=1.0):
    """Turns raw YOLO outputs into boxes, objectness and class probabilities.

    For the raw values `[t_o, t_x, t_y, t_w, t_h, t_1 .. t_C]` of anchor
    `(p_w, p_h)` in the cell at row `r` and column `c` of an `S_r x S_c`
    grid (YOLOv2, as YAD2K's `yolo_head`):

        x = (c + sigmoid(t_x)) / S_c * width     w = p_w * exp(t_w)
        y = (r + sigmoid(t_y)) / S_r * height    h = p_h * exp(t_h)
        Pc = sigmoid(t_o)                        p = softmax(t_1 .. t_C)

    `t_w` and `t_h` are clipped to `[-10, 10]` so a huge logit gives a huge
    box rather than an infinite one. With `xy_scale` above 1 the centres
    reach past their cells (see `centers`), for models trained on targets
    of `assignment="multi"`.

    Args:
        outputs: Tensor `[..., rows, columns, B, 5 + C]` of raw model outputs.
        anchors: Anchor `(w, h)` pairs in pixels, shape `[B, 2]`.
        image_size: `(height, width)` of the model input in pixels.
        xy_scale: See `centers`. Defaults to `1.0`.

    Returns:
        A dict with `"boxes"` (`[..., rows, columns, B, 4]` `"xyxy"` pixels),
        `"objectness"` (`[..., rows, columns, B]`) and `"class_probabilities"`
        (`[..., rows, columns, B, C]`).

    Example:

    >>> outputs = np.zeros((1, 2, 2, 1, 7), "float32")
    >>> decoded = decode_yolo_output(outputs, [[16, 16]], (64, 64))
    >>> ops.convert_to_numpy(decoded["boxes"][0, 1, 0, 0]).tolist()
    [8.0, 40.0, 24.0, 56.0]
    """
    anchors = check_anchors(anchors)
    outputs = ops.convert_to_tensor(outputs)
    if len(outputs.shape) < 4 or outputs.shape[-2] != len(anchors):
        raise ValueError(
            f"`outputs` must have shape [..., rows, columns, {len(anchors)}, 5 + C] "
            f"for {len(anchors)} anchors. Received: outputs.shape={outputs.shape}"
        )
    rows, columns = outputs.shape[-4], outputs.shape[-3]
    height, width = image_size
    dtype = outputs.dtype
    center = centers(outputs[..., 1:3], rows, columns, xy_scale)
    center_x, center_y = center[..., 0] * width, center[..., 1] * height
    log_scale = ops.clip(outputs[..., 3:5], -MAX_LOG_SCALE, MAX_LOG_SCALE)
    size = ops.exp(log_scale) * ops.cast(anchors, dtype)
    half_width, half_height = size[..., 0] / 2, size[..., 1] / 2
    boxes = ops.stack(
        [
            center_x - half_width,
            center_y - half_height,
            center_x + half_width,
            center_y + half_height,
        ],
        axis=-1,
    )
    return {
        "boxes": boxes,
        "objectness": ops.sigmoid(outputs[..., 0]),
        "class_probabilities": ops.softmax(outputs[..., 5:], axis=-1),
    }


def yolo_detections(
    outputs,
    anchors,
    image_size,
    score_threshold=0.6,
    iou_threshold=0.5,
    max_detections=100,
    clip_boxes=True,
    nms="combined",
    xy_scale=1.0,
):
    """Decodes a batch of YOLO outputs into final detections.

    The score of a box for a class is `Pc x` the class probability. Scores
    below `score_threshold` are discarded, then non-max suppression runs
    within each class: a box is dropped when its IoU with a better box of the
    same class is at least `iou_threshold`. This uses TensorFlow's
    `combined_non_max_suppression` with its clipping to `[0, 1]` switched
    off (the boxes are in pixels); with `clip_boxes` the boxes are clipped
    to the image before suppression instead. `nms="portable"` makes the
    same selection with `batched_class_nms` instead, in plain ops that ONNX
    and LiteRT files can hold.

    Args:
        outputs: Tensor `[batch, rows, columns, B, 5 + C]` of raw outputs.
        anchors: Anchor `(w, h)` pairs in pixels, shape `[B, 2]`.
        image_size: `(height, width)` of the model input in pixels.
        score_threshold: Smallest score kept. Defaults to `0.6`.
        iou_threshold: IoU at which a box of the same class is suppressed.
            Defaults to `0.5`.
        max_detections: Most detections per image. Defaults to `100`.
        clip_boxes: Clip boxes to the image. Defaults to `True`.
        nms: `"combined"` (TensorFlow's kernel) or `"portable"` (for
            export to ONNX and LiteRT). Defaults to `"combined"`.
        xy_scale: See `decode_yolo_output`. Defaults to `1.0`.

    Returns:
        A dict of tensors: `"boxes"` `[batch, K, 4]` (`"xyxy"` pixels),
        `"scores"` `[batch, K]`, `"classes"` `[batch, K]` (int32) and
        `"num_detections"` `[batch]` (int32), with `K = max_detections`;
        the first `num_detections` rows of each image are valid, best score
        first, and the rest are zeros.

    Example:

    ```python
    detections = yolo_detections(model.predict(images), anchors, (96, 96))
    ```
    """
    if not 0 < iou_threshold <= 1:
        raise ValueError(
            "`iou_threshold` must be in (0, 1]. "
            f"Received: iou_threshold={iou_threshold}"
        )
    if int(max_detections) != max_detections or max_detections < 1:
        raise ValueError(
            "`max_detections` must be a positive integer. "
            f"Received: max_detections={max_detections}"
        )
    if nms not in NMS_METHODS:
        raise ValueError(f"`nms` must be one of {NMS_METHODS}. Received: nms={nms!r}")
    decoded = decode_yolo_output(
        tf.cast(outputs, tf.float32), anchors, image_size, xy_scale
    )
    boxes = decoded["boxes"]
    num_classes = decoded["class_probabilities"].shape[-1]
    batch = tf.shape(boxes)[0]
    boxes = tf.reshape(boxes, (batch, -1, 4))
    scores = decoded["objectness"][..., None] * decoded["class_probabilities"]
    scores = tf.reshape(scores, (batch, -1, num_classes))
    if clip_boxes:
        height, width = image_size
        boxes = tf.clip_by_value(boxes, 0.0, [width, height, width, height])
    if nms == "portable":
        return batched_class_nms(
            boxes,
            scores,
            iou_threshold=iou_threshold,
            score_threshold=score_threshold,
            max_detections=max_detections,
        )
    # The kernel keeps scores > threshold and suppresses IoU > threshold; the
    # next float32 below each threshold makes those >= as documented.
    result = tf.image.combined_non_max_suppression(
        tf.gather(boxes, [1, 0, 3, 2], axis=-1)[:, :, None, :],
        scores,
        max_output_size_per_class=int(max_detections),
        max_total_size=int(max_detections),
        iou_threshold=float(np.nextafter(np.float32(iou_threshold), np.float32(0))),
        score_threshold=float(
            np.nextafter(np.float32(score_threshold), np.float32(-np.inf))
        ),
        pad_per_class=False,
        clip_boxes=False,
    )
    return {
        "boxes": tf.gather(result.nmsed_boxes, [1, 0, 3, 2], axis=-1),
        "scores": result.nmsed_scores,
        "classes": tf.cast(result.nmsed_classes, tf.int32),
        "num_detections": tf.cast(result.valid_detections, tf.int32),
    }


def detections_to_list(detections):
    """Splits batched detections into one dict of NumPy arrays per image.

    Args:
        detections: The dict returned by `yolo_detections` (tensors or
            arrays).

    Returns:
        A list with one dict per image holding `"boxes"`, `"scores"` and
        `"classes"` of its valid detections: the `predictions` format of
        `evaluate_detections`.

    Example:

    ```python
    predictions = detections_to_list(yolo_detections(outputs, anchors, size))
    ```
    """
    arrays = {key: ops.convert_to_numpy(value) for key, value in detections.items()}
    return [
        {
            "boxes": arrays["boxes"][i, :count],
            "scores": arrays["scores"][i, :count],
            "classes": arrays["classes"][i, :count],
        }
        for i, count in enumerate(arrays["num_detections"])
    ]


@keras.saving.register_keras_serializable(package="keras_recipes")
class YoloDetections(keras.layers.Layer):
    """Keras layer: raw YOLO outputs in, final boxes out (decoding and NMS).

    Put it after a trained detector so a saved or served model returns
    detections rather than raw grids; see `yolo_detections` for the steps.

    Args:
        anchors: Anchor `(w, h)` pairs in pixels, shape `[B, 2]`.
        image_size: `(height, width)` of the model input in pixels.
        score_threshold: Smallest score kept. Defaults to `0.6`.
        iou_threshold: IoU at which a box of the same class is suppressed.
            Defaults to `0.5`.
        max_detections: Most detections per image. Defaults to `100`.
        clip_boxes: Clip boxes to the image. Defaults to `True`.
        nms: `"combined"` or `"portable"` (for ONNX and LiteRT files); see
            `yolo_detections`. Defaults to `"combined"`.
        xy_scale: See `decode_yolo_output`. Defaults to `1.0`.
        **kwargs: Base layer arguments (`name`, ...).

    Example:

    ```python
    detections = YoloDetections(anchors, (96, 96))(model(images))
    ```
    """

    def __init__(
        self,
        anchors,
        image_size,
        score_threshold=0.6,
        iou_threshold=0.5,
        max_detections=100,
        clip_boxes=True,
        nms="combined",
        xy_scale=1.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if nms not in NMS_METHODS:
            raise ValueError(
                f"`nms` must be one of {NMS_METHODS}. Received: nms={nms!r}"
            )
        self.anchors = check_anchors(anchors).tolist()
        self.image_size = tuple(int(s) for s in image_size)
        self.score_threshold = float(score_threshold)
        self.iou_threshold = float(iou_threshold)
        self.max_detections = int(max_detections)
        self.clip_boxes = bool(clip_boxes)
        self.nms = nms
        self.xy_scale = float(xy_scale)

    def call(self, outputs):
        return yolo_detections(
            outputs,
            self.anchors,
            self.image_size,
            score_threshold=self.score_threshold,
            iou_threshold=self.iou_threshold,
            max_detections=self.max_detections,
            clip_boxes=self.clip_boxes,
            nms=self.nms,
            xy_scale=self.xy_scale,
        )

    def compute_output_spec(self, outputs):
        batch, count = outputs.shape[0], self.max_detections
        return {
            "boxes": keras.KerasTensor((batch, count, 4), "float32"),
            "scores": keras.KerasTensor((batch, count), "float32"),
            "classes": keras.KerasTensor((batch, count), "int32"),
            "num_detections": keras.KerasTensor((batch,), "int32"),
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            anchors=self.anchors,
            image_size=list(self.image_size),
            score_threshold=self.score_threshold,
            iou_threshold=self.iou_threshold,
            max_detections=self.max_detections,
            clip_boxes=self.clip_boxes,
            nms=self.nms,
            xy_scale=self.xy_scale,
        )
        return config


def detection_model(model, anchors, **kwargs):
    """Wraps a YOLO detector so it returns final detections.

    Args:
        model: A `keras.Model` with images in and `[S, S, B, 5 + C]` raw
            outputs, as `yolo_detector` builds.
        anchors: Its anchor `(w, h)` pairs in pixels, shape `[B, 2]`.
        **kwargs: `score_threshold`, `iou_threshold`, `max_detections`,
            `clip_boxes`, `nms` and `xy_scale`, as in `YoloDetections`.

    Returns:
        A `keras.Model` from the same images to the dict of
        `yolo_detections`; `model.export(path)` writes a SavedModel whose
        `serve` signature returns final boxes.

    Example:

    ```python
    detector = detection_model(model, anchors, score_threshold=0.5)
    detector.export("export/saved_model")
    ```
    """
    input_shape = model.input_shape[1:]
    if None in input_shape[:2]:
        raise ValueError(
            "`model` must have a fixed input height and width. "
            f"Received: model.input_shape={model.input_shape}"
        )
    images = keras.Input(input_shape, name="images")
    detections = YoloDetections(
        anchors, input_shape[:2], name="yolo_detections", **kwargs
    )(model(images))
    return keras.Model(images, detections, name=f"{model.name}_detections")
