"""YOLO object detection: anchors by k-means, the YOLO loss, decoding, NMS, mAP.

Run it with `python -m keras_recipes run yolo` or
`python -m keras_recipes.recipes.yolo --set train.epochs=5`.
"""

import dataclasses
import json
import shutil
import sys
from pathlib import Path
from typing import Literal

import numpy as np
import tensorflow as tf
from PIL import Image

from keras_recipes.config import RecipeConfig, param, section
from keras_recipes.data.annotations import (
    find_annotation_splits,
    load_annotated_images,
    read_annotations,
)
from keras_recipes.data.image_folder import load_images
from keras_recipes.data.shapes import load_shapes
from keras_recipes.data.source_checks import check_folder_source, check_image_size
from keras_recipes.detection.anchors import kmeans_anchors
from keras_recipes.detection.augmentation import augment_detection
from keras_recipes.detection.decode import (
    detection_model,
    detections_to_list,
    yolo_detections,
)
from keras_recipes.detection.drawing import plot_anchors, plot_detections
from keras_recipes.detection.loss import YoloLoss
from keras_recipes.detection.metrics import evaluate_detections
from keras_recipes.detection.targets import encode_yolo_batch, encode_yolo_targets
from keras_recipes.detection.yolo_model import SMALL_BACKBONE, yolo_detector
from keras_recipes.epoch_seeding import epoch_shuffled_indices, every_epoch
from keras_recipes.errors import ConfigError, DataError, UserError
from keras_recipes.figures import plot_history
from keras_recipes.registry import register
from keras_recipes.training import (
    Datasets,
    Recipe,
    save_model_atomic,
    write_json_atomic,
)

AUTOTUNE = tf.data.AUTOTUNE
DETECTION_FILE = "detection.json"


@dataclasses.dataclass
class ShapesConfig:
    """Size of the embedded synthetic `shapes` set."""

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


@dataclasses.dataclass
class DetectionDataConfig:
    """Where the images and boxes come from and how they are prepared."""

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
    image_size: list[int] = param([96, 96], doc="Model input height and width.")
    augmentation: DetectionAugmentationConfig = section(DetectionAugmentationConfig)
    shapes: ShapesConfig = section(ShapesConfig)

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
    head_filters: int = param(128, minimum=1, doc="Filters of the head's 3x3 conv.")
    anchors: Literal["auto"] | list[list[float]] = param(
        "auto", doc="auto (k-means on training boxes) or [[w, h], ...] in pixels."
    )
    num_anchors: int = param(3, minimum=1, doc="Anchors per cell when auto.")

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
    noobj_weight: float = param(0.5, minimum=0, doc="Objectness without.")
    class_weight: float = param(1.0, minimum=0, doc="Class cross-entropy.")
    ignore_threshold: float = param(
        0.5, minimum=0, maximum=1, doc="IoU above which no-object is not penalised."
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

    recipe: str = param("yolo")
    data: DetectionDataConfig = section(DetectionDataConfig)
    model: YoloModelConfig = section(YoloModelConfig)
    loss: YoloLossConfig = section(YoloLossConfig)
    postprocess: PostprocessConfig = section(PostprocessConfig)


def _box_sizes(annotations):
    sizes = [a["boxes"][:, 2:] - a["boxes"][:, :2] for a in annotations]
    return np.concatenate(sizes) if sizes else np.zeros((0, 2), "float32")


@register
class YoloRecipe(Recipe):
    """Trains a YOLO detector and reports mAP on the held-out images.

    The data is the embedded `shapes` set or a folder in Pascal VOC, COCO
    JSON or YOLO txt format; images are resized to `data.image_size` with
    their boxes. With `model.anchors: auto` the anchors are found by k-means
    (1 - IoU distance) on the training boxes. Training minimises the YOLO
    loss on encoded target grids; evaluation decodes the outputs, keeps
    `Pc x class probability` scores, runs per-class non-max suppression and
    computes `map50` (Pascal VOC) and `map` (COCO) on the test split. The
    run directory gets `detection.json` (anchors, classes, thresholds), a
    SavedModel that returns final boxes, and figures of predicted and true
    boxes.

    Example:

    ```python
    from keras_recipes import load_config
    from keras_recipes.recipes import YoloRecipe

    result = YoloRecipe(load_config("yolo", {"train.epochs": 5})).run()
    print(result.metrics["map50"])
    ```
    """

    name = "yolo"
    description = (
        "YOLO object detection with anchors, NMS and mAP (shapes, VOC, COCO, YOLO txt)."
    )
    config_class = YoloConfig
    quick = {
        "train.epochs": 1,
        "data.image_size": [64, 64],
        "data.shapes.num_train": 64,
        "data.shapes.num_test": 8,
        "model.filters": [8, 16, 32, 64],
        "model.head_filters": 16,
        "export.saved_model": False,
    }

    # Data.

    def build_data(self):
        data_config = self.config.data
        size = tuple(data_config.image_size)
        if data_config.source == "shapes":
            splits, class_names = self._shapes_splits()
        else:
            splits, class_names = self._folder_splits()
        (x_train, y_train), validation, (x_test, y_test) = splits
        box_wh = _box_sizes(y_train)
        if len(box_wh) == 0:
            raise DataError("the training split has no boxes; nothing to learn from")
        self.anchors = self._anchors(box_wh)
        self.class_names = list(class_names)
        self.grid = self._grid_size(size)
        encode = self._encoder()
        batch_size = self.config.train.batch_size
        train = self._train_dataset(x_train, y_train, batch_size).prefetch(AUTOTUNE)
        validation_data = None
        if validation is not None:
            x_val, y_val = validation
            validation_data = (
                tf.data.Dataset.from_tensor_slices(
                    (x_val.astype("float32"), encode(y_val))
                )
                .batch(batch_size)
                .prefetch(AUTOTUNE)
            )
        test = tf.data.Dataset.from_tensor_slices(
            (x_test.astype("float32"), encode(y_test))
        ).batch(batch_size)
        steps = int(np.ceil(len(x_train) / batch_size))
        return Datasets(
            train=train,
            validation=validation_data,
            test=test,
            steps_per_epoch=self.config.train.steps_per_epoch or steps,
            input_shape=(*size, 3),
            class_names=self.class_names,
            info={
                "x_test": x_test,
                "y_test": y_test,
                "box_wh": box_wh,
                "anchors": self.anchors,
                "grid": self.grid,
                "num_train": len(x_train),
            },
        )

    def _train_dataset(self, images, annotations, batch_size):
        """Every epoch's shuffled, augmented, encoded batches; draws fixed by epoch."""
        most = max(1, max(len(a["classes"]) for a in annotations))
        boxes = np.zeros((len(images), most, 4), "float32")
        classes = np.full((len(images), most), -1, "int32")
        for index, annotation in enumerate(annotations):
            boxes[index, : len(annotation["classes"])] = annotation["boxes"]
            classes[index, : len(annotation["classes"])] = annotation["classes"]
        images, boxes, classes = (tf.constant(a) for a in (images, boxes, classes))
        seed, count = self.config.seed, len(annotations)
        options = dataclasses.asdict(self.config.data.augmentation)
        size = tuple(self.config.data.image_size)
        grid, anchors, num_classes = self.grid, self.anchors, len(self.class_names)
        target_shape = (*grid, len(anchors), 5 + num_classes)

        def encode(box_array, class_array):
            kept = class_array >= 0
            return encode_yolo_targets(
                box_array[kept], class_array[kept], grid, anchors, num_classes, size
            )

        def one_epoch(number):
            def example(index):
                index = tf.cast(index, tf.int64)
                stream = tf.stack([tf.constant(seed, tf.int64), number * count + index])
                image, image_boxes, image_classes = augment_detection(
                    tf.cast(tf.gather(images, index), tf.float32),
                    tf.gather(boxes, index),
                    tf.gather(classes, index),
                    stream,
                    **options,
                )
                target = tf.numpy_function(
                    encode, [image_boxes, image_classes], tf.float32, stateful=False
                )
                target.set_shape(target_shape)
                return image, target

            order = epoch_shuffled_indices(count, seed, number)
            examples = order.map(example, num_parallel_calls=AUTOTUNE)
            return examples.batch(batch_size)

        return every_epoch(self.epoch, one_epoch)

    def _encoder(self):
        size = tuple(self.config.data.image_size)

        def encode(annotations):
            return encode_yolo_batch(
                annotations, self.grid, self.anchors, len(self.class_names), size
            )

        return encode

    def _shapes_splits(self):
        shapes = self.config.data.shapes
        height, width = self.config.data.image_size
        if height != width:
            raise ConfigError(
                "the shapes set is square; set data.image_size to [N, N]. "
                f"Received: {self.config.data.image_size}"
            )
        (x_train, y_train), (x_test, y_test), class_names = load_shapes(
            shapes.num_train,
            shapes.num_test,
            image_size=height,
            seed=shapes.seed,
            max_objects=shapes.max_objects,
            pair_probability=shapes.pair_probability,
        )
        train, validation = self._split_validation(x_train, y_train)
        return (train, validation, (x_test, y_test)), class_names

    def _split_validation(self, images, annotations):
        fraction = self.config.train.validation_split
        count = int(round(len(images) * fraction))
        if count == 0 or count >= len(images):
            return (images, annotations), None
        order = np.random.default_rng(self.config.seed).permutation(len(images))
        held, kept = np.sort(order[:count]), np.sort(order[count:])
        return (
            (images[kept], [annotations[i] for i in kept]),
            (images[held], [annotations[i] for i in held]),
        )

    def _folder_splits(self):
        data_config = self.config.data
        directory, annotation_format = data_config.directory, data_config.format
        present = find_annotation_splits(directory, annotation_format)
        if "train" not in present:
            raise DataError(
                f"no training split in {directory} (format {annotation_format}); "
                f"see the layouts in `python -m keras_recipes show yolo`"
            )
        size = tuple(data_config.image_size)
        class_names = data_config.class_names or None
        records, class_names = read_annotations(
            directory, annotation_format, "train", class_names
        )
        loaded = {"train": load_annotated_images(records, size)}
        for split in ("val", "test"):
            if split in present:
                records, _ = read_annotations(
                    directory, annotation_format, split, class_names
                )
                loaded[split] = load_annotated_images(records, size)
        # The held-out split is `test`, or `val` when there is no `test`;
        # validation is `val` next to a `test`, or carved from `train`.
        if "test" in loaded:
            test = loaded["test"]
            if "val" in loaded:
                return (loaded["train"], loaded["val"], test), class_names
        elif "val" in loaded:
            test = loaded["val"]
        else:
            raise DataError(
                f"no held-out split in {directory}: add a 'test' (or 'val') split "
                f"so mAP is measured on images the model did not train on"
            )
        train, validation = self._split_validation(*loaded["train"])
        return (train, validation, test), class_names

    def _anchors(self, box_wh):
        model_config = self.config.model
        if model_config.anchors != "auto":
            return np.array(model_config.anchors, "float32")
        shapes = len(np.unique(box_wh, axis=0))
        if shapes < model_config.num_anchors:
            raise DataError(
                f"the training boxes have only {shapes} distinct shapes, fewer than "
                f"model.num_anchors={model_config.num_anchors}; lower it"
            )
        positive = box_wh[np.all(box_wh > 0, axis=1)]
        anchors = kmeans_anchors(
            positive, model_config.num_anchors, seed=self.config.seed
        )
        return anchors.astype("float32")

    def _grid_size(self, size):
        self._model = self._build_detector((*size, 3), len(self.class_names))
        return tuple(self._model.output_shape[1:3])

    # Model.

    def _build_detector(self, input_shape, num_classes):
        model_config = self.config.model
        try:
            return yolo_detector(
                backbone=model_config.backbone,
                input_shape=input_shape,
                anchors=len(self.anchors),
                num_classes=num_classes,
                filters=tuple(model_config.filters),
                head_filters=model_config.head_filters,
                backbone_weights=model_config.backbone_weights,
            )
        except ValueError as error:
            raise ConfigError(f"model: {error}") from None

    def build_model(self, data):
        model = getattr(self, "_model", None)
        if model is None:
            model = self._build_detector(data.input_shape, len(data.class_names))
        if tuple(model.output_shape[1:3]) != tuple(data.info["grid"]):
            raise ConfigError(
                f"the model predicts a {model.output_shape[1:3]} grid but the targets "
                f"were encoded for {data.info['grid']}"
            )
        return model

    def build_loss(self):
        loss_config = self.config.loss
        return YoloLoss(
            self.anchors,
            tuple(self.config.data.image_size),
            coord_weight=loss_config.coord_weight,
            object_weight=loss_config.object_weight,
            noobj_weight=loss_config.noobj_weight,
            class_weight=loss_config.class_weight,
            ignore_threshold=loss_config.ignore_threshold,
        )

    # Evaluation, export, figures.

    def detect(self, model, images, score_threshold=None):
        """Returns one dict of boxes, scores and classes per image.

        Args:
            model: The trained detector.
            images: Array `[N, height, width, 3]` of the model's input size.
            score_threshold: Smallest score kept. Defaults to `None`, which
                uses `postprocess.score_threshold`.

        Returns:
            A list of dicts (`"boxes"` in `"xyxy"` pixels of the input,
            `"scores"`, `"classes"`).
        """
        post = self.config.postprocess
        if getattr(self, "anchors", None) is None:
            # A recipe from `from_run_dir` reads the anchors its run found.
            self.anchors = np.array(self._detection_info()["anchors"], "float32")
        outputs = model.predict(np.asarray(images, "float32"), verbose=0, batch_size=64)
        detections = yolo_detections(
            outputs,
            self.anchors,
            tuple(self.config.data.image_size),
            score_threshold=(
                post.score_threshold if score_threshold is None else score_threshold
            ),
            iou_threshold=post.iou_threshold,
            max_detections=post.max_detections,
        )
        return detections_to_list(detections)

    def evaluate(self, model, data):
        metrics = {}
        if data.validation is not None:
            metrics["val_loss"] = float(model.evaluate(data.validation, verbose=0))
        x_test, y_test = data.info["x_test"], data.info["y_test"]
        self.predictions = self.detect(
            model, x_test, self.config.postprocess.eval_score_threshold
        )
        result = evaluate_detections(y_test, self.predictions)
        metrics["map50"] = result["map50"]
        metrics["map"] = result["map"]
        for index, name in enumerate(data.class_names):
            if index in result["ap50_per_class"]:
                metrics[f"ap50_{name}"] = result["ap50_per_class"][index]
        metrics["test_images"] = len(x_test)
        metrics["test_boxes"] = int(sum(len(y["classes"]) for y in y_test))
        return metrics

    def export(self, model, data):
        post = self.config.postprocess
        write_json_atomic(
            self.run_dir / DETECTION_FILE,
            {
                "class_names": list(data.class_names),
                "anchors": np.asarray(self.anchors).tolist(),
                "image_size": list(self.config.data.image_size),
                "grid": list(data.info["grid"]),
                "score_threshold": post.score_threshold,
                "iou_threshold": post.iou_threshold,
                "max_detections": post.max_detections,
            },
        )
        if self.config.export.keras:
            save_model_atomic(model, self.run_dir / "model.keras")
        if self.config.export.saved_model:
            detector = detection_model(
                model,
                self.anchors,
                score_threshold=post.score_threshold,
                iou_threshold=post.iou_threshold,
                max_detections=post.max_detections,
            )
            target = self.run_dir / "export" / "saved_model"
            temp = target.with_name(".saved_model.partial")
            shutil.rmtree(temp, ignore_errors=True)
            detector.export(str(temp), verbose=False)
            temp.replace(target)

    def figures(self, model, data, history):
        plot_history(history, self.figure_path("training_curves.png"))
        plot_anchors(
            data.info["box_wh"],
            self.anchors,
            self.figure_path("anchors.png"),
            title=f"training box sizes and {len(self.anchors)} anchors",
        )
        x_test, y_test = data.info["x_test"], data.info["y_test"]
        count = min(12, len(x_test))
        threshold = self.config.postprocess.score_threshold
        predictions = self.detect(model, x_test[:count], threshold)
        plot_detections(
            x_test[:count],
            self.figure_path("detections.png"),
            truths=y_test[:count],
            predictions=predictions,
            class_names=data.class_names,
            title=f"test images: predicted (solid, score >= {threshold:g}) "
            f"and true (dashed) boxes",
        )

    # Prediction for files.

    def predict(self, model, paths):
        """Returns `(path, detections)` per file and draws them to PNGs.

        Each row's text lists `class score [x1 y1 x2 y2]` in the pixels of
        the original file, best first; the drawings go to
        `<run>/predictions/<file stem>.png`.
        """
        info = self._detection_info()
        height, width = info["image_size"]
        detections = self.detect(model, load_images(paths, (height, width), 3))
        folder = self.run_dir / "predictions"
        folder.mkdir(exist_ok=True)
        rows = []
        for path, found in zip(paths, detections, strict=True):
            with Image.open(path) as original:
                scale = np.array([original.width / width, original.height / height] * 2)
                pixels = np.asarray(original.convert("RGB"))
            found = {**found, "boxes": found["boxes"] * scale}
            plot_detections(
                pixels[None],
                folder / f"{Path(path).stem}.png",
                predictions=[found],
                class_names=info["class_names"],
                columns=1,
            )
            items = [
                f"{info['class_names'][label]} {score:.2f} "
                f"[{' '.join(f'{v:.0f}' for v in box)}]"
                for box, score, label in zip(
                    found["boxes"], found["scores"], found["classes"], strict=True
                )
            ]
            rows.append((str(path), "; ".join(items) or "no detections"))
        return rows

    def _detection_info(self):
        info_file = self.run_dir / DETECTION_FILE if self.run_dir else None
        if info_file is None or not info_file.is_file():
            raise UserError(
                f"{self.run_dir} has no {DETECTION_FILE}; was the run finished?"
            )
        return json.loads(info_file.read_text())


if __name__ == "__main__":
    from keras_recipes.cli import main

    sys.exit(main(["run", YoloRecipe.name, *sys.argv[1:]]))
