"""ESPNet's ESPNet-C encoder weights give its features.

sacmehta/ESPNet (@ afe71c38) is not on the package index, so its outputs are
pinned: `espnet_reference.py` (beside this file) says how they were
produced. The state dict is rebuilt here from the same seed and the
reference's own tensor list (`data/espnet_*_tensors.json`, written by that
script), converted by `tfeff.weights` (source `"espnet:espnet_p_2_q_*"`,
which also reverses ESPNet's BGR image channels), and tfeff's features (the
encoder's last batch norm and PReLU, what ESPNet's classifier reads) must
equal the pinned ones within 1e-4.
"""

import json
import os

import numpy as np
import pytest
from safetensors.numpy import save_file

import tfeff
from tests.weights.edgenets_reference import seeded_state_dict
from tests.weights.espnet_reference import feature_samples
from tests.weights.espnet_reference import inputs

HERE = os.path.dirname(__file__)
SOURCES = {
    "espnet_c_p2q3": "espnet:espnet_p_2_q_3",
    "espnet_c": "espnet:espnet_p_2_q_8",
}
# ESPNet's features: the first 8 channels at (image 0, 0, 0), (0, 7, 9) and
# (1, 15, 15) of the 16 x 16 map, and the mean absolute value, from
# `espnet_reference.py` (torch 2.14.1 CPU).
PINNED = {
    "espnet_c_p2q3": (
        [
            [0.73070, -0.05931, -0.00222, 0.87852, -0.04155, -0.01373, -0.00221, -0.00707],
            [-0.03516, -0.18451, -0.00861, -0.00927, 0.84581, 0.09737, -0.03402, -0.05746],
            [1.01932, -0.06192, 0.02804, 0.01761, 0.22957, -0.02965, -0.00399, -0.07185],
        ],
        9.016325,
    ),
    "espnet_c": (
        [
            [0.96369, -0.07347, -0.05679, 1.09848, -0.03152, -0.00339, -0.03283, 0.09323],
            [-0.13179, -0.23912, -0.06669, -0.02435, 0.92591, 0.13417, -0.06688, -0.00284],
            [1.40052, -0.07692, -0.04349, -0.01531, 0.24250, -0.01243, -0.03474, -0.00580],
        ],
        403.83728,
    ),
}  # fmt: skip


def _state_file(case, tmp_path):
    with open(os.path.join(HERE, "data", f"espnet_{case}_tensors.json")) as f:
        tensors = json.load(f)
    path = str(tmp_path / f"{case}.safetensors")
    save_file(seeded_state_dict(tensors), path)
    return path


@pytest.mark.parametrize("case", sorted(PINNED))
def test_espnet_encoder_weights_give_its_features(case, tmp_path):
    samples, mean_abs = PINNED[case]
    model = tfeff.create_model(
        case,
        weights=_state_file(case, tmp_path),
        source=SOURCES[case],
        include_top=False,
        input_shape=(128, 128, 3),
    )
    features = model.predict(inputs(), verbose=0)
    assert features.shape == (2, 16, 16, 256)
    mine, my_mean_abs = feature_samples(features)
    np.testing.assert_allclose(mine, samples, rtol=0, atol=1e-4)
    assert abs(my_mean_abs - mean_abs) <= 1e-5 * mean_abs


def test_espnet_source_knows_its_bgr_statistics_and_depth(tmp_path):
    source = tfeff.weights.get_source("espnet:espnet_p_2_q_3")
    # Cityscapes' BGR mean in 0-255 units over 255, reversed; its std is
    # used unscaled (ESPNet divides by 255 after normalising).
    np.testing.assert_allclose(
        source.mean, np.array([73.15840149, 82.90893555, 72.3923111]) / 255
    )
    np.testing.assert_allclose(
        source.std, [44.91483307, 46.15289307, 45.3192215]
    )
    with pytest.raises(ValueError, match="another family, width"):
        tfeff.weights.load(
            tfeff.create_model("espnet_c"),
            _state_file("espnet_c_p2q3", tmp_path),
            source="espnet:espnet_p_2_q_3",
        )
