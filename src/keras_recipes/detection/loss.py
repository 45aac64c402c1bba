"""The YOLO loss: objectness, box coordinates and classes in one sum."""

import keras
from keras import ops

from keras_recipes.detection.boxes import convert_boxes
from keras_recipes.detection.decode import MAX_LOG_SCALE, centers
from keras_recipes.detection.iou import IOU_KINDS, aligned_box_iou, box_iou
from keras_recipes.detection.targets import check_anchors

# Smallest box side, relative to the image, that the log-size target sees;
# it keeps zero-size boxes finite.
_MIN_RELATIVE_SIZE = 1e-6
BOX_LOSSES = ("squared", *[kind for kind in IOU_KINDS if kind != "iou"])
OBJECTNESS_TARGETS = ("one", "iou")


def _sigmoid_cross_entropy(labels, logits):
    """Binary cross-entropy from logits, stable for logits of any size."""
    return (
        ops.maximum(logits, 0.0)
        - logits * labels
        + ops.log1p(ops.exp(-ops.abs(logits)))
    )


@keras.saving.register_keras_serializable(package="keras_recipes")
class YoloLoss(keras.losses.Loss):
    """The YOLO loss between encoded targets and raw outputs.

    For targets from `encode_yolo_targets` and raw outputs `[t_o, t_x, t_y,
    t_w, t_h, t_1 .. t_C]` (see `decode_yolo_output`), summed over the grid
    of each image:

    - coordinates (slots holding an object), weighted by `coord_weight`.
      With `box_loss="squared"` (YOLOv2), weighted also by `2 - w * h` so
      small boxes count more: squared error between `sigmoid(t_x),
      sigmoid(t_y)` and the centre's offset in its cell, and between
      `t_w, t_h` and `log(w / p_w), log(h / p_h)`. With `"giou"`, `"diou"`
      or `"ciou"`: `1 -` that variant of the IoU between the decoded box
      and the true one, in pixels (see `aligned_box_iou`);
    - objectness, logistic: `object_weight` times the cross-entropy towards 1
      (`objectness_target="one"`) or towards the IoU of the decoded box with
      the true one (`"iou"`, as YOLOv5, so the score ranks boxes by how well
      they fit) in slots with an object, `noobj_weight` times the
      cross-entropy towards
      0 in the others, except slots whose predicted box already overlaps a
      true box of the image with IoU >= `ignore_threshold` (YOLOv3), which
      are not pushed either way;
    - classes: `class_weight` times the softmax cross-entropy in slots with
      an object.

    The cross-entropies are computed from logits in their stable forms and
    box sizes are floored at a millionth of the image, so the loss and its
    gradient stay finite for zero-size boxes and for logits in the
    thousands.

    Args:
        anchors: Anchor `(w, h)` pairs in pixels, shape `[B, 2]`.
        image_size: `(height, width)` of the model input in pixels.
        coord_weight: Weight of the coordinate term. Defaults to `5.0`.
        object_weight: Weight of objectness where there is an object.
            Defaults to `1.0`.
        noobj_weight: Weight of objectness where there is none.
            Defaults to `0.5`.
        class_weight: Weight of the class term. Defaults to `1.0`.
        ignore_threshold: IoU above which a predicted box without an object
            is not penalised. Defaults to `0.5`.
        max_boxes: Most true boxes per image considered for the
            ignore-threshold. Defaults to `100`.
        box_loss: `"squared"`, `"giou"`, `"diou"` or `"ciou"`.
            Defaults to `"squared"`.
        objectness_target: `"one"` or `"iou"`. Defaults to `"one"`.
        xy_scale: How far past its cell a centre reaches (see `centers`):
            `xy_scale("multi")` for targets of `assignment="multi"`.
            Defaults to `1.0`.
        name: Name of the loss. Defaults to `"yolo_loss"`.
        **kwargs: Base loss arguments (`reduction`, `dtype`).

    Reference:
        - [Redmon and Farhadi, 2016](https://arxiv.org/abs/1612.08242)
        - [Redmon and Farhadi, 2018](https://arxiv.org/abs/1804.02767)
        - [Zheng et al., 2020](https://arxiv.org/abs/1911.08287)

    Example:

    ```python
    model.compile(optimizer="adam", loss=YoloLoss(anchors, (96, 96)))
    model.fit(images, encode_yolo_batch(annotations, 12, anchors, 3, (96, 96)))
    ```
    """

    def __init__(
        self,
        anchors,
        image_size,
        coord_weight=5.0,
        object_weight=1.0,
        noobj_weight=0.5,
        class_weight=1.0,
        ignore_threshold=0.5,
        max_boxes=100,
        box_loss="squared",
        objectness_target="one",
        xy_scale=1.0,
        name="yolo_loss",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.anchors = check_anchors(anchors).tolist()
        self.image_size = tuple(int(s) for s in image_size)
        for key, value in (
            ("coord_weight", coord_weight),
            ("object_weight", object_weight),
            ("noobj_weight", noobj_weight),
            ("class_weight", class_weight),
        ):
            if value < 0:
                raise ValueError(f"`{key}` must be >= 0. Received: {key}={value}")
        if not 0 < ignore_threshold <= 1:
            raise ValueError(
                "`ignore_threshold` must be in (0, 1]. "
                f"Received: ignore_threshold={ignore_threshold}"
            )
        self.coord_weight = float(coord_weight)
        self.object_weight = float(object_weight)
        self.noobj_weight = float(noobj_weight)
        self.class_weight = float(class_weight)
        self.ignore_threshold = float(ignore_threshold)
        self.max_boxes = int(max_boxes)
        if box_loss not in BOX_LOSSES:
            raise ValueError(
                f"`box_loss` must be one of {BOX_LOSSES}. "
                f"Received: box_loss={box_loss!r}"
            )
        if objectness_target not in OBJECTNESS_TARGETS:
            raise ValueError(
                f"`objectness_target` must be one of {OBJECTNESS_TARGETS}. "
                f"Received: objectness_target={objectness_target!r}"
            )
        self.box_loss = box_loss
        self.objectness_target = objectness_target
        self.xy_scale = float(xy_scale)

    def components(self, y_true, y_pred):
        """Returns the per-image coordinate, object, no-object and class terms.

        Args:
            y_true: Targets `[batch, rows, columns, B, 5 + C]`.
            y_pred: Raw outputs of the same shape.

        Returns:
            A dict of `[batch]` tensors, already weighted, keyed
            `"coordinates"`, `"object"`, `"no_object"` and `"classes"`.
        """
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.cast(y_true, y_pred.dtype)
        rows, columns = y_pred.shape[-4], y_pred.shape[-3]
        height, width = self.image_size
        dtype = y_pred.dtype
        anchors = ops.cast(self.anchors, dtype) / ops.cast([width, height], dtype)
        has_object = y_true[..., 0]
        no_object = 1.0 - has_object

        # Relative to the image, decoded once for the box, objectness and
        # ignore terms.
        predicted_boxes = self._decode(y_pred, anchors)
        pixels = ops.cast([width, height, width, height], dtype)
        true_pixels = convert_boxes(y_true[..., 1:5], "center_xywh", "xyxy") * pixels
        predicted_pixels = predicted_boxes * pixels
        if self.box_loss == "squared":
            column_index = ops.reshape(
                ops.arange(columns, dtype=dtype), (1, columns, 1)
            )
            row_index = ops.reshape(ops.arange(rows, dtype=dtype), (rows, 1, 1))
            offset = ops.stack(
                [
                    y_true[..., 1] * columns - column_index,
                    y_true[..., 2] * rows - row_index,
                ],
                axis=-1,
            )
            shift = (self.xy_scale - 1.0) / 2.0
            offset = ops.clip(offset, -shift, 1.0 + shift)
            true_size = ops.maximum(y_true[..., 3:5], _MIN_RELATIVE_SIZE)
            log_scale = ops.log(true_size / anchors)
            position = self.xy_scale * ops.sigmoid(y_pred[..., 1:3]) - shift
            xy_error = ops.sum(ops.square(position - offset), -1)
            wh_error = ops.sum(ops.square(y_pred[..., 3:5] - log_scale), -1)
            box_scale = 2.0 - y_true[..., 3] * y_true[..., 4]
            coordinates = has_object * box_scale * (xy_error + wh_error)
        else:
            fit = aligned_box_iou(predicted_pixels, true_pixels, self.box_loss)
            coordinates = has_object * (1.0 - fit)

        logits = y_pred[..., 0]
        if self.objectness_target == "iou":
            iou = aligned_box_iou(predicted_pixels, true_pixels)
            object_target = ops.stop_gradient(ops.clip(iou, 0.0, 1.0))
        else:
            object_target = 1.0
        object_term = has_object * _sigmoid_cross_entropy(object_target, logits)
        ignore = ops.stop_gradient(
            self._overlaps_a_true_box(y_true, predicted_boxes, y_pred.shape[:-1])
        )
        no_object_term = (
            no_object * (1.0 - ignore) * _sigmoid_cross_entropy(0.0, logits)
        )

        class_logits = y_pred[..., 5:]
        log_probabilities = class_logits - ops.logsumexp(
            class_logits, axis=-1, keepdims=True
        )
        class_term = -has_object * ops.sum(y_true[..., 5:] * log_probabilities, -1)

        def total(term):
            return ops.sum(ops.reshape(term, (ops.shape(term)[0], -1)), axis=-1)

        return {
            "coordinates": self.coord_weight * total(coordinates),
            "object": self.object_weight * total(object_term),
            "no_object": self.noobj_weight * total(no_object_term),
            "classes": self.class_weight * total(class_term),
        }

    def call(self, y_true, y_pred):
        terms = self.components(y_true, y_pred)
        return (
            terms["coordinates"]
            + terms["object"]
            + terms["no_object"]
            + terms["classes"]
        )

    def _decode(self, y_pred, anchors):
        """Returns the predicted boxes, `"xyxy"` relative to the image."""
        rows, columns = y_pred.shape[-4], y_pred.shape[-3]
        center = centers(y_pred[..., 1:3], rows, columns, self.xy_scale)
        log_scale = ops.clip(y_pred[..., 3:5], -MAX_LOG_SCALE, MAX_LOG_SCALE)
        size = ops.exp(log_scale) * anchors
        return convert_boxes(ops.concatenate([center, size], -1), "center_xywh", "xyxy")

    def _overlaps_a_true_box(self, y_true, predicted_boxes, grid_shape):
        """1 where the predicted box has IoU >= the threshold with a true box."""
        rows, columns, count = grid_shape[-3:]
        dtype = predicted_boxes.dtype
        batch = ops.shape(predicted_boxes)[0]
        slots = rows * columns * count
        predicted = ops.reshape(predicted_boxes, (batch, slots, 4))
        true = ops.reshape(y_true[..., :5], (batch, slots, 5))
        # The slots with objects come first among the top `k` by Pc.
        present, index = ops.top_k(true[..., 0], k=min(self.max_boxes, slots))
        true = ops.take_along_axis(true, index[..., None], axis=1)
        true_boxes = convert_boxes(true[..., 1:5], "center_xywh", "xyxy")
        iou = box_iou(predicted, true_boxes) * present[:, None, :]
        best = ops.max(iou, axis=-1)
        overlaps = ops.cast(best >= self.ignore_threshold, dtype)
        return ops.reshape(overlaps, ops.shape(predicted_boxes)[:-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            anchors=self.anchors,
            image_size=list(self.image_size),
            coord_weight=self.coord_weight,
            object_weight=self.object_weight,
            noobj_weight=self.noobj_weight,
            class_weight=self.class_weight,
            ignore_threshold=self.ignore_threshold,
            max_boxes=self.max_boxes,
            box_loss=self.box_loss,
            objectness_target=self.objectness_target,
            xy_scale=self.xy_scale,
        )
        return config
