"""Figures of a 2-D latent space: encoded points by class, decoded manifold."""

import statistics

import numpy as np

from keras_recipes.figures import plt


def plot_latent_scatter(points, labels, class_names, path, title="latent means"):
    """Draws 2-D latent points coloured by class.

    Args:
        points: Array `[N, 2]`, for example the encoder's `z_mean`.
            No default.
        labels: Int array `[N]`; `-1` marks points without a class.
            No default.
        class_names: Names of the labels `0, 1, ...`; may be empty.
            No default.
        path: PNG file to write. No default.
        title: Figure title. Defaults to `"latent means"`.

    Returns:
        `path`.

    Example:

    ```python
    plot_latent_scatter(z_mean, y_test, [str(i) for i in range(10)], "z.png")
    ```
    """
    points = np.asarray(points)
    labels = np.asarray(labels)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(
            f"`points` must have shape [N, 2]. Received: points.shape={points.shape}"
        )
    figure, axis = plt.subplots(figsize=(6.4, 5.4))
    colours = plt.get_cmap("tab10" if len(class_names) <= 10 else "tab20")
    unlabelled = labels < 0
    if unlabelled.any():
        axis.scatter(*points[unlabelled].T, s=8, c="grey", alpha=0.6, label="none")
    for label, name in enumerate(class_names):
        chosen = labels == label
        if chosen.any():
            colour = colours(label % colours.N)
            axis.scatter(*points[chosen].T, s=8, color=colour, alpha=0.8, label=name)
    if len(class_names) or unlabelled.any():
        axis.legend(markerscale=2.5, fontsize=8, loc="best", ncols=2)
    axis.set_xlabel("z[0]")
    axis.set_ylabel("z[1]")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_latent_manifold(decoder, path, grid_size=15, quantile=0.05):
    """Decodes a grid of 2-D latent points into one large image.

    The grid spans the standard normal prior evenly in probability: each axis
    runs over the normal quantiles from `quantile` to `1 - quantile`, as in
    the figures of Kingma & Welling.

    Args:
        decoder: A model mapping `[N, 2]` latent points to images
            `[N, height, width, channels]` in `[0, 1]`. No default.
        path: PNG file to write. No default.
        grid_size: Points per axis. Defaults to `15`.
        quantile: Lowest prior quantile on each axis. Defaults to `0.05`.

    Returns:
        `path`.

    Example:

    ```python
    plot_latent_manifold(vae.decoder, "manifold.png")
    ```

    Reference:
        - [Kingma & Welling, Auto-Encoding Variational Bayes](
            https://arxiv.org/abs/1312.6114)
    """
    if not 0 < quantile < 0.5:
        raise ValueError(
            f"`quantile` must be between 0 and 0.5. Received: quantile={quantile}"
        )
    normal = statistics.NormalDist()
    values = [normal.inv_cdf(p) for p in np.linspace(quantile, 1 - quantile, grid_size)]
    # Rows run from high z[1] at the top to low z[1] at the bottom.
    z = np.array([[x, y] for y in values[::-1] for x in values], "float32")
    images = np.clip(np.asarray(decoder.predict(z, verbose=0)), 0.0, 1.0)
    _, height, width, channels = images.shape
    # A grey line between neighbours keeps small images apart.
    step_y, step_x = height + 1, width + 1
    canvas = np.full(
        (grid_size * step_y - 1, grid_size * step_x - 1, channels), 0.5, "float32"
    )
    for index, image in enumerate(images):
        row, column = divmod(index, grid_size)
        canvas[
            row * step_y : row * step_y + height,
            column * step_x : column * step_x + width,
        ] = image
    figure, axis = plt.subplots(figsize=(7, 7))
    if channels == 1:
        axis.imshow(canvas[..., 0], cmap="gray", vmin=0, vmax=1)
    else:
        axis.imshow(canvas)
    ticks = np.arange(grid_size)[:: max(1, grid_size // 5)]
    axis.set_xticks(
        ticks * step_x + (width - 1) / 2, [f"{values[i]:.1f}" for i in ticks]
    )
    axis.set_yticks(
        ticks * step_y + (height - 1) / 2, [f"{values[::-1][i]:.1f}" for i in ticks]
    )
    axis.set_xlabel("z[0]")
    axis.set_ylabel("z[1]")
    axis.set_title("decoded latent grid")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
