"""Embeddings and labels written for TensorBoard's embedding projector."""

from pathlib import Path

import numpy as np
from PIL import Image

# TensorBoard's projector reads sprites up to 8192 pixels a side.
_SPRITE_LIMIT = 8192


def write_projector(log_dir, embeddings, metadata, images=None, thumbnail=32):
    """Writes embeddings, their labels and thumbnails for TensorBoard.

    `tensorboard --logdir LOG_DIR` then shows them in the Projector tab
    (PCA, t-SNE, UMAP, nearest neighbours), each point labelled and drawn
    as its image. The files are plain: `projector/embeddings.tsv` and
    `projector/metadata.tsv` also load into https://projector.tensorflow.org.

    Args:
        log_dir: The TensorBoard log folder, e.g. a run's `logs/`.
        embeddings: Array `[N, D]`.
        metadata: `dict` of column name to `N` values (e.g. `"identity"`,
            `"split"`), written as the labels.
        images: Optional images `[N, H, W, C]` in [0, 255], drawn as the
            points' sprites. Defaults to `None`.
        thumbnail: Side in pixels of each sprite image. Defaults to `32`.

    Returns:
        The `Path` of the `projector_config.pbtxt` written.

    Example:

    ```python
    write_projector(run_dir / "logs", embeddings, {"identity": names}, images)
    ```
    """
    from tensorboard.plugins import projector

    embeddings = np.asarray(embeddings, dtype="float32")
    count = len(embeddings)
    for name, values in metadata.items():
        if len(values) != count:
            raise ValueError(
                f"metadata column {name!r} has {len(values)} values for "
                f"{count} embeddings"
            )
    log_dir = Path(log_dir)
    folder = log_dir / "projector"
    folder.mkdir(parents=True, exist_ok=True)
    np.savetxt(folder / "embeddings.tsv", embeddings, delimiter="\t", fmt="%.6f")
    columns = list(metadata)
    lines = ["\t".join(columns)] + [
        "\t".join(str(metadata[c][i]) for c in columns) for i in range(count)
    ]
    (folder / "metadata.tsv").write_text("\n".join(lines) + "\n")
    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = "embeddings"
    embedding.tensor_path = "projector/embeddings.tsv"
    embedding.metadata_path = "projector/metadata.tsv"
    if images is not None:
        if len(images) != count:
            raise ValueError(f"{len(images)} images for {count} embeddings")
        side = int(np.ceil(np.sqrt(count)))
        thumbnail = min(thumbnail, _SPRITE_LIMIT // side)
        _write_sprite(images, folder / "sprite.png", side, thumbnail)
        embedding.sprite.image_path = "projector/sprite.png"
        embedding.sprite.single_image_dim.extend([thumbnail, thumbnail])
    projector.visualize_embeddings(str(log_dir), config)
    return log_dir / "projector_config.pbtxt"


def _write_sprite(images, path, side, thumbnail):
    images = np.clip(np.asarray(images, dtype="float32"), 0, 255).astype("uint8")
    mode = "L" if images.shape[-1] == 1 else "RGB"
    sprite = Image.new(mode, (side * thumbnail, side * thumbnail))
    for index, image in enumerate(images):
        tile = Image.fromarray(image[..., 0] if mode == "L" else image, mode)
        tile = tile.resize((thumbnail, thumbnail), Image.Resampling.NEAREST)
        sprite.paste(tile, ((index % side) * thumbnail, (index // side) * thumbnail))
    sprite.save(path)
