"""One random affine resampling and colour jitter per image, drawn from a seed.

Keras 3 has a preprocessing layer per transform (`RandomFlip`,
`RandomRotation`, `RandomZoom`, ...). Chained, they resample the image once
per geometric layer, blurring it a little more each time, and each draws
from its own stateful seed generator, so a `tf.data` map that calls them must
run one batch at a time to keep the draws in order. `RandomImageAugmentation`
composes all the geometric transforms of one image into a single matrix and
resamples once with `keras.ops.image.affine_transform`; its draws are a pure
function of a seed, so batches can be augmented in parallel and still come
out the same on every run. No maintained Keras 3 layer does either.
"""

import math

import keras
import tensorflow as tf

_FLIPS = ("none", "horizontal", "vertical", "horizontal_and_vertical")
_FILL_MODES = ("reflect", "constant", "nearest", "wrap")
_FACTORS = (
    "rotation",
    "zoom",
    "translation",
    "shear",
    "crop",
    "contrast",
    "brightness",
    "hue",
    "saturation",
)


@keras.saving.register_keras_serializable(package="keras_recipes")
class RandomImageAugmentation(keras.layers.Layer):
    """Randomly flips, rotates, zooms, shifts, shears, crops and colour-jitters.

    The geometric transforms are applied in that order, composed into one
    affine map per image and resampled once (bilinear); then contrast,
    brightness, hue and saturation change, in that order, and pixel values
    are clipped to `value_range`. Every image draws its own parameters.

    A transform with factor 0 is off. The ranges follow Keras's layers:
    rotation by up to `rotation` of a turn either way; zoom by a factor in
    `[1 - zoom, 1 + zoom]` (the same on both axes); translation by up to
    `translation` of the size, per axis; shear by a factor in
    `[-shear, shear]`, per axis; a crop of `1 - crop` of the size at a random
    place, scaled back up; contrast by a factor in `[1 - contrast,
    1 + contrast]` about each channel's mean; brightness by up to
    `brightness` of the value range; hue by up to `hue` of the colour circle;
    saturation by a factor in `[1 - saturation, 1 + saturation]`.

    Args:
        flip: `"none"`, `"horizontal"`, `"vertical"` or
            `"horizontal_and_vertical"`; each allowed flip happens with
            probability 1/2. Defaults to `"none"`.
        rotation: Defaults to `0.0`.
        zoom: Defaults to `0.0`.
        translation: Defaults to `0.0`.
        shear: Defaults to `0.0`.
        crop: Defaults to `0.0`.
        contrast: Defaults to `0.0`.
        brightness: Defaults to `0.0`.
        hue: RGB images only. Defaults to `0.0`.
        saturation: RGB images only. Defaults to `0.0`.
        fill_mode: How points outside the image are filled: `"reflect"`,
            `"constant"` (zeros), `"nearest"` or `"wrap"`. Defaults to
            `"constant"`.
        value_range: `(low, high)` of the pixel values. Defaults to
            `(0, 255)`.
        seed: Seed of the layer's own generator, used when `call` gets no
            `seed`. Defaults to `None`.
        **kwargs: Base `Layer` arguments.

    Example:

    ```python
    augment = RandomImageAugmentation(rotation=0.05, zoom=0.1, seed=42)
    images = augment(images, training=True)
    images = augment(images, training=True, seed=tf.constant([1, 2]))
    ```
    """

    def __init__(
        self,
        flip="none",
        rotation=0.0,
        zoom=0.0,
        translation=0.0,
        shear=0.0,
        crop=0.0,
        contrast=0.0,
        brightness=0.0,
        hue=0.0,
        saturation=0.0,
        fill_mode="constant",
        value_range=(0, 255),
        seed=None,
        **kwargs,
    ):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if flip not in _FLIPS:
            raise ValueError(f"flip must be one of {_FLIPS}. Received: flip={flip!r}")
        if fill_mode not in _FILL_MODES:
            raise ValueError(
                f"fill_mode must be one of {_FILL_MODES}. "
                f"Received: fill_mode={fill_mode!r}"
            )
        self.flip = flip
        self.rotation = float(rotation)
        self.zoom = float(zoom)
        self.translation = float(translation)
        self.shear = float(shear)
        self.crop = float(crop)
        self.contrast = float(contrast)
        self.brightness = float(brightness)
        self.hue = float(hue)
        self.saturation = float(saturation)
        for name in _FACTORS:
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(
                    f"{name} must be in [0, 1]. Received: {name}={getattr(self, name)}"
                )
        self.fill_mode = fill_mode
        self.value_range = tuple(float(v) for v in value_range)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = False

    @property
    def is_geometric(self):
        """Whether any transform moves pixels."""
        moves = (self.rotation, self.zoom, self.translation, self.shear, self.crop)
        return self.flip != "none" or any(moves)

    @property
    def changes_colours(self):
        """Whether any transform changes pixel values in place."""
        return any((self.contrast, self.brightness, self.hue, self.saturation))

    def call(self, images, training=True, seed=None):
        if not training:
            return images
        if seed is None:
            seed = self.seed_generator.next()
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2)
        images = tf.convert_to_tensor(images, tf.float32)
        if self.is_geometric:
            shape = tf.shape(images)
            dynamic = tf.cast(shape, tf.float32)
            height = images.shape[1] if images.shape[1] is not None else dynamic[1]
            width = images.shape[2] if images.shape[2] is not None else dynamic[2]
            transforms = self.transform_matrices(shape[0], height, width, seeds[0])
            images = keras.ops.image.affine_transform(
                images,
                transforms,
                interpolation="bilinear",
                fill_mode=self.fill_mode,
                data_format="channels_last",
            )
        return self.jitter_colours(images, seeds[1])

    def transform_matrices(self, num_images, height, width, seed):
        """Returns each image's map from output to input pixel coordinates.

        Row `[a0, a1, a2, b0, b1, b2, 0, 0]` sends output pixel `(x, y)` (`x`
        the column, pixel centres on integers) to input point `(a0 x + a1 y +
        a2, b0 x + b1 y + b2)`, the form `keras.ops.image.affine_transform`
        takes. It is the product, in the order listed in the class docstring,
        of each transform's own map.

        Args:
            num_images: Number of images.
            height: Image height in pixels.
            width: Image width in pixels.
            seed: A `[2]` integer seed tensor.

        Returns:
            A float32 tensor of shape `[num_images, 8]`.

        Example:

        ```python
        transforms = augment.transform_matrices(8, 16, 16, tf.constant([1, 2]))
        ```
        """
        # Closed form, one random draw: a tf.data map pays ~10 us per op, so
        # chaining a 3x3 matrix per transform would cost more than resampling.
        draws = tf.random.stateless_uniform([num_images, 10], seed)
        u = tf.unstack(draws, axis=1)

        def between(column, low, high):
            return low + u[column] * (high - low)

        flip_x = flip_y = cos = zoom = keep = 1.0
        sin = shift_x = shift_y = shear_x = shear_y = corner_x = corner_y = 0.0
        if self.flip in ("horizontal", "horizontal_and_vertical"):
            flip_x = tf.where(u[0] < 0.5, -1.0, 1.0)
        if self.flip in ("vertical", "horizontal_and_vertical"):
            flip_y = tf.where(u[1] < 0.5, -1.0, 1.0)
        if self.rotation:
            turn = 2 * math.pi * self.rotation
            angle = between(2, -turn, turn)
            cos, sin = tf.cos(angle), tf.sin(angle)
        if self.zoom:
            zoom = between(3, 1 - self.zoom, 1 + self.zoom)
        if self.translation:
            shift_x = between(4, -self.translation, self.translation) * width
            shift_y = between(5, -self.translation, self.translation) * height
        if self.shear:
            shear_x = between(6, -self.shear, self.shear)
            shear_y = between(7, -self.shear, self.shear)
        centre_x, centre_y = (width - 1) / 2, (height - 1) / 2
        if self.crop:
            keep = 1 - self.crop
            # Scaling the crop back up maps pixel centres as bilinear resizing
            # does; in coordinates about the centre it is `keep * q + corner`.
            corner_x = between(8, 0.0, self.crop) * width + (keep - 1) / 2
            corner_y = between(9, 0.0, self.crop) * height + (keep - 1) / 2
            corner_x += (keep - 1) * centre_x
            corner_y += (keep - 1) * centre_y
        # About the centre, input = G (S (keep q + corner) - shift), with
        # G = flip rotation zoom and S the shear. `_mul` and `_add` fold the
        # transforms that are off (Python 0 and 1) instead of adding ops.
        g00 = _mul(_mul(flip_x, zoom), cos)
        g01 = _mul(_mul(flip_x, zoom), -sin)
        g10 = _mul(_mul(flip_y, zoom), sin)
        g11 = _mul(_mul(flip_y, zoom), cos)
        a00 = _mul(keep, _add(g00, _mul(g01, shear_y)))
        a01 = _mul(keep, _add(_mul(g00, shear_x), g01))
        a10 = _mul(keep, _add(g10, _mul(g11, shear_y)))
        a11 = _mul(keep, _add(_mul(g10, shear_x), g11))
        v0 = _add(_add(corner_x, _mul(shear_x, corner_y)), _mul(-1.0, shift_x))
        v1 = _add(_add(_mul(shear_y, corner_x), corner_y), _mul(-1.0, shift_y))
        a02 = _add(_add(_mul(g00, v0), _mul(g01, v1)), centre_x)
        a02 = _add(a02, _mul(-1.0, _add(_mul(a00, centre_x), _mul(a01, centre_y))))
        a12 = _add(_add(_mul(g10, v0), _mul(g11, v1)), centre_y)
        a12 = _add(a12, _mul(-1.0, _add(_mul(a10, centre_x), _mul(a11, centre_y))))
        entries = [a00, a01, a02, a10, a11, a12, 0.0, 0.0]
        shape = tf.shape(draws)[:1]
        return tf.stack(
            [tf.fill(shape, float(e)) if _is_number(e) else e for e in entries],
            axis=1,
        )

    def jitter_colours(self, images, seed):
        """Returns `images` with contrast, brightness, hue and saturation jittered.

        Args:
            images: A float32 `[n, height, width, channels]` batch.
            seed: A `[2]` integer seed tensor.

        Returns:
            The jittered batch, clipped to `value_range`.

        Example:

        ```python
        images = augment.jitter_colours(images, tf.constant([1, 2]))
        ```
        """
        if not self.changes_colours:
            return images
        low, high = self.value_range
        draws = tf.random.stateless_uniform(tf.stack([tf.shape(images)[0], 4]), seed)
        u = tf.unstack(draws[:, None, None, None, :], axis=-1)  # [n, 1, 1, 1]

        def between(column, factor):
            return factor * (2 * u[column] - 1)

        if self.contrast:
            mean = tf.reduce_mean(images, axis=(1, 2), keepdims=True)
            images = (images - mean) * (1 + between(0, self.contrast)) + mean
        if self.brightness:
            images += between(1, self.brightness) * (high - low)
        images = tf.clip_by_value(images, low, high)
        if self.hue or self.saturation:
            hsv = tf.image.rgb_to_hsv((images - low) / (high - low))
            hue, saturation, value = tf.unstack(hsv, axis=-1)
            if self.hue:
                hue = tf.math.floormod(hue + between(2, self.hue)[..., 0], 1.0)
            if self.saturation:
                factor = 1 + between(3, self.saturation)[..., 0]
                saturation = tf.clip_by_value(saturation * factor, 0.0, 1.0)
            rgb = tf.image.hsv_to_rgb(tf.stack([hue, saturation, value], axis=-1))
            images = rgb * (high - low) + low
        return images

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "flip": self.flip,
                **{name: getattr(self, name) for name in _FACTORS},
                "fill_mode": self.fill_mode,
                "value_range": self.value_range,
                "seed": self.seed,
            }
        )
        return config


def _is_number(value):
    return isinstance(value, (int, float))


def _mul(a, b):
    """`a * b`, with no op when either is a Python 0 or 1."""
    if _is_number(a) and _is_number(b):
        return a * b
    if _is_number(a):
        a, b = b, a
    if _is_number(b) and b in (0, 1):
        return 0.0 if b == 0 else a
    return a * b


def _add(a, b):
    """`a + b`, with no op when either is a Python 0."""
    if _is_number(a) and _is_number(b):
        return a + b
    if _is_number(a):
        a, b = b, a
    if _is_number(b) and b == 0:
        return a
    return a + b
