"""IGCV3's MXNet weights give MXNet's outputs, and MXNet files read as MXNet
writes them.

homles11/IGCV3 (@ 83aba2f3) trained in MXNet, which cannot share an
environment with TensorFlow 2.21, so its outputs are pinned:
`igcv3_reference.py` (beside this file) says how they were produced, from
the released graph `models/igcv3-symbol.json`. The parameters are rebuilt
here from the same seed and MXNet's own parameter list
(`data/mxnet_igcv3_d_tensors.json`, written by that script), written as
an MXNet `.params` file, read by `tfeff.weights` (source
`"mxnet:igcv3"`), and tfeff's logits must equal the pinned ones within
1e-4 (logits of about +-2, at most 3.3).
"""

import dataclasses
import json
import os
import struct

import numpy as np
import pytest

import tfeff
from tests.weights.igcv3_reference import inputs
from tests.weights.igcv3_reference import seeded_params
from tfeff.weights.readers import read_mxnet_params

HERE = os.path.dirname(__file__)
# MXNet's logits (first ten classes of each image), their argmax and sum of
# absolute values, from `igcv3_reference.py` (mxnet 1.9.1 CPU).
PINNED = (
    [
        [1.95580, -1.40601, 0.29011, -1.22828, -0.87848, -0.22752, -0.70950, 0.61013, -1.45596, 1.36658],
        [1.94758, -1.32558, 0.26932, -1.24634, -0.85903, -0.28872, -0.68086, 0.56965, -1.43474, 1.39704],
    ],
    [356, 356],
    1428.483,
)  # fmt: skip
# mx.nd.save of {"arg:conv_weight": arange(6) as (2, 3, 1, 1) float32,
# "aux:bn_moving_var": [0.5, 1.5], "arg:fc_bias": [1, 2, 3] float64}: MXNet
# 1.9.1's bytes, from `igcv3_reference.py`.
MXNET_FILE_HEX = "120100000000000000000000000000000300000000000000c9fa93f900000000040000000200000000000000030000000000000001000000000000000100000000000000010000000000000000000000000000000000803f0000004000004040000080400000a040c9fa93f9000000000100000002000000000000000100000000000000000000000000003f0000c03fc9fa93f900000000010000000300000000000000010000000000000001000000000000000000f03f0000000000000040000000000000084003000000000000000f000000000000006172673a636f6e765f77656967687411000000000000006175783a626e5f6d6f76696e675f7661720b000000000000006172673a66635f62696173"


def _write_params(path, arrays):
    """An MXNet NDArray list file (the layout `read_mxnet_params` reads,
    checked against MXNet's own bytes in the test below)."""
    names = list(arrays)
    out = [struct.pack("<QQQ", 0x112, 0, len(names))]
    for name in names:
        value = np.ascontiguousarray(arrays[name], "<f4")
        out.append(struct.pack("<IiI", 0xF993FAC9, 0, value.ndim))
        out.append(struct.pack(f"<{value.ndim}q", *value.shape))
        out.append(struct.pack("<iii", 1, 0, 0))
        out.append(value.tobytes())
    out.append(struct.pack("<Q", len(names)))
    for name in names:
        encoded = name.encode()
        out.append(struct.pack("<Q", len(encoded)) + encoded)
    with open(path, "wb") as file:
        file.write(b"".join(out))


def _params_file(tmp_path):
    with open(os.path.join(HERE, "data", "mxnet_igcv3_d_tensors.json")) as f:
        listed = json.load(f)
    params = seeded_params(listed["arguments"] + listed["auxiliary"])
    arrays = {f"arg:{n}": params[n] for n, _ in listed["arguments"]}
    arrays.update({f"aux:{n}": params[n] for n, _ in listed["auxiliary"]})
    path = str(tmp_path / "igcv3-0000.params")
    _write_params(path, arrays)
    return path


def test_mxnet_params_read_as_mxnet_writes_them(tmp_path):
    path = tmp_path / "mxnet.params"
    path.write_bytes(bytes.fromhex(MXNET_FILE_HEX))
    arrays = read_mxnet_params(str(path))
    assert list(arrays) == ["conv_weight", "bn_moving_var", "fc_bias"]
    np.testing.assert_array_equal(
        arrays["conv_weight"], np.arange(6, dtype="float32").reshape(2, 3, 1, 1)
    )
    np.testing.assert_array_equal(arrays["bn_moving_var"], [0.5, 1.5])
    assert arrays["fc_bias"].dtype == np.float64
    # The test's writer makes the same bytes as MXNet for float32 arrays.
    mine = tmp_path / "mine.params"
    _write_params(
        mine,
        {
            "arg:conv_weight": np.arange(6).reshape(2, 3, 1, 1),
            "aux:bn_moving_var": np.array([0.5, 1.5]),
        },
    )
    # Header (24 bytes) aside, the first array record (80 bytes) is MXNet's.
    assert mine.read_bytes()[24:104] == bytes.fromhex(MXNET_FILE_HEX)[24:104]


def test_bad_mxnet_files_are_errors_naming_the_file(tmp_path):
    truncated = tmp_path / "cut.params"
    truncated.write_bytes(bytes.fromhex(MXNET_FILE_HEX)[:60])
    with pytest.raises(ValueError, match="cut.params.*truncated"):
        read_mxnet_params(str(truncated))
    other = tmp_path / "other.params"
    other.write_bytes(b"PK\x03\x04" + bytes(40))
    with pytest.raises(ValueError, match="other.params.*not an MXNet"):
        read_mxnet_params(str(other))


def test_igcv3_weights_give_mxnets_logits(tmp_path):
    first10, argmax, abs_sum = PINNED
    model = tfeff.create_model(
        "igcv3_d",
        weights=_params_file(tmp_path),
        source="mxnet:igcv3",
        classifier_activation=None,
    )
    logits = model.predict(inputs(), verbose=0)
    np.testing.assert_allclose(logits[:, :10], first10, rtol=0, atol=1e-4)
    assert logits.argmax(-1).tolist() == argmax
    assert abs(np.abs(logits).sum() - abs_sum) < 0.05  # 2000 logits.


def test_igcv3_catalog_entry_is_the_released_file():
    entry = tfeff.weights.get_weights("igcv3_d.igcv3_in1k")
    assert entry.url.endswith(
        "83aba2f34702836cc1b82350163909034cd9b553/models/igcv3-0000.params"
    )
    assert entry.hash_algorithm == "git-blob-sha1"
    assert entry.format == "mxnet_params" and entry.source == "mxnet:igcv3"
    assert entry.top1 is None  # The README does not say which model it is.


def test_igcv3_weights_refuse_the_tensorflow_numerics(tmp_path):
    """MXNet padded symmetrically with epsilon 1e-5: a network built with
    TensorFlow's "SAME" padding is another network for these weights."""
    arch = tfeff.models.get_variant("igcv3_d").resolved_arch()
    model = tfeff.build_image_classifier(
        dataclasses.replace(arch, numerics=tfeff.spec.TF_NUMERICS),
        input_shape=(224, 224, 3),
    )
    with pytest.raises(ValueError, match="igcv3-0000.params.*numerics"):
        tfeff.weights.load(model, _params_file(tmp_path), source="mxnet:igcv3")
