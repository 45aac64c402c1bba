"""The YOLO loss: objectness, box coordinates and classes in one sum."""

import keras
from keras import ops

from keras_recipes.detection.decode import MAX_LOG_SCALE
from keras_recipes.detection.iou import box_iou
from keras_recipes.detection.targets import check_anchors

# Smallest box side, relative to the image, that the log-size target sees;
# it keeps zero-size boxes finite.
_MIN_RELATIVE_SIZE = 1e-6


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

    - coordinates (slots holding an object), weighted by `coord_weight` and
      by `2 - w * h` so small boxes count more: squared error between
      `sigmoid(t_x), sigmoid(t_y)` and the centre's offset in its cell, and
      between `t_w, t_h` and `log(w / p_w), log(h / p_h)`;
    - objectness, logistic: `object_weight` times the cross-entropy towards 1
      in slots with an object, `noobj_weight` times the cross-entropy towards
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
        name: Name of the loss. Defaults to `"yolo_loss"`.
        **kwargs: Base loss arguments (`reduction`, `dtype`).

    Reference:
        - [Redmon and Farhadi, 2016](https://arxiv.org/abs/1612.08242)
        - [Redmon and Farhadi, 2018](https://arxiv.org/abs/1804.02767)

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

        column_index = ops.reshape(ops.arange(columns, dtype=dtype), (1, columns, 1))
        row_index = ops.reshape(ops.arange(rows, dtype=dtype), (rows, 1, 1))
        offset = ops.stack(
            [
                y_true[..., 1] * columns - column_index,
                y_true[..., 2] * rows - row_index,
            ],
            axis=-1,
        )
        offset = ops.clip(offset, 0.0, 1.0)
        true_size = ops.maximum(y_true[..., 3:5], _MIN_RELATIVE_SIZE)
        log_scale = ops.log(true_size / anchors)
        xy_error = ops.sum(ops.square(ops.sigmoid(y_pred[..., 1:3]) - offset), -1)
        wh_error = ops.sum(ops.square(y_pred[..., 3:5] - log_scale), -1)
        box_scale = 2.0 - y_true[..., 3] * y_true[..., 4]
        coordinates = has_object * box_scale * (xy_error + wh_error)

        logits = y_pred[..., 0]
        object_term = has_object * _sigmoid_cross_entropy(1.0, logits)
        ignore = ops.stop_gradient(self._overlaps_a_true_box(y_true, y_pred, anchors))
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

    def _overlaps_a_true_box(self, y_true, y_pred, anchors):
        """1 where the predicted box has IoU >= the threshold with a true box."""
        rows, columns = y_pred.shape[-4], y_pred.shape[-3]
        dtype = y_pred.dtype
        column_index = ops.reshape(ops.arange(columns, dtype=dtype), (1, columns, 1))
        row_index = ops.reshape(ops.arange(rows, dtype=dtype), (rows, 1, 1))
        center = ops.stack(
            [
                (column_index + ops.sigmoid(y_pred[..., 1])) / columns,
                (row_index + ops.sigmoid(y_pred[..., 2])) / rows,
            ],
            axis=-1,
        )
        log_scale = ops.clip(y_pred[..., 3:5], -MAX_LOG_SCALE, MAX_LOG_SCALE)
        size = ops.exp(log_scale) * anchors
        predicted = ops.concatenate([center - size / 2, center + size / 2], -1)
        batch = ops.shape(y_pred)[0]
        slots = rows * columns * y_pred.shape[-2]
        predicted = ops.reshape(predicted, (batch, slots, 4))
        true = ops.reshape(y_true[..., :5], (batch, slots, 5))
        count = min(self.max_boxes, slots)
        # The slots with objects come first among the top `count` by Pc.
        present, index = ops.top_k(true[..., 0], k=count)
        true = ops.take_along_axis(true, index[..., None], axis=1)
        true_boxes = ops.concatenate(
            [true[..., 1:3] - true[..., 3:5] / 2, true[..., 1:3] + true[..., 3:5] / 2],
            -1,
        )
        iou = box_iou(predicted, true_boxes) * present[:, None, :]
        best = ops.max(iou, axis=-1)
        overlaps = ops.cast(best >= self.ignore_threshold, dtype)
        return ops.reshape(overlaps, ops.shape(y_pred)[:-1])

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
        )
        return config
