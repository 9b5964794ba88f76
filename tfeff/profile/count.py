"""`count_macs`: multiply-adds read off a built Keras graph.

Independent of `estimate_cost` (it reads layers and shapes, not the spec), so
the two cross-check each other.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras


def _node_output_shapes(layer):
    shapes = []
    for node in getattr(layer, "_inbound_nodes", []):
        for tensor in node.outputs:
            shapes.append(tuple(tensor.shape))
    return shapes


def _spatial(shape, layer):
    dims = shape[1:-1]
    if any(d is None for d in dims):
        raise ValueError(
            f"count_macs needs static spatial sizes; layer {layer.name!r} has "
            f"output shape {shape}. Build the model with a fixed input_shape, "
            "e.g. input_shape=(224, 224, 3)."
        )
    total = 1
    for d in dims:
        total *= d
    return total


def _kept_output_shapes(layer):
    """Output shapes, after the crop when a Cropping2D is the only consumer.

    tfeff emits a large depthwise kernel at stride 2 as tiles; a tile that
    starts below the kernel's centre computes up to two output rows more
    than it keeps and crops them (cheaper in TFLite than cropping its input;
    `tfeff.blocks.conv._tile_window`). Those rows are an artefact of the
    implementation, not of the network (MixNet-S: 0.15% of its MACs), so,
    as the papers count, they are not counted.
    """
    consumers = [
        node.operation for node in getattr(layer, "_outbound_nodes", [])
    ]
    if len(consumers) == 1 and isinstance(
        consumers[0], keras.layers.Cropping2D
    ):
        return _node_output_shapes(consumers[0])
    return _node_output_shapes(layer)


def layer_macs(layer):
    """Multiply-adds of one Conv/Depthwise/Separable/Transpose/Dense layer."""
    total = 0
    for shape in _kept_output_shapes(layer):
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            kh, kw, cin, mult = layer.kernel.shape
            total += kh * kw * cin * mult * _spatial(shape, layer)
        elif isinstance(layer, keras.layers.SeparableConv2D):
            kh, kw, cin, mult = layer.depthwise_kernel.shape
            spatial = _spatial(shape, layer)
            total += kh * kw * cin * mult * spatial
            total += cin * mult * layer.filters * spatial
        elif isinstance(layer, keras.layers.Conv2DTranspose):
            kh, kw, cout, cin = layer.kernel.shape
            # Each input pixel scatters a kh x kw x cout patch.
            in_shape = layer._inbound_nodes[0].input_tensors[0].shape
            total += kh * kw * cin * cout * _spatial(in_shape, layer)
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw, cin_per_group, cout = layer.kernel.shape
            total += kh * kw * cin_per_group * cout * _spatial(shape, layer)
        elif isinstance(layer, keras.layers.Dense):
            cin, cout = layer.kernel.shape
            positions = 1
            for d in shape[1:-1]:
                positions *= d if d is not None else 1
            total += cin * cout * positions
    return int(total)


def count_macs(model):
    """Multiply-adds of a built model at batch 1, read from its layers.

    Counts convolutions (incl. depthwise, separable, transposed) and dense
    layers, as the papers do; nested models and tfeff's block layers are
    walked recursively.

    Args:
        model: keras.Model with static spatial input size.

    Returns:
        int.

    Example:

    >>> model = tfeff.create_model("test_efficientnet")
    >>> tfeff.profile.count_macs(model) == tfeff.estimate_cost("test_efficientnet").macs
    True
    """
    if not isinstance(model, keras.layers.Layer):
        raise TypeError(
            f"`model` must be a Keras model. Received: model={model!r}"
        )
    total = 0
    for layer in model._flatten_layers(include_self=False, recursive=True):
        total += layer_macs(layer)
    return total
