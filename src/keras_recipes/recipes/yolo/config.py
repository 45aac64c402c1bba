"""The settings of the `yolo` recipe; importing them does not start TensorFlow."""

import dataclasses
from typing import ClassVar, Literal

from keras_recipes.config import (
    CallbacksConfig,
    ExportConfig,
    ImageCacheConfig,
    OptimizerConfig,
    RecipeConfig,
    TrainConfig,
    param,
    section,
)
from keras_recipes.data.source_checks import check_folder_source, check_image_size
from keras_recipes.errors import ConfigError

# The name of the small backbone, as `detection.yolo_model.SMALL_BACKBONE`.
SMALL_BACKBONE = "small"


@dataclasses.dataclass
class ShapesConfig:
    """Size of the embedded synthetic `shapes` set."""

    # A tenth of the training images validate; augmentation makes up the rest.
    num_train: int = param(1100, minimum=1, doc="Training images (incl. validation).")
    num_test: int = param(300, minimum=1, doc="Held-out test images.")
    seed: int = param(0, minimum=0, doc="Seed of the training images.")
    max_objects: int = param(5, minimum=1, doc="Most objects besides the pair.")
    pair_probability: float = param(
        0.5, minimum=0, maximum=1, doc="Chance of a crossing pair in one cell."
    )


@dataclasses.dataclass
class DetectionAugmentationConfig:
    """Random changes of the training images; boxes follow the pixels."""

    flip: bool = param(True, doc="Mirror half of the images left to right.")
    scale: float = param(0.25, minimum=0, below=1, doc="Zoom in [1 - s, 1 + s].")
    translate: float = param(0.1, minimum=0, below=1, doc="Shift, fraction of size.")
    hue: float = param(0.03, minimum=0, maximum=0.5, doc="Hue shift.")
    saturation: float = param(0.3, minimum=0, below=1, doc="Relative saturation.")
    brightness: float = param(0.15, minimum=0, maximum=1, doc="Fraction of 255.")
    contrast: float = param(0.3, minimum=0, below=1, doc="Relative contrast.")
    mosaic: float = param(
        0.0, minimum=0, maximum=1, doc="Chance an image is a 2x2 mosaic of four."
    )
    close_mosaic: int = param(
        10, minimum=0, doc="Last epochs without mosaic (Ultralytics' close_mosaic)."
    )


@dataclasses.dataclass
class DetectionDataConfig:
    """Where the images and boxes come from and how they are prepared.

    A folder is read in one of three layouts: Pascal VOC
    (`Annotations/*.xml`, `JPEGImages/`, `ImageSets/Main/{train,val,test}.txt`),
    COCO JSON (`annotations/{train,val,test}.json`) or YOLO txt
    (`images/<split>/`, `labels/<split>/`, `classes.txt`).
    """

    source: Literal["shapes", "folder"] = param(
        "shapes", doc="shapes (embedded) | folder (data.directory)"
    )
    format: Literal["voc", "coco", "yolo"] = param(
        "voc", doc="Annotation format of the folder."
    )
    directory: str | None = param(None, doc="The detection data folder.")
    class_names: list[str] = param(
        [], doc="Classes in id order; empty: taken from the data."
    )
    # 96 x 96 is a 12 x 12 grid with the small backbone (stride 8).
    image_size: list[int] = param([96, 96], doc="Model input height and width.")
    letterbox: bool = param(
        False, doc="Folders: keep aspect ratios, pad with grey (else stretch)."
    )
    augmentation: DetectionAugmentationConfig = section(DetectionAugmentationConfig)
    shapes: ShapesConfig = section(ShapesConfig)
    cache: ImageCacheConfig = section(ImageCacheConfig)

    def validate(self, key):
        check_image_size(key, self.image_size, smallest=16)
        check_folder_source(key, self.source, self.directory)


@dataclasses.dataclass
class YoloModelConfig:
    """The detector: backbone, head and anchors."""

    backbone: str = param(
        SMALL_BACKBONE, doc="small | a keras.applications name, e.g. MobileNetV2"
    )
    backbone_weights: str | None = param(
        "imagenet", doc="Application backbones: imagenet | null | a local file."
    )
    filters: list[int] = param([16, 32, 64, 128], doc="Small backbone blocks.")
    depth: int = param(1, minimum=1, doc="Conv blocks per small-backbone stage.")
    strided_stem: bool = param(
        True,
        doc="Small backbone: a stride-2 first conv in place of the first "
        "pooling (same grid, less CPU).",
    )
    head_filters: int = param(128, minimum=1, doc="Filters of the head's 3x3 conv.")
    anchors: Literal["auto"] | list[list[float]] = param(
        "auto", doc="auto (k-means on training boxes) or [[w, h], ...] in pixels."
    )
    num_anchors: int = param(3, minimum=1, doc="Anchors per cell when auto.")
    assignment: Literal["single", "multi"] = param(
        "single",
        doc="single: one cell and anchor per box (YOLOv2) | multi: every anchor "
        "within 4x of the box in its cell and 2 nearest neighbours (YOLOv5).",
    )

    def validate(self, key):
        if self.anchors != "auto":
            if not self.anchors or any(
                len(pair) != 2 or min(pair) <= 0 for pair in self.anchors
            ):
                raise ConfigError(
                    f"{key}.anchors must be auto or a list of positive [width, "
                    f"height] pairs. Received: {self.anchors}"
                )


@dataclasses.dataclass
class YoloLossConfig:
    """Weights of the YOLO loss terms."""

    coord_weight: float = param(5.0, minimum=0, doc="Box coordinates.")
    object_weight: float = param(1.0, minimum=0, doc="Objectness with an object.")
    # YOLOv1's 0.5 gives 0.794 AP50:95 on shapes at 45 epochs, 1.0 gives 0.8005.
    noobj_weight: float = param(1.0, minimum=0, doc="Objectness without.")
    class_weight: float = param(1.0, minimum=0, doc="Class cross-entropy.")
    ignore_threshold: float = param(
        0.5, minimum=0, maximum=1, doc="IoU above which no-object is not penalised."
    )
    # CIoU alone lifts AP50:95 on shapes from 0.67 to 0.78 (README table).
    box_loss: Literal["squared", "giou", "diou", "ciou"] = param(
        "ciou", doc="ciou | giou | diou (1 - that IoU) | squared (YOLOv2 offsets)."
    )
    objectness_target: Literal["one", "iou"] = param(
        "one", doc="Objectness target where there is an object: 1 or the box IoU."
    )


@dataclasses.dataclass
class PostprocessConfig:
    """Score threshold and non-max suppression of the final detections."""

    score_threshold: float = param(
        0.6,
        minimum=0,
        maximum=1,
        doc="Pc x class probability kept (predict, figures, export).",
    )
    # mAP needs the whole precision-recall curve.
    eval_score_threshold: float = param(
        0.01, minimum=0, maximum=1, doc="Lower threshold for mAP (full PR curve)."
    )
    iou_threshold: float = param(
        0.5, minimum=0, maximum=1, doc="IoU at which a same-class box is suppressed."
    )
    max_detections: int = param(100, minimum=1, doc="Per image.")


@dataclasses.dataclass
class YoloConfig(RecipeConfig):
    """Config of the `yolo` recipe."""

    description: ClassVar[str] = (
        "YOLO object detection with anchors, NMS and mAP (shapes, VOC, COCO, YOLO txt)."
    )

    recipe: str = param("yolo")
    data: DetectionDataConfig = section(DetectionDataConfig)
    model: YoloModelConfig = section(YoloModelConfig)
    loss: YoloLossConfig = section(YoloLossConfig)
    postprocess: PostprocessConfig = section(PostprocessConfig)
    optimizer: OptimizerConfig = section(
        OptimizerConfig,
        learning_rate=0.006,
        schedule={"name": "cosine", "warmup_epochs": 1},
    )
    # Small sets need the updates: 900 images reach a map50 of 0.94.
    train: TrainConfig = section(TrainConfig, epochs=45, validation_split=0.1)
    callbacks: CallbacksConfig = section(
        CallbacksConfig, early_stopping={"patience": 10}
    )
    # The serving formats include decoding and NMS: they return final boxes.
    export: ExportConfig = section(ExportConfig, formats=["keras", "saved_model"])
