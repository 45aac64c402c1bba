"""The YOLO detector: a backbone, then one conv head predicting every anchor."""

import math

import keras
import numpy as np

from keras_recipes.detection.targets import check_anchors, grid_shape
from keras_recipes.models.transfer import application_preprocessing
from keras_recipes.weights import build_application

SMALL_BACKBONE = "small"
# The output stride of every `keras.applications` backbone.
APPLICATION_STRIDE = 32
# Applications whose stride-2 steps round sizes down ('valid' pooling)
# rather than up ('same' padding, as MobileNetV2, ResNet, EfficientNet).
_ROUNDING_DOWN = ("vgg", "densenet", "convnext")


def yolo_grid(input_size, backbone=SMALL_BACKBONE, filters=(16, 32, 64, 128)):
    """Returns the `(rows, columns)` grid a `yolo_detector` predicts.

    A pure function of the input size and the backbone's strides, so the
    targets can be encoded for the grid before any model is built. The small
    backbone halves the size (rounding down) at each of its
    `len(filters) - 1` poolings. An application backbone has a stride of 32:
    its grid is the size over 32, rounded up for backbones with 'same'
    padding (MobileNet V2 and V3, ResNet, EfficientNet) and down for VGG,
    DenseNet, ConvNeXt and MobileNet; sizes that are multiples of 32 give the
    same grid either way. Backbones with unpadded stems (Inception, Xception,
    NASNet) may differ; `yolo_detector(grid=...)` checks the grid against
    the model it builds.

    Args:
        input_size: `(height, width)` of the input in pixels (a longer
            shape such as `(height, width, 3)` is read for its first two).
        backbone: `"small"` or a `keras.applications` name.
            Defaults to `"small"`.
        filters: Filters of the small backbone's blocks; only their number
            matters. Defaults to `(16, 32, 64, 128)`.

    Returns:
        A tuple `(rows, columns)` of ints.

    Example:

    >>> yolo_grid((96, 128))
    (12, 16)
    >>> yolo_grid((100, 100), backbone="MobileNetV2")
    (4, 4)
    """
    height, width = (int(s) for s in tuple(input_size)[:2])
    if min(height, width) < 1:
        raise ValueError(
            f"`input_size` must be positive. Received: input_size={input_size}"
        )
    if backbone == SMALL_BACKBONE:
        poolings = max(len(filters) - 1, 0)
        return height // 2**poolings, width // 2**poolings
    if str(backbone).lower().startswith(_ROUNDING_DOWN) or (
        str(backbone).lower() == "mobilenet"
    ):
        return height // APPLICATION_STRIDE, width // APPLICATION_STRIDE
    return -(-height // APPLICATION_STRIDE), -(-width // APPLICATION_STRIDE)


def _conv_block(x, filters, kernel_size, name, strides=1):
    x = keras.layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        use_bias=False,
        name=f"{name}_conv",
    )(x)
    # A shorter memory than Keras's 0.99 lets the moving statistics follow
    # the quickly changing early weights, so validation is meaningful sooner.
    x = keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return keras.layers.LeakyReLU(0.1, name=f"{name}_leaky")(x)


def yolo_detector(
    backbone=SMALL_BACKBONE,
    input_shape=(96, 96, 3),
    grid=None,
    anchors=3,
    num_classes=3,
    filters=(16, 32, 64, 128),
    head_filters=128,
    backbone_weights=None,
    objectness_prior=0.01,
    depth=1,
    strided_stem=False,
    name="yolo_detector",
):
    """Builds a YOLO detector whose output is the grid `[S, S, B, 5 + C]`.

    Images with values in [0, 255] go in; for each cell of the grid and each
    of its `B` anchors the model predicts raw `[t_o, t_x, t_y, t_w, t_h,
    t_1 .. t_C]` (see `decode_yolo_output` and `YoloLoss`).

    The default backbone is small and trains from scratch on a CPU: `depth`
    3x3 conv, batch norm and leaky ReLU blocks per entry of `filters` (the
    second and later ones added to their input, as residual blocks), with
    2x2 max pooling between stages, so the grid is the input size divided by
    `2 ** (len(filters) - 1)`. With `strided_stem` the first block's conv
    has stride 2 in place of the first pooling: the same grid without a
    full-resolution feature map, as YOLOv5's and YOLOv8's stems. Any
    `keras.applications` model can be the backbone instead, by name
    (`"MobileNetV2"`, `"ResNet50"`, ...), with its own preprocessing built
    in; its grid is the input size over 32. The head
    is a 3x3 conv block and a 1x1 conv whose objectness bias starts at the
    logit of `objectness_prior`, so training does not begin with a flood of
    false positives.

    Args:
        backbone: `"small"` or a `keras.applications` name.
            Defaults to `"small"`.
        input_shape: `(height, width, channels)`. Defaults to `(96, 96, 3)`.
        grid: The expected grid, an int or `(rows, columns)`, checked against
            what the backbone gives; `None` accepts it. Defaults to `None`.
        anchors: The number of anchors per cell, or the anchors themselves
            (shape `[B, 2]`; only their count matters here). Defaults to `3`.
        num_classes: The number of classes `C`. Defaults to `3`.
        filters: Filters of the small backbone's blocks.
            Defaults to `(16, 32, 64, 128)`.
        head_filters: Filters of the head's 3x3 conv. Defaults to `128`.
        backbone_weights: For an application backbone: `"imagenet"`, a
            local weights file, or `None` for random weights.
            Defaults to `None`.
        objectness_prior: Initial objectness probability. Defaults to `0.01`.
        depth: Conv blocks per stage of the small backbone. Defaults to `1`.
        strided_stem: Whether the small backbone's first conv has stride 2
            in place of the first max pooling. Defaults to `False`.
        name: Model name. Defaults to `"yolo_detector"`.

    Returns:
        An uncompiled `keras.Model`.

    Reference:
        - [Redmon et al., 2016](https://arxiv.org/abs/1506.02640)
        - [Redmon and Farhadi, 2016](https://arxiv.org/abs/1612.08242)

    Example:

    ```python
    model = yolo_detector(input_shape=(96, 96, 3), anchors=3, num_classes=3)
    model.output_shape  # (None, 12, 12, 3, 8)
    ```
    """
    input_shape = tuple(input_shape)
    if len(input_shape) != 3 or any(s is None or s < 1 for s in input_shape):
        raise ValueError(
            "`input_shape` must be (height, width, channels) with fixed sizes. "
            f"Received: input_shape={input_shape}"
        )
    if isinstance(anchors, (int, np.integer)) and not isinstance(anchors, bool):
        num_anchors = int(anchors)
        if num_anchors < 1:
            raise ValueError(
                f"`anchors` must be at least 1. Received: anchors={anchors}"
            )
    else:
        num_anchors = len(check_anchors(anchors))
    if num_classes < 1:
        raise ValueError(
            f"`num_classes` must be at least 1. Received: num_classes={num_classes}"
        )
    if not 0 < objectness_prior < 1:
        raise ValueError(
            "`objectness_prior` must be in (0, 1). "
            f"Received: objectness_prior={objectness_prior}"
        )

    images = keras.Input(input_shape, name="images")
    if backbone == SMALL_BACKBONE:
        if not filters or min(filters) < 1:
            raise ValueError(
                f"`filters` must be positive and not empty. Received: filters={filters}"
            )
        if strided_stem and len(filters) < 2:
            raise ValueError(
                "`strided_stem` replaces the first pooling, so `filters` needs "
                f"at least 2 stages. Received: filters={filters}"
            )
        if int(depth) != depth or depth < 1:
            raise ValueError(f"`depth` must be a positive int. Received: depth={depth}")
        x = keras.layers.Rescaling(1 / 255, name="rescaling")(images)
        for index, count in enumerate(filters):
            if index >= 1 + bool(strided_stem):
                x = keras.layers.MaxPooling2D(2, name=f"block{index}_pool")(x)
            stride = 2 if strided_stem and index == 0 else 1
            x = _conv_block(x, count, 3, f"block{index + 1}", strides=stride)
            for repeat in range(1, int(depth)):
                name = f"block{index + 1}_{repeat + 1}"
                shortcut = x
                x = _conv_block(x, count, 3, name)
                x = keras.layers.Add(name=f"{name}_add")([shortcut, x])
        features = x
    else:
        if input_shape[-1] != 3:
            raise ValueError(
                f"A keras.applications backbone needs RGB input. Received: "
                f"input_shape={input_shape}"
            )
        base = build_application(
            backbone,
            weights=backbone_weights,
            input_shape=input_shape,
            include_top=False,
        )
        x = application_preprocessing(backbone)(images)
        features = base(x)

    rows, columns = features.shape[1], features.shape[2]
    if grid is not None and grid_shape(grid) != (rows, columns):
        raise ValueError(
            f"The backbone turns a {input_shape[0]}x{input_shape[1]} input into a "
            f"{rows}x{columns} grid; change input_shape or the backbone. "
            f"Received: grid={grid}"
        )
    x = _conv_block(features, head_filters, 3, "head")
    width = 5 + num_classes
    bias = np.zeros((num_anchors, width), "float32")
    bias[:, 0] = math.log(objectness_prior / (1 - objectness_prior))
    x = keras.layers.Conv2D(
        num_anchors * width,
        1,
        bias_initializer=keras.initializers.Constant(bias.reshape(-1)),
        name="head_output",
    )(x)
    outputs = keras.layers.Reshape((rows, columns, num_anchors, width), name="grid")(x)
    return keras.Model(images, outputs, name=name)
