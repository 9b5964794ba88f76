"""How the EdgeNets numbers pinned in test_edgenets_weights.py were made.

EdgeNets (sacmehta/EdgeNets) is not on the package index, so its outputs are
pinned rather than computed in the test. Run, with torch installed and no
TensorFlow in the process:

    python tests/weights/edgenets_reference.py EDGENETS_CHECKOUT OUT_DIR

for a checkout of sacmehta/EdgeNets @ 2b232d3f. For each case it builds the
EdgeNets network, fills its state dict with `seeded_state_dict` (the same
function the test uses, on the (name, shape) list this script writes), runs
it in eval mode on `inputs()` normalised with EdgeNets' ImageNet mean/std,
and writes `<case>.json` with the tensor list and the logits the test pins.
"""

import json
import os
import sys

import numpy as np

# case: (EdgeNets scale s, classifier scale). The seeded weights are not
# trained, so activations grow through the residual sums; the classifier
# scale (found once) brings the logits to about +-2, where float32 leaves
# 1e-4 to spare.
CASES = {
    "espnetv2_050": (0.5, 2.0 / 2477.0),
    "espnetv2_100": (1.0, 2.0 / 64137.0),
    "dicenet_020": (0.2, 21.0),
    "dicenet_100": (1.0, 28.0),
    "shufflenetv2_prelu_050": (0.5, 2.0 / 402.0),
}
MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])


def seeded_state_dict(tensors, seed=0, classifier_scale=1.0):
    """Deterministic weights for `[(name, shape), ...]`, with batch-norm
    statistics away from their identity values so that epsilon and padding
    show in the outputs."""
    rng = np.random.default_rng(seed)
    names = {name for name, _ in tensors}
    state = {}
    for name, shape in tensors:
        shape = tuple(shape)
        prefix = name.rsplit(".", 1)[0]
        batch_norm = f"{prefix}.running_var" in names
        if name.endswith("num_batches_tracked"):
            continue
        if name.endswith("running_var") or (
            batch_norm and name.endswith("weight")
        ):
            value = rng.uniform(0.5, 1.5, shape)
        elif name.endswith(("running_mean", "bias")):
            value = rng.normal(0.0, 0.1, shape)
        elif len(shape) == 1:  # PReLU slopes.
            value = rng.uniform(0.05, 0.3, shape)
        else:
            fan_in = int(np.prod(shape[1:]))
            value = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
            if name.startswith("classifier"):
                value *= 0.05 * classifier_scale
        state[name] = value.astype("float32")
    return state


def inputs():
    """Two 224 x 224 RGB images of uniform noise in [0, 255]."""
    rng = np.random.default_rng(7)
    return rng.uniform(0, 255, (2, 224, 224, 3)).astype("float32")


def main(checkout, out_dir):
    import argparse

    import torch

    sys.path.insert(0, checkout)
    from model.classification.dicenet import CNNModel as DiCENet
    from model.classification.espnetv2 import EESPNet
    from model.classification.shufflenetv2 import CNNModel as ShuffleNetV2

    networks = {
        "espnetv2": EESPNet,
        "dicenet": DiCENet,
        "shufflenetv2": ShuffleNetV2,
    }

    for case, (scale, classifier_scale) in CASES.items():
        args = argparse.Namespace(
            s=scale,
            num_classes=1000,
            channels=3,
            model_width=224,
            model_height=224,
        )
        net = networks[case.split("_")[0]](args)
        tensors = [(k, list(v.shape)) for k, v in net.state_dict().items()]
        state = seeded_state_dict(tensors, classifier_scale=classifier_scale)
        net.load_state_dict(
            {k: torch.from_numpy(v) for k, v in state.items()}, strict=False
        )
        net.eval()
        x = (inputs() / 255.0 - MEAN) / STD
        x = torch.from_numpy(x.astype("float32").transpose(0, 3, 1, 2))
        with torch.no_grad():
            logits = net(x).numpy()
        with open(os.path.join(out_dir, f"{case}.json"), "w") as file:
            json.dump(
                {
                    "tensors": tensors,
                    "logits_first10": logits[:, :10].round(5).tolist(),
                    "argmax": logits.argmax(-1).tolist(),
                    "abs_sum": float(np.abs(logits).sum().round(3)),
                    "max_abs": float(np.abs(logits).max()),
                },
                file,
            )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
