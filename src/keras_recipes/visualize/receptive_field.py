"""The receptive field of a layer's units in a chain of image layers."""

import dataclasses

import keras

# Layers that move or resize the picture: convolutions and pooling.
_WINDOWED = (
    keras.layers.Conv2D,
    keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv2D,
    keras.layers.MaxPooling2D,
    keras.layers.AveragePooling2D,
)


@dataclasses.dataclass(frozen=True)
class ReceptiveField:
    """Where a layer's units look in the input image.

    Unit `(row, column)` of the layer sees the input square of side `size`
    whose top-left pixel is `(start + row * jump, start + column * jump)`;
    parts of it may lie in the zero padding outside the image.

    Attributes:
        size: Side of the square, in input pixels.
        jump: Input pixels between neighbouring units.
        start: Input coordinate of the first unit's top-left pixel (negative
            when the first unit reaches into the padding).
    """

    size: int
    jump: int
    start: int

    def window(self, row, column):
        """Returns `(top, left)` of unit `(row, column)`'s square."""
        return self.start + row * self.jump, self.start + column * self.jump


def _spatial_input(layer):
    shape = layer.input.shape
    return shape[1], shape[2]


def _pads_before(kernel, stride, size, padding):
    if padding == "valid":
        return 0
    # TensorFlow's "same": out = ceil(size / stride), the extra row split with
    # the smaller half before.
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2


def receptive_field(model, layer_name):
    """Computes the receptive field of a layer's units in a chain model.

    Walks the model's layers from the input to `layer_name`: each
    convolution or pooling layer with kernel `k`, stride `s`, dilation `d`
    and `p` padding rows before grows the field by `(k - 1) * d * jump`,
    multiplies the jump by `s` and moves the start by `-p * jump`. Layers
    that keep the image grid (activations, rescaling, normalisation,
    dropout) change nothing.

    Args:
        model: A `keras.Sequential` or a chain-shaped functional model
            whose images are channels-last.
        layer_name: A layer of `model` with a `[batch, height, width,
            channels]` output.

    Returns:
        A `ReceptiveField`.

    Example:

    ```python
    model = small_cnn(input_shape=(16, 16, 1), num_classes=10, filters=(8, 8))
    receptive_field(model, "block2_conv")  # size=8, jump=2, start=-3
    ```

    Reference:

    - [Araujo et al., 2019](https://distill.pub/2019/computing-receptive-fields/)
    """
    names = [layer.name for layer in model.layers]
    if layer_name not in names:
        raise ValueError(
            f"model '{model.name}' has no layer '{layer_name}'. Received: "
            f"layer_name={layer_name}"
        )
    size, jump, start = 1, 1, 0
    for layer in model.layers[: names.index(layer_name) + 1]:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, _WINDOWED):
            if getattr(layer, "data_format", "channels_last") != "channels_last":
                raise ValueError(
                    f"layer '{layer.name}' is channels_first; only channels_last "
                    f"models are supported. Received: layer_name={layer_name}"
                )
            kernel = getattr(layer, "kernel_size", None) or layer.pool_size
            stride = layer.strides
            dilation = getattr(layer, "dilation_rate", (1, 1))
            if kernel[0] != kernel[1] or stride[0] != stride[1]:
                raise ValueError(
                    f"layer '{layer.name}' has a non-square kernel {kernel} or "
                    f"stride {stride}. Received: layer_name={layer_name}"
                )
            effective = (kernel[0] - 1) * dilation[0] + 1
            height, _ = _spatial_input(layer)
            before = _pads_before(effective, stride[0], height, layer.padding)
            start -= before * jump
            size += (effective - 1) * jump
            jump *= stride[0]
            continue
        if len(layer.output.shape) != 4 or len(layer.input.shape) != 4:
            raise ValueError(
                f"layer '{layer.name}' does not map images to images, so "
                f"'{layer_name}' after it has no receptive field. Received: "
                f"layer_name={layer_name}"
            )
        if tuple(layer.output.shape[1:3]) != tuple(layer.input.shape[1:3]):
            raise ValueError(
                f"layer '{layer.name}' ({type(layer).__name__}) resizes the "
                f"image in a way this function does not know. Received: "
                f"layer_name={layer_name}"
            )
    return ReceptiveField(size=size, jump=jump, start=start)
