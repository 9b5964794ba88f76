"""keras.applications-style constructors for the other families."""

from tfeff.applications.common import make_constructor
from tfeff.applications.common import make_selector_constructor

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
