"""keras.applications-style constructors for EfficientNet and -Lite."""

from tfeff.applications.common import make_constructor

EfficientNetB0 = make_constructor(
    "EfficientNetB0", "efficientnet_b0", "EfficientNet-B0"
)
EfficientNetB1 = make_constructor(
    "EfficientNetB1", "efficientnet_b1", "EfficientNet-B1"
)
EfficientNetB2 = make_constructor(
    "EfficientNetB2", "efficientnet_b2", "EfficientNet-B2"
)
EfficientNetB3 = make_constructor(
    "EfficientNetB3", "efficientnet_b3", "EfficientNet-B3"
)
EfficientNetB4 = make_constructor(
    "EfficientNetB4", "efficientnet_b4", "EfficientNet-B4"
)
EfficientNetB5 = make_constructor(
    "EfficientNetB5", "efficientnet_b5", "EfficientNet-B5"
)
EfficientNetB6 = make_constructor(
    "EfficientNetB6", "efficientnet_b6", "EfficientNet-B6"
)
EfficientNetB7 = make_constructor(
    "EfficientNetB7", "efficientnet_b7", "EfficientNet-B7"
)
EfficientNetLite0 = make_constructor(
    "EfficientNetLite0", "efficientnet_lite0", "EfficientNet-Lite0"
)
EfficientNetLite1 = make_constructor(
    "EfficientNetLite1", "efficientnet_lite1", "EfficientNet-Lite1"
)
EfficientNetLite2 = make_constructor(
    "EfficientNetLite2", "efficientnet_lite2", "EfficientNet-Lite2"
)
EfficientNetLite3 = make_constructor(
    "EfficientNetLite3", "efficientnet_lite3", "EfficientNet-Lite3"
)
EfficientNetLite4 = make_constructor(
    "EfficientNetLite4", "efficientnet_lite4", "EfficientNet-Lite4"
)
