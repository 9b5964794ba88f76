"""Every exported file loads and runs in a stock LiteRT interpreter with
default settings (XNNPACK on), in a child process: a graph XNNPACK cannot
prepare aborted the whole process in LiteRT 2.3 ("double free or
corruption") rather than raising (issue 18, item 4).

The cause was ours: on a map smaller than a large depthwise kernel, some
of the kernel's pieces read only padding, so their int8 output was all
zero with no range, and XNNPACK refused the graph. The builder now leaves
those pieces out (tfeff.spec.depthwise.live_pieces; the output is
unchanged, tests/blocks/test_depthwise_tiles.py).

The other way an int8 file fails XNNPACK is data, not graph: activations
of an untrained network whose batch norms keep their initial statistics
grow to millions (GhostNet-0.5x at 64 px: an input spanning 2.5e6 into a
squeeze-excite conv capped by ReLU6), and a requantization scale above 256
is refused. `to_tflite` now warns of exactly that (`xnnpack_blockers`), and
the networks here have their batch norms fitted to the images first, as a
trained network's are.

Default run: the warning. `--run-slow`: the original reproduction
(MixNet-S at 32 px, int8) and the smallest variant of every family and
each search-space block kind at 32, 64, 96 and 224 px, float32 and int8.
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert")

import tfeff  # noqa: E402
from tfeff.export.tflite import to_tflite  # noqa: E402
from tfeff.export.tflite import xnnpack_blockers  # noqa: E402
from tfeff.profile.latency import set_batch_norm_statistics  # noqa: E402
from tfeff.quantize import quantize_aware  # noqa: E402

# A user's runtime: the interpreter as it comes, two threads.
STOCK = """
import sys
import numpy as np
from ai_edge_litert.interpreter import Interpreter
interpreter = Interpreter(model_path=sys.argv[1], num_threads=2)
interpreter.allocate_tensors()
for detail in interpreter.get_input_details():
    interpreter.set_tensor(
        detail["index"], np.zeros(detail["shape"], detail["dtype"]))
interpreter.invoke()
print("ran", interpreter.get_output_details()[0]["shape"].tolist())
"""

SMALLEST = [
    "efficientnet_b0", "efficientnet_lite0", "mixnet_s", "ghostnet_050",
    "espnetv2_050", "espnet_c", "shufflenetv2_050", "shufflenetv2_prelu_050",
    "mobilenetv2_035", "igcv3_d", "dicenet_020",
]  # fmt: skip
# Each kind of the search space (tfeff.nas.space.KINDS) with its largest
# kernel (7) at both strides, down to the 1x1 maps of 32 px inputs.
BLOCK_KINDS = {
    "mbconv": "stem_k3_s2_c16 | mbconv_r2_k7_s2_e3_c24_se0.25 | mbconv_r2_k7_s2_e6_c40 | mbconv_r2_k7_s2_e6_c80 | mbconv_r1_k7_s2_e6_c112_se0.25 | head_k1_c256",
    "mixconv": "stem_k3_s2_c16 | mbconv_r2_k3.5.7_s2_e3_c24 | mbconv_r2_k3.5.7_s2_e6_c40_se0.5 | mbconv_r2_k3.5.7_s2_e6_c80 | mbconv_r1_k3.5.7_s2_e6_c112 | head_k1_c256",
    "ghost": "stem_k3_s2_c16 | ghost_r1_k7_s2_m48_c24 | ghost_r2_k7_s2_m72_c40_se0.25 | ghost_r1_k7_s2_m120_c80 | ghost_r2_k7_s2_m240_c112_se0.25 | head_k1_c256",
    "eesp": "stem_k3_s2_c16 | eespdown_c48_b4_rf9 | eesp_r1_c48_b4_rf7 | eespdown_c96_b4_rf9 | eesp_r2_c96_b4_rf5 | eespdown_c192_b4_rf7 | head_k1_c256",
}  # fmt: skip


def _model(name, size):
    if name in BLOCK_KINDS:
        return tfeff.build_image_classifier(
            BLOCK_KINDS[name], num_classes=10, input_shape=(size, size, 3)
        )
    return tfeff.create_model(
        name, num_classes=10, input_shape=(size, size, 3), weights=None
    )


def _runs_in_a_stock_interpreter(path):
    done = subprocess.run(
        [sys.executable, "-c", STOCK, str(path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, (
        f"{path}: exit {done.returncode}: {done.stderr.strip()[-600:]}"
    )
    assert done.stdout.startswith("ran [1, 10]")


def _export_and_run(tmp_path, name, size, modes):
    images = (
        np.random.default_rng(0)
        .uniform(0, 255, (8, size, size, 3))
        .astype("float32")
    )
    model = _model(name, size)
    set_batch_norm_statistics(model, images)  # as a trained network's
    for mode in modes:
        path = tmp_path / f"{name}_{size}_{mode}.tflite"
        if mode == "int8":
            # Untrained, as a user's model is one epoch in: QAT's own
            # calibration on the images gives the ranges.
            with warnings.catch_warnings():
                warnings.simplefilter("error", UserWarning)  # no blockers
                to_tflite(quantize_aware(model, images), path, mode="int8")
        else:
            to_tflite(model, path, mode=mode)
        _runs_in_a_stock_interpreter(path)


@pytest.mark.slow  # 23 s on CI; also in the matrix below
def test_mixnet_s_int8_runs_in_a_stock_interpreter(tmp_path):
    # The reproduction (at 32 px; 96 px in the slow matrix):
    # aborted the process before the fix.
    _export_and_run(tmp_path, "mixnet_s", 32, ("int8",))


def test_an_int8_file_xnnpack_would_refuse_is_warned_of(tmp_path):
    # Activations of 6e5 into a conv capped by ReLU6: a requantization
    # scale of ~500. The warning names the layer; the stock interpreter
    # indeed refuses the file.
    model = tfeff.create_model(
        "test_efficientnet_lite", num_classes=4, input_shape=(64, 64, 3)
    )
    norm = model.get_layer("stage1_block1_project_bn")
    gamma, *rest = norm.get_weights()
    norm.set_weights([gamma * 1e5, *rest])
    images = np.random.default_rng(0).uniform(0, 255, (8, 64, 64, 3))
    path = tmp_path / "blown.tflite"
    with pytest.warns(UserWarning, match="XNNPACK .* will refuse") as caught:
        to_tflite(quantize_aware(model, images), path, mode="int8")
    assert "stage2_block1_expand_act" in str(caught[0].message)
    assert "train (or fit the batch norms)" in str(caught[0].message)
    assert [b[0].split("/")[1] for b in xnnpack_blockers(path)] == [
        "stage2_block1_expand_act_1"
    ]
    done = subprocess.run(
        [sys.executable, "-c", STOCK, str(path)], capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode != 0 and "failed to prepare" in done.stderr


@pytest.mark.slow  # ~15 min: 15 networks x 4 sizes x 2 exports.
@pytest.mark.parametrize("size", [32, 64, 96, 224])
@pytest.mark.parametrize("name", SMALLEST + sorted(BLOCK_KINDS))
def test_every_family_and_block_kind_runs_in_a_stock_interpreter(
    tmp_path, name, size
):
    _export_and_run(tmp_path, name, size, ("float32", "int8"))
