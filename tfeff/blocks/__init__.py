"""Block builders, one per kind, registered by kind name.

Importing this package registers every builder.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

from tfeff._lazy import register_serializables
from tfeff.blocks import conv_bn_act  # noqa: F401  (registers "convbnact")
from tfeff.blocks import dice  # noqa: F401  (registers "dice", "dicedown")
from tfeff.blocks import eesp  # noqa: F401  (registers "eesp", "eespdown")
from tfeff.blocks import esp  # noqa: F401  (registers "imgcat", "espstage")
from tfeff.blocks import ghost  # noqa: F401  (registers "ghost")
from tfeff.blocks import igcv3  # noqa: F401  (registers "igcv3")
from tfeff.blocks import mbconv  # noqa: F401  (registers "mbconv")
from tfeff.blocks import shuffle  # noqa: F401  (registers "maxpool", "shuffle")
from tfeff.blocks.ghost import ghost_module
from tfeff.blocks.naming import LAYER_NAME_PATTERN
from tfeff.blocks.registry import get_block_builder
from tfeff.blocks.registry import register_block
from tfeff.blocks.registry import registered_kinds
from tfeff.blocks.squeeze_excite import squeeze_excite

__all__ = [
    "LAYER_NAME_PATTERN",
    "get_block_builder",
    "ghost_module",
    "register_block",
    "registered_kinds",
    "squeeze_excite",
]

register_serializables(ignore=(__name__,))
