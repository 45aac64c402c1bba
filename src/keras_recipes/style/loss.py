"""The weighted cost of neural style transfer, from a feature extractor."""

from keras import ops

from keras_recipes.losses import content_loss, style_loss, total_variation_loss


class StyleTransferLoss:
    """Computes the content, style and total variation costs of an image.

    `J(G) = alpha * J_content(C, G) + beta * sum_l lambda_l * J_style^l(S, G)
    + tv_weight * TV(G)`: the content cost compares feature maps of the
    content image `C` and the generated image `G` at the content layers, the
    style cost compares their Gram matrices at each style layer `l`, and the
    total variation keeps `G` smooth. The targets are computed once, here.

    Args:
        extractor: A model from preprocessed images to a `dict` of feature
            maps, as `style_feature_extractor` builds.
        preprocess: Function from RGB images in [0, 255] to the extractor's
            input, e.g. `keras_recipes.weights.preprocess_input("VGG19")`.
        content_image: Array `[H, W, 3]` in [0, 255].
        style_image: Array `[H, W, 3]` in [0, 255], the size of
            `content_image` (the style cost's scale depends on the size).
        content_layers: Layer names for the content cost.
        style_layers: Layer names for the style cost.
        style_layer_weights: One weight `lambda_l` per style layer, or `None`
            for equal weights summing to 1. Defaults to `None`.
        content_weight: `alpha`. Defaults to `5e-8`.
        style_weight: `beta`. Defaults to `1e-6`.
        variation_weight: Weight of the total variation. Defaults to `1e-6`.

    Call arguments:
        images: Tensor `[1, H, W, 3]`, the generated image in [0, 255].

    Returns:
        A `dict` with the weighted `"content"`, `"style"` and `"variation"`
        terms and their sum `"loss"`, each a scalar.

    Example:

    ```python
    extractor = style_feature_extractor(["block5_conv2", "block1_conv1"])
    loss = StyleTransferLoss(extractor, preprocess_input("VGG19"), content,
                             style, ["block5_conv2"], ["block1_conv1"])
    loss(content[None])["loss"]
    ```

    Reference:

    - [Gatys et al., 2015](https://arxiv.org/abs/1508.06576)
    """

    def __init__(
        self,
        extractor,
        preprocess,
        content_image,
        style_image,
        content_layers,
        style_layers,
        style_layer_weights=None,
        content_weight=5e-8,
        style_weight=1e-6,
        variation_weight=1e-6,
    ):
        if tuple(content_image.shape) != tuple(style_image.shape):
            raise ValueError(
                f"content_image and style_image must have the same shape. "
                f"Received: {tuple(content_image.shape)} and "
                f"{tuple(style_image.shape)}"
            )
        if style_layer_weights is None:
            style_layer_weights = [1.0 / len(style_layers)] * len(style_layers)
        if len(style_layer_weights) != len(style_layers):
            raise ValueError(
                f"style_layer_weights needs one weight per style layer. "
                f"Received: {len(style_layer_weights)} weights for "
                f"{len(style_layers)} layers"
            )
        self.extractor = extractor
        self.preprocess = preprocess
        self.content_layers = list(content_layers)
        self.style_layers = dict(zip(style_layers, style_layer_weights, strict=True))
        self.content_weight = float(content_weight)
        self.style_weight = float(style_weight)
        self.variation_weight = float(variation_weight)
        self.content_targets = self.features(content_image[None])
        self.style_targets = self.features(style_image[None])

    def features(self, images):
        """Returns the extractor's feature maps of RGB images in [0, 255].

        The maps come back in float32 whatever the extractor computes in, so
        that Gram matrices and costs keep their precision under a mixed
        dtype policy.
        """
        maps = self.extractor(self.preprocess(ops.convert_to_tensor(images)))
        return {name: ops.cast(value, "float32") for name, value in maps.items()}

    def __call__(self, images):
        features = self.features(images)
        content = sum(
            content_loss(self.content_targets[name], features[name])[0]
            for name in self.content_layers
        )
        style = sum(
            weight * style_loss(self.style_targets[name], features[name])[0]
            for name, weight in self.style_layers.items()
        )
        variation = total_variation_loss(images)[0]
        terms = {
            "content": self.content_weight * content,
            "style": self.style_weight * style,
            "variation": self.variation_weight * variation,
        }
        terms["loss"] = terms["content"] + terms["style"] + terms["variation"]
        return terms
