"""EdgeNets' ESPNetv2, DiCENet and ShuffleNetV2 weights give its outputs.

EdgeNets (sacmehta/EdgeNets @ 2b232d3f) is not on the package index, so its
outputs are pinned: `edgenets_reference.py` (beside this file) says how they
were produced. The state dict is rebuilt here from the same seed and the
reference's own tensor list (`data/edgenets_*_tensors.json`, written by that
script), converted by `tfeff.weights` (source `"edgenets:espnetv2_*"`), and
tfeff's logits must equal the pinned ones within 1e-4 (logits of about +-2).
"""

import dataclasses
import json
import os

import numpy as np
import pytest
from safetensors.numpy import save_file

import tfeff
from tests.weights.edgenets_reference import CASES
from tests.weights.edgenets_reference import inputs
from tests.weights.edgenets_reference import seeded_state_dict

HERE = os.path.dirname(__file__)
# EdgeNets' name where tfeff's variant is named otherwise.
SOURCES = {"shufflenetv2_prelu_050": "shufflenetv2_050"}
# EdgeNets' logits (first ten classes of each input image), their argmax and
# sum of absolute values, from `edgenets_reference.py` (torch 2.14.1 CPU).
PINNED = {
    "espnetv2_050": (
        [
            [-0.81240, 0.75714, 1.81854, 0.51504, -1.24899, -0.51552, 0.07114, -0.03457, 0.60642, -0.06233],
            [-0.82222, 0.85728, 1.81724, 0.48341, -1.22702, -0.55525, 0.03307, -0.10905, 0.62063, -0.07887],
        ],
        [2, 2],
        868.493,
    ),
    "espnetv2_100": (
        [
            [0.37301, -0.53925, -0.81508, -0.44113, -0.54209, -0.09675, 0.12387, -0.88041, -0.46871, -0.33257],
            [0.34638, -0.47099, -0.78274, -0.40748, -0.58789, -0.09919, 0.10737, -0.89188, -0.45177, -0.29087],
        ],
        [823, 823],
        955.913,
    ),
    "dicenet_020": (
        [
            [0.07084, -0.85417, 0.35145, -0.86997, -1.16865, 0.41328, -0.35435, 0.27282, 0.08218, 0.29888],
            [0.06190, -0.93846, 0.39577, -0.92079, -1.18880, 0.38104, -0.37512, 0.28928, 0.04497, 0.31194],
        ],
        [764, 764],
        905.388,
    ),
    "dicenet_100": (
        [
            [0.27118, 0.63192, -0.00519, 1.10364, -0.60300, -0.00606, 1.39023, 0.53795, 0.56837, -0.05630],
            [0.28066, 0.60609, 0.01848, 1.14064, -0.61939, 0.01241, 1.42248, 0.50787, 0.52852, -0.10340],
        ],
        [139, 139],
        925.477,
    ),
    "shufflenetv2_prelu_050": (
        [
            [-0.06417, 0.24404, 1.03349, 0.83285, -0.16880, 0.69140, 0.54304, -0.10469, 0.02956, 0.38823],
            [-0.03349, 0.23370, 1.01206, 0.79566, -0.14277, 0.66954, 0.49048, -0.12871, 0.05297, 0.37203],
        ],
        [451, 451],
        761.877,
    ),
}  # fmt: skip


def _state_file(case, tmp_path):
    with open(os.path.join(HERE, "data", f"edgenets_{case}_tensors.json")) as f:
        tensors = json.load(f)
    state = seeded_state_dict(tensors, classifier_scale=CASES[case][1])
    path = str(tmp_path / f"{case}.safetensors")
    save_file(state, path)
    return path


@pytest.mark.parametrize("case", sorted(PINNED))
def test_edgenets_weights_give_its_logits(case, tmp_path):
    first10, argmax, abs_sum = PINNED[case]
    model = tfeff.create_model(
        case,
        weights=_state_file(case, tmp_path),
        source=f"edgenets:{SOURCES.get(case, case)}",
        classifier_activation=None,
    )
    logits = model.predict(inputs(), verbose=0)
    np.testing.assert_allclose(logits[:, :10], first10, rtol=0, atol=1e-4)
    assert logits.argmax(-1).tolist() == argmax
    assert abs(np.abs(logits).sum() - abs_sum) < 0.05  # 2000 logits.


def test_edgenets_unused_modules_are_dropped_and_the_other_numerics_refused(
    tmp_path,
):
    path = _state_file("espnetv2_050", tmp_path)
    model = tfeff.create_model("espnetv2_050")
    # level5_0.inp_reinf and each strided EESP's module_act are in the file.
    tfeff.weights.load(model, path, source="edgenets:espnetv2_050")
    arch = tfeff.models.get_variant("espnetv2_050").resolved_arch()
    tf_numerics = tfeff.build_image_classifier(
        dataclasses.replace(arch, numerics=tfeff.spec.TF_NUMERICS),
        input_shape=(224, 224, 3),
    )
    with pytest.raises(ValueError, match="PyTorch's .* numerics"):
        tfeff.weights.load(tf_numerics, path, source="edgenets:espnetv2_050")
    with pytest.raises(ValueError, match="another family, width"):
        tfeff.weights.load(
            tfeff.create_model("espnetv2_100"),
            path,
            source="edgenets:espnetv2_050",
        )


def test_edgenets_shufflenet_is_refused_by_torchvisions_relu_network(
    tmp_path,
):
    """EdgeNets' ShuffleNetV2 has PReLUs where torchvision's has ReLUs: the
    same tensors but for the slopes, and another network."""
    path = _state_file("shufflenetv2_prelu_050", tmp_path)
    with pytest.raises(ValueError, match="another family, width"):
        tfeff.weights.load(
            tfeff.create_model("shufflenetv2_050"),
            path,
            source="edgenets:shufflenetv2_050",
        )
