"""What a block builder is told besides its spec."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class BlockContext:
    """Where a block sits in the network it is emitted into.

    Attributes:
        name: str. The layer-name prefix (`"stage3_block2"`); every layer
            the block emits is `f"{name}_{part}"` (`tfeff.blocks.naming`).
        drop_path_rate: float. Stochastic depth of the block's residual
            branch. Defaults to `0.0`.
        image: KerasTensor or None. The preprocessed network input, for the
            kinds that read it (ESPNet's and ESPNetv2's image
            reinforcement). Defaults to None.
        output_stride: int or None. Stride of the block's output relative
            to `image`. None: read from the two shapes (`image_stride`).
    """

    name: str
    drop_path_rate: float = 0.0
    image: object = None
    output_stride: int = None

    def image_stride(self, features):
        """How many times smaller `features` is than `image`."""
        if self.output_stride is not None:
            return self.output_stride
        if self.image.shape[2] is None or features.shape[2] is None:
            raise ValueError(
                "Pooling the image to the block's output needs static widths "
                "(or output_stride). Received: image shape "
                f"{self.image.shape}, feature shape {features.shape}"
            )
        return -(-self.image.shape[2] // features.shape[2])
