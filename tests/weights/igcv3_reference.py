"""How the IGCV3 numbers pinned in test_igcv3_weights.py were made.

IGCV3's checkpoint was trained in MXNet (homles11/IGCV3), whose last release
(1.9.1) needs NumPy < 1.24 and so cannot share an environment with
TensorFlow 2.21; its outputs are pinned. Run, in an environment with
`mxnet==1.9.1 numpy==1.23.5` and no TensorFlow:

    python tests/weights/igcv3_reference.py IGCV3_CHECKOUT OUT_DIR

for a checkout of homles11/IGCV3 @ 83aba2f3. It loads the released graph
(models/igcv3-symbol.json, the network the released weights belong to),
fills its parameters with `seeded_params` (the same function the test uses,
on the (name, shape) list this script writes), runs the `fc` output on
`inputs()` minus the ImageNet RGB mean in 0-255 units (common/data.py
`--rgb-mean`; no std) with MXNet's MKLDNN graph fusion off
(`MXNET_SUBGRAPH_BACKEND=NONE`, set by the script), and writes `igcv3_d.json` with the parameter list and
the logits the test pins. It also saves three small arrays with
`mx.nd.save` and writes the file's bytes as hex (`params_file_hex`), which
the reader test parses: MXNet's own writing of the format.
"""

import json
import os
import sys

import numpy as np

# The EdgeNets cases' two noise images (NumPy only, no torch).
from tests.weights.edgenets_reference import inputs  # noqa: F401

RGB_MEAN = np.array([123.68, 116.779, 103.939])
# The seeded weights are not trained; this scale (found once) brings the
# logits to about +-2, well above the biases' +-0.3.
CLASSIFIER_SCALE = 50.0


def seeded_params(tensors, seed=0, classifier_scale=CLASSIFIER_SCALE):
    """Deterministic MXNet parameters for `[(name, shape), ...]` (names as in
    the symbol: `*_weight`, `*_gamma`, `*_beta`, `*_moving_mean`,
    `*_moving_var`, `fc_bias`), batch-norm statistics away from identity."""
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in tensors:
        shape = tuple(shape)
        if name.endswith("-linear-batchnorm_gamma"):
            # Residual branches scaled down, as trained networks have them:
            # with gammas near 1 the 25 residual sums of random weights
            # amplify float32 rounding (1e-5 at the stem) into logit
            # differences of 1e-2, and the comparison would measure that.
            value = rng.uniform(0.1, 0.3, shape)
        elif name.endswith(("_moving_var", "_gamma")):
            value = rng.uniform(0.5, 1.5, shape)
        elif name.endswith(("_moving_mean", "_beta", "_bias")):
            value = rng.normal(0.0, 0.1, shape)
        else:
            fan_in = int(np.prod(shape[1:]))
            value = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
            if name.startswith("fc_"):
                value *= 0.05 * classifier_scale
        params[name] = value.astype("float32")
    return params


def main(checkout, out_dir):
    os.environ["MXNET_SUBGRAPH_BACKEND"] = "NONE"  # Plain operators.
    import mxnet as mx

    symbol = mx.sym.load(os.path.join(checkout, "models", "igcv3-symbol.json"))
    fc = symbol.get_internals()["fc_output"]
    x = (inputs() - RGB_MEAN).transpose(0, 3, 1, 2).astype("float32")
    arg_shapes, _, aux_shapes = fc.infer_shape(data=x.shape)
    args = [
        (n, list(s))
        for n, s in zip(fc.list_arguments(), arg_shapes)
        if n != "data"
    ]
    auxs = [
        (n, list(s)) for n, s in zip(fc.list_auxiliary_states(), aux_shapes)
    ]
    params = seeded_params(args + auxs)
    executor = fc.bind(
        mx.cpu(),
        args={
            "data": mx.nd.array(x),
            **{n: mx.nd.array(params[n]) for n, _ in args},
        },
        aux_states={n: mx.nd.array(params[n]) for n, _ in auxs},
        grad_req="null",
    )
    logits = executor.forward(is_train=False)[0].asnumpy()
    fixture = os.path.join(out_dir, "fixture.params")
    mx.nd.save(
        fixture,
        {
            "arg:conv_weight": mx.nd.array(np.arange(6).reshape(2, 3, 1, 1)),
            "aux:bn_moving_var": mx.nd.array([0.5, 1.5]),
            "arg:fc_bias": mx.nd.array(
                np.array([1, 2, 3], "float64"), dtype="float64"
            ),
        },
    )
    with open(fixture, "rb") as file:
        params_file_hex = file.read().hex()
    with open(os.path.join(out_dir, "igcv3_d.json"), "w") as file:
        json.dump(
            {
                "arguments": args,
                "auxiliary": auxs,
                "logits_first10": logits[:, :10].round(5).tolist(),
                "argmax": logits.argmax(-1).tolist(),
                "abs_sum": float(np.abs(logits).sum().round(3)),
                "max_abs": float(np.abs(logits).max()),
                "params_file_hex": params_file_hex,
            },
            file,
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
