"""Object detection: box formats, IoU, non-max suppression, anchors and mAP."""

from keras_recipes.detection.anchors import kmeans_anchors
from keras_recipes.detection.boxes import BOX_FORMATS, convert_boxes
from keras_recipes.detection.iou import box_iou
from keras_recipes.detection.metrics import evaluate_detections
from keras_recipes.detection.nms import non_max_suppression

__all__ = [
    "BOX_FORMATS",
    "box_iou",
    "convert_boxes",
    "evaluate_detections",
    "kmeans_anchors",
    "non_max_suppression",
]
