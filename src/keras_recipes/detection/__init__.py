"""Object detection: box formats, IoU, non-max suppression, anchors and mAP;
YOLO targets, loss, model and decoding; localization, landmarks and sliding
windows."""

from keras_recipes.detection.anchors import kmeans_anchors
from keras_recipes.detection.boxes import BOX_FORMATS, convert_boxes
from keras_recipes.detection.decode import (
    YoloDetections,
    decode_yolo_output,
    detection_model,
    detections_to_list,
    yolo_detections,
)
from keras_recipes.detection.drawing import draw_boxes, plot_anchors, plot_detections
from keras_recipes.detection.iou import aligned_box_iou, box_iou
from keras_recipes.detection.landmarks import landmark_detector
from keras_recipes.detection.localization import (
    LocalizationLoss,
    classification_with_localization,
)
from keras_recipes.detection.loss import YoloLoss
from keras_recipes.detection.metrics import evaluate_detections
from keras_recipes.detection.nms import batched_class_nms, non_max_suppression
from keras_recipes.detection.sliding_window import (
    classify_windows,
    to_fully_convolutional,
    window_stride,
)
from keras_recipes.detection.targets import (
    decode_yolo_targets,
    encode_yolo_batch,
    encode_yolo_targets,
    xy_scale,
)
from keras_recipes.detection.yolo_model import yolo_detector, yolo_grid

__all__ = [
    "BOX_FORMATS",
    "LocalizationLoss",
    "YoloDetections",
    "YoloLoss",
    "aligned_box_iou",
    "batched_class_nms",
    "box_iou",
    "classification_with_localization",
    "classify_windows",
    "convert_boxes",
    "decode_yolo_output",
    "decode_yolo_targets",
    "detection_model",
    "detections_to_list",
    "draw_boxes",
    "encode_yolo_batch",
    "encode_yolo_targets",
    "evaluate_detections",
    "kmeans_anchors",
    "landmark_detector",
    "non_max_suppression",
    "plot_anchors",
    "plot_detections",
    "to_fully_convolutional",
    "window_stride",
    "xy_scale",
    "yolo_detections",
    "yolo_detector",
    "yolo_grid",
]
