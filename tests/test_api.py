"""API snapshot: changes to the public surface are deliberate."""

import tfeff


def test_top_level_all():
    assert sorted(tfeff.__all__) == sorted(
        [
            "ArchSpec", "CompoundScaling", "applications", "build_backbone",
            "build_image_classifier", "create_model", "decode_arch", "encode_arch",
            "estimate_cost", "layers", "list_variants", "load_model", "profile", "quantize",
            "scale_arch",
            "weights", "data", "spec", "train", "viz",
        ]
    )  # fmt: skip
    for name in tfeff.__all__:
        assert getattr(tfeff, name) is not None


def test_layers_all():
    assert sorted(tfeff.layers.__all__) == sorted(
        [
            "BilinearResize", "DICE", "EESP", "ESPModule", "ChannelShuffle", "ChannelSlice", "ChannelSplit",
            "GhostBottleneck", "GhostModule", "IGCV3Block", "MBConv", "MixConv",
            "ShuffleUnit", "SqueezeExcite", "StridedEESP",
        ]
    )  # fmt: skip


def test_applications_all():
    expected = [f"EfficientNetB{i}" for i in range(8)]
    expected += [f"EfficientNetLite{i}" for i in range(5)]
    expected += [
        "DiCENet", "ESPNetC", "ESPNetSeg", "ESPNetV2", "ESPNetV2SSD", "ESPNetV2Seg", "GhostNet", "IGCV3", "MixNetL", "MixNetM", "MixNetS",
        "MobileNetV2", "ShuffleNetV2",
        "decode_predictions", "list_models", "preprocess_input",
    ]  # fmt: skip
    assert sorted(tfeff.applications.__all__) == sorted(expected)
