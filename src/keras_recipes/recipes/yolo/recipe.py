"""The `yolo` recipe: a YOLO detector trained and measured by mAP."""

import numpy as np

from keras_recipes.detection.decode import detection_model
from keras_recipes.detection.loss import YoloLoss
from keras_recipes.detection.targets import xy_scale
from keras_recipes.detection.yolo_model import yolo_detector
from keras_recipes.errors import ConfigError
from keras_recipes.figures import plot_history
from keras_recipes.recipes.yolo.config import YoloConfig
from keras_recipes.recipes.yolo.data import build_yolo_data
from keras_recipes.recipes.yolo.detect import (
    DETECTION_FILE,
    detect,
    detection_info,
    read_detection_info,
)
from keras_recipes.recipes.yolo.evaluation import evaluate_detector
from keras_recipes.recipes.yolo.figures import plot_yolo_figures
from keras_recipes.recipes.yolo.predict import predict_files
from keras_recipes.saving import write_json_atomic
from keras_recipes.training import Recipe


class YoloRecipe(Recipe):
    """Trains a YOLO detector and reports mAP on the held-out images.

    The data is the embedded `shapes` set or a folder in Pascal VOC, COCO
    JSON or YOLO txt format; images are resized to `data.image_size` with
    their boxes. With `model.anchors: auto` the anchors are found by k-means
    (1 - IoU distance) on the training boxes. Training minimises the YOLO
    loss on target grids encoded for the grid the backbone gives the input
    size (`yolo_grid`); evaluation decodes the outputs, keeps
    `Pc x class probability` scores, runs per-class non-max suppression and
    computes `map50` (Pascal VOC) and `map` (COCO) on the test split. The
    run directory gets `detection.json` (anchors, classes, thresholds), the
    serving files of `export.formats` (a SavedModel by default; ONNX and
    LiteRT too), which return final boxes, and figures of predicted and
    true boxes.

    Example:

    ```python
    from keras_recipes import load_config
    from keras_recipes.recipes import YoloRecipe

    result = YoloRecipe(load_config("yolo", {"train.epochs": 5})).run()
    print(result.metrics["map50"])
    ```
    """

    name = "yolo"
    config_class = YoloConfig
    quick = {
        "train.epochs": 1,
        "data.image_size": [64, 64],
        "data.shapes.num_train": 64,
        "data.shapes.num_test": 8,
        "model.filters": [8, 16, 32, 64],
        "model.head_filters": 16,
        "export.formats": ["keras"],
    }

    def build_data(self):
        # Only a folder's files are cached; in-memory sets pass through.
        image_cache = self.config.data.cache.folder(self.runs_root)
        return build_yolo_data(self.config, self.epoch, image_cache)

    def build_model(self, data):
        model_config = self.config.model
        try:
            return yolo_detector(
                backbone=model_config.backbone,
                input_shape=data.input_shape,
                grid=data.grid,
                anchors=len(data.anchors),
                num_classes=len(data.class_names),
                filters=tuple(model_config.filters),
                head_filters=model_config.head_filters,
                backbone_weights=model_config.backbone_weights,
                depth=model_config.depth,
                strided_stem=model_config.strided_stem,
            )
        except ValueError as error:
            raise ConfigError(f"model: {error}") from None

    def build_loss(self, data):
        loss_config = self.config.loss
        return YoloLoss(
            data.anchors,
            tuple(self.config.data.image_size),
            coord_weight=loss_config.coord_weight,
            object_weight=loss_config.object_weight,
            noobj_weight=loss_config.noobj_weight,
            class_weight=loss_config.class_weight,
            ignore_threshold=loss_config.ignore_threshold,
            box_loss=loss_config.box_loss,
            objectness_target=loss_config.objectness_target,
            xy_scale=xy_scale(self.config.model.assignment),
        )

    def evaluate(self, model, data):
        return evaluate_detector(model, data, self.config)

    def export(self, model, data, evaluation):
        """Writes `detection.json`, then the model in the configured formats.

        Args:
            model: The trained detector.
            data: The run's `YoloData`.
            evaluation: What `evaluate` returned.
        """
        write_json_atomic(
            self.run_dir / DETECTION_FILE, detection_info(data, self.config)
        )
        super().export(model, data, evaluation)

    def serving_model(self, model, data):
        """Returns the detector with decoding and NMS: images in, boxes out.

        The same detections as `detect` at `postprocess.score_threshold`,
        with NMS in plain ops (`nms="portable"`), so SavedModel, ONNX and
        LiteRT files all hold it. Images go in with pixels in [0, 255] at
        `data.image_size`; out come `boxes` (`"xyxy"` pixels), `scores`,
        `classes` and `num_detections`.

        Args:
            model: The trained detector.
            data: The run's `YoloData`, or `None` to read the anchors from
                the run's `detection.json`.

        Returns:
            The detection `keras.Model`.
        """
        if data is not None:
            anchors = data.anchors
        else:
            anchors = read_detection_info(self.run_dir)["anchors"]
        post = self.config.postprocess
        return detection_model(
            model,
            np.asarray(anchors, "float32"),
            score_threshold=post.score_threshold,
            iou_threshold=post.iou_threshold,
            max_detections=post.max_detections,
            nms="portable",
            xy_scale=xy_scale(self.config.model.assignment),
        )

    def figures(self, model, data, history, evaluation):
        curves = self.figure_path("training_curves.png")
        plot_history(history, curves)
        plot_yolo_figures(
            data, evaluation, self.config.postprocess.score_threshold, curves.parent
        )

    def detect(self, model, images, score_threshold=None, anchors=None):
        """Returns one dict of boxes, scores and classes per image.

        Args:
            model: The trained detector.
            images: Array `[N, height, width, 3]` of the model's input size.
            score_threshold: Smallest score kept. Defaults to `None`, which
                uses `postprocess.score_threshold`.
            anchors: The model's anchors, `[B, 2]` pixels. Defaults to
                `None`, which reads them from the run's `detection.json`.

        Returns:
            A list of dicts (`"boxes"` in `"xyxy"` pixels of the input,
            `"scores"`, `"classes"`).

        Example:

        ```python
        recipe, model = keras_recipes.load_run(run_dir)
        found = recipe.detect(model, images, score_threshold=0.3)
        ```
        """
        post = self.config.postprocess
        if anchors is None:
            anchors = read_detection_info(self.run_dir)["anchors"]
        return detect(
            model,
            images,
            np.asarray(anchors, "float32"),
            self.config.data.image_size,
            post,
            post.score_threshold if score_threshold is None else score_threshold,
            xy_scale(self.config.model.assignment),
        )

    prediction_columns = ("detections",)
    prediction_format = "{detections}"

    def predict(self, model, paths):
        """Returns `(path, detections)` per file and draws them to PNGs.

        Each row's text lists `class score [x1 y1 x2 y2]` in the pixels of
        the original file, best first; the drawings go to
        `<run>/predictions/<file stem>.png`.

        Args:
            model: The trained detector of the run in `run_dir`.
            paths: Image files, and folders searched at any depth.

        Returns:
            A list of `(path, text)` rows.

        Example:

        ```python
        recipe, model = keras_recipes.load_run(run_dir)
        rows = recipe.predict(model, ["street.jpg"])
        ```
        """
        return predict_files(
            model,
            paths,
            read_detection_info(self.run_dir),
            self.config.postprocess,
            self.run_dir / "predictions",
        )
