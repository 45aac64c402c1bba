"""The four transfer-learning cases, and how deep each cuts and trains a base.

How much of a pretrained base to keep and to train depends on two things:
how much labelled data there is, and how much it looks like the data the
base learned from. The early layers of a convolutional base find edges and
blobs that suit any images; the last ones find parts of the base's own
classes. Hence (CS231n, "Transfer Learning"):

- `small_similar` (few images, like the base's): cut after the last block;
  train a top on its features, then at most the last block, slowly.
- `small_different` (few images, unlike the base's): cut before the last
  block, whose features are specific to the base's classes; train a top on
  the more generic ones, then at most the last kept block.
- `large_similar` (many images, like the base's): cut after the last block;
  train a top, then fine-tune the last two blocks.
- `large_different` (many images, unlike the base's): cut after the last
  block; train a top, then retrain every layer from the pretrained start.

With few images, train a top on bottleneck features (`vgg16_bottleneck`) and
fine-tune little or nothing; with many, fine-tune (`vgg16_fine_tune`). An
explicit cut layer or first trainable layer always wins over the approach.
"""

import dataclasses

from keras_recipes.models.transfer import block_names, last_layer_of_block


@dataclasses.dataclass(frozen=True)
class Approach:
    """What one transfer case does with the base.

    Attributes:
        cut_blocks: Blocks dropped from the end of the base before the top.
        trainable_blocks: Blocks of the kept base trained when fine-tuning,
            counted from the end; `None` trains every layer.
        advice: One line on which recipe to use.
    """

    cut_blocks: int
    trainable_blocks: int | None
    advice: str


APPROACHES = {
    "small_similar": Approach(
        0,
        1,
        "train a top on the last block's features (vgg16_bottleneck), then "
        "fine-tune the last block with a slow learning rate (vgg16_fine_tune)",
    ),
    "small_different": Approach(
        1,
        1,
        "train a top on features cut before the last block, which are less "
        "specific to the base's classes (vgg16_bottleneck)",
    ),
    "large_similar": Approach(
        0,
        2,
        "fine-tune the last two blocks on top of a trained top (vgg16_fine_tune)",
    ),
    "large_different": Approach(
        0,
        None,
        "retrain every layer, starting from the pretrained weights, on top of a "
        "trained top (vgg16_fine_tune)",
    ),
}


def _plan(approach):
    if approach not in APPROACHES:
        raise ValueError(
            f"approach must be one of {', '.join(APPROACHES)}. "
            f"Received: approach={approach}"
        )
    return APPROACHES[approach]


def approach_cut_layer(approach, base, cut_layer=None):
    """Returns the layer to cut the base after, for a transfer case.

    Args:
        approach: One of `APPROACHES`: `"small_similar"`, `"small_different"`,
            `"large_similar"` or `"large_different"`.
        base: The whole base model.
        cut_layer: An explicit cut layer, which wins over the approach, or
            `None`. Defaults to `None`.

    Returns:
        The name of the last layer to keep, or `None` to keep the whole base.

    Example:

    ```python
    vgg = keras.applications.VGG16(weights=None, include_top=False)
    approach_cut_layer("small_different", vgg)  # 'block4_pool'
    ```
    """
    plan = _plan(approach)
    if cut_layer is not None or not plan.cut_blocks:
        return cut_layer
    blocks = block_names(base)
    if len(blocks) <= plan.cut_blocks:
        raise ValueError(
            f"approach '{approach}' cuts before the last block, but the layer "
            f"names of '{base.name}' show the blocks {blocks}; name the cut layer. "
            f"Received: cut_layer=None"
        )
    return last_layer_of_block(base, blocks[-1 - plan.cut_blocks])


def approach_trainable_from(approach, base, trainable_from=None):
    """Returns where fine-tuning starts in the (cut) base, for a transfer case.

    Args:
        approach: One of `APPROACHES`.
        base: The base as kept, after cutting.
        trainable_from: An explicit first trainable layer, block or count,
            which wins over the approach, or `None`. Defaults to `None`.

    Returns:
        A block name such as `"block5"` (its first layer and all later ones
        train), or `0` to train every layer.

    Example:

    ```python
    approach_trainable_from("small_similar", vgg)  # 'block5'
    ```
    """
    plan = _plan(approach)
    if trainable_from is not None:
        return trainable_from
    if plan.trainable_blocks is None:
        return 0
    blocks = block_names(base)
    if len(blocks) < plan.trainable_blocks:
        raise ValueError(
            f"approach '{approach}' fine-tunes the last {plan.trainable_blocks} "
            f"block(s), but the layer names of '{base.name}' show the blocks "
            f"{blocks}; name the first trainable layer. Received: "
            f"trainable_from=None"
        )
    return blocks[-plan.trainable_blocks]
