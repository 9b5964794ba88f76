"""keras.applications-style constructors for the other families."""

from tfeff.applications.common import build_variant
from tfeff.applications.common import make_constructor
from tfeff.applications.common import make_selector_constructor
from tfeff.models.families.espnet import espnet_c_arch
from tfeff.models.families.espnet import espnet_c_variant_name
from tfeff.models.registry import Variant
from tfeff.models.registry import get_variant

MixNetS = make_constructor("MixNetS", "mixnet_s", "MixNet-S")
MixNetM = make_constructor("MixNetM", "mixnet_m", "MixNet-M")
MixNetL = make_constructor("MixNetL", "mixnet_l", "MixNet-L")
IGCV3 = make_constructor("IGCV3", "igcv3_d", "IGCV3-D")

GhostNet = make_selector_constructor(
    "GhostNet",
    "GhostNet",
    "width",
    {0.5: "ghostnet_050", 1.0: "ghostnet_100", 1.3: "ghostnet_130"},
    1.0,
    "float. Width multiplier of the published models.",
)
ESPNetV2 = make_selector_constructor(
    "ESPNetV2",
    "ESPNetv2",
    "scale",
    {
        0.5: "espnetv2_050",
        1.0: "espnetv2_100",
        1.25: "espnetv2_125",
        1.5: "espnetv2_150",
        2.0: "espnetv2_200",
    },
    1.0,
    "float. Network width s of the published configurations.",
)
ShuffleNetV2 = make_selector_constructor(
    "ShuffleNetV2",
    "ShuffleNetV2",
    "width",
    {
        0.5: "shufflenetv2_050",
        1.0: "shufflenetv2_100",
        1.5: "shufflenetv2_150",
        2.0: "shufflenetv2_200",
    },
    1.0,
    "float. Published width (0.5x ... 2.0x).",
)
MobileNetV2 = make_selector_constructor(
    "MobileNetV2",
    "MobileNetV2",
    "alpha",
    {
        0.35: "mobilenetv2_035",
        0.5: "mobilenetv2_050",
        0.75: "mobilenetv2_075",
        1.0: "mobilenetv2_100",
        1.3: "mobilenetv2_130",
        1.4: "mobilenetv2_140",
    },
    1.0,
    "float. Width multiplier (alpha) of the published models.",
)

DiCENet = make_selector_constructor(
    "DiCENet",
    "DiCENet",
    "scale",
    {
        0.2: "dicenet_020",
        0.5: "dicenet_050",
        0.75: "dicenet_075",
        1.0: "dicenet_100",
        1.25: "dicenet_125",
        1.5: "dicenet_150",
        1.75: "dicenet_175",
        2.0: "dicenet_200",
    },
    1.0,
    "float. Network width s of the published configurations.",
)


def ESPNetC(p=2, q=8, **kwargs):
    """Instantiates the ESPNet-C encoder (ESPNet v1) with p and q ESP modules.

    Args:
        p: int. ESP modules at 1/4 resolution (the paper's alpha_2).
            Defaults to `2`.
        q: int. ESP modules at 1/8 resolution (alpha_3). Defaults to `8`.
        **kwargs: the keras.applications arguments (see `MixNetS`).

    Returns:
        A `keras.Model`; its backbone is stride 8 (`pyramid_outputs` P1..P3).

    Example:

    >>> model = tfeff.applications.ESPNetC(p=2, q=3, input_shape=(64, 64, 3))
    >>> tuple(model.output.shape)
    (None, 1000)
    """
    arch = espnet_c_arch(p, q)  # Validates p and q.
    name = espnet_c_variant_name(p, q)
    try:
        variant = get_variant(name)
    except ValueError:
        base = get_variant("espnet_c")
        variant = Variant(**{**base.__dict__, "name": name, "arch": arch})
    return build_variant(variant, **kwargs)
