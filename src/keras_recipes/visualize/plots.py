"""Figures of what a convnet has learned: filters and top patches."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(figure, path):
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _show(axis, image):
    if image.shape[-1] == 1:
        axis.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        axis.imshow(image, interpolation="nearest")
    axis.set_xticks([])
    axis.set_yticks([])


def _mosaic(patches, columns, gap_value=1.0):
    """Tiles `[k, s, s, c]` patches into one image with 1-pixel gaps."""
    count, size, _, channels = patches.shape
    rows = -(-count // columns)
    step = size + 1
    tile = np.full((rows * step - 1, columns * step - 1, channels), gap_value)
    for index, patch in enumerate(patches):
        row, column = divmod(index, columns)
        tile[row * step : row * step + size, column * step : column * step + size] = (
            patch
        )
    return tile


def plot_unit_patches(found, path, value_range=(0.0, 255.0), max_units=64):
    """Draws each unit's top patches as a small mosaic, one panel per unit.

    Args:
        found: A `UnitPatches` from `top_patches`.
        path: PNG file to write.
        value_range: `(low, high)` input values mapped to black and white.
            Defaults to `(0.0, 255.0)`.
        max_units: Units drawn at most (the first ones). Defaults to `64`.

    Returns:
        `path`.

    Example:

    ```python
    plot_unit_patches(top_patches(model, "block1_conv", x_test), "patches.png")
    ```
    """
    low, high = value_range
    patches = np.clip((found.patches - low) / max(high - low, 1e-12), 0.0, 1.0)
    units = min(len(patches), max_units)
    side = int(np.ceil(np.sqrt(found.patches.shape[1])))
    columns = min(8, units)
    rows = -(-units // columns)
    figure, axes = plt.subplots(
        rows,
        columns,
        figsize=(1.5 * columns, 1.6 * rows + 0.4),
        squeeze=False,
        layout="constrained",
    )
    for index, axis in enumerate(axes.flat):
        if index >= units:
            axis.axis("off")
            continue
        # Gaps are drawn mid-grey so that black and white patches both show.
        _show(axis, _mosaic(patches[index], side, gap_value=0.5))
        # A unit that never fires has no top patches, only ties at 0.
        dead = found.activations[index, 0] <= 0
        axis.set_title(f"unit {index}" + (" (dead)" if dead else ""), fontsize=8)
    size = found.field.size
    figure.suptitle(
        f"{found.layer_name}: top {found.patches.shape[1]} patches per unit "
        f"({size}x{size} receptive field)",
        fontsize=10,
    )
    return _save(figure, path)


def plot_filters(kernel, path, title="first-layer filters", max_filters=64):
    """Draws convolution filters as images, each scaled to its own range.

    A filter over 3 input channels is drawn in colour; over 1 in grey; over
    another number of channels, its mean over them in grey.

    Args:
        kernel: Array `[k, k, in_channels, filters]`, a `Conv2D` kernel.
        path: PNG file to write.
        title: Figure title. Defaults to `"first-layer filters"`.
        max_filters: Filters drawn at most. Defaults to `64`.

    Returns:
        `path`.

    Example:

    ```python
    plot_filters(model.get_layer("block1_conv").kernel.numpy(), "filters.png")
    ```
    """
    kernel = np.asarray(kernel, dtype="float32")
    if kernel.ndim != 4:
        raise ValueError(
            f"kernel must be [k, k, in_channels, filters]. Received: shape "
            f"{kernel.shape}"
        )
    filters = np.moveaxis(kernel, -1, 0)[:max_filters]
    if filters.shape[-1] not in (1, 3):
        filters = filters.mean(axis=-1, keepdims=True)
    low = filters.min(axis=(1, 2, 3), keepdims=True)
    high = filters.max(axis=(1, 2, 3), keepdims=True)
    filters = (filters - low) / np.maximum(high - low, 1e-12)
    columns = min(8, len(filters))
    rows = -(-len(filters) // columns)
    figure, axes = plt.subplots(
        rows,
        columns,
        figsize=(1.2 * columns, 1.25 * rows + 0.4),
        squeeze=False,
        layout="constrained",
    )
    for index, axis in enumerate(axes.flat):
        if index >= len(filters):
            axis.axis("off")
            continue
        _show(axis, filters[index])
        axis.set_title(str(index), fontsize=8)
    figure.suptitle(title, fontsize=10)
    return _save(figure, path)
