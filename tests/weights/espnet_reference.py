"""How the ESPNet-C numbers pinned in test_espnet_weights.py were made.

sacmehta/ESPNet is not on the package index, so its outputs are pinned.
Run, with torch installed and no TensorFlow in the process:

    python tests/weights/espnet_reference.py ESPNET_CHECKOUT OUT_DIR

for a checkout of sacmehta/ESPNet @ afe71c38. For each case it builds
train/Model.py's `ESPNet_Encoder(20, p, q)`, fills its state dict with
`seeded_state_dict` (edgenets_reference.py; the same function the test
uses, on the (name, shape) list this script writes), runs it in eval mode on
`inputs()` prepared as ESPNet prepares images (OpenCV's BGR order, minus
the Cityscapes BGR mean, over its std, over 255: train/Transforms.py), and
writes `<case>.json` with the tensor list and samples of the encoder's
features (the output of `b3`, what its classifier reads).
"""

import json
import os
import sys

import numpy as np

from tests.weights.edgenets_reference import seeded_state_dict

# case: (p, q) of ESPNet_Encoder.
CASES = {"espnet_c_p2q3": (2, 3), "espnet_c": (2, 8)}
MEAN_BGR = np.array([72.3923111, 82.90893555, 73.15840149])
STD_BGR = np.array([45.3192215, 46.15289307, 44.91483307])
# (image, row, column) positions of the 16 x 16 feature map that are pinned:
# a corner (all padding conventions show there), inside, the far corner.
POSITIONS = ((0, 0, 0), (0, 7, 9), (1, 15, 15))


def inputs():
    """Two 128 x 128 RGB images of uniform noise in [0, 255]."""
    rng = np.random.default_rng(11)
    return rng.uniform(0, 255, (2, 128, 128, 3)).astype("float32")


def feature_samples(features):
    """The pinned summary of NHWC features: the first 8 channels at each of
    `POSITIONS`, and the mean absolute value."""
    samples = [features[i, r, c, :8].round(5).tolist() for i, r, c in POSITIONS]
    return samples, float(np.abs(features).mean())


def main(checkout, out_dir):
    import torch

    sys.path.insert(0, os.path.join(checkout, "train"))
    from Model import ESPNet_Encoder

    for case, (p, q) in CASES.items():
        net = ESPNet_Encoder(20, p, q)
        tensors = [(k, list(v.shape)) for k, v in net.state_dict().items()]
        state = seeded_state_dict(tensors)
        net.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        net.eval()
        captured = {}
        net.b3.register_forward_hook(
            lambda module, args, output: captured.update(features=output)
        )
        bgr = inputs()[..., ::-1]
        x = (bgr - MEAN_BGR) / STD_BGR / 255.0
        x = torch.from_numpy(x.astype("float32").transpose(0, 3, 1, 2))
        with torch.no_grad():
            net(x)
        features = captured["features"].numpy().transpose(0, 2, 3, 1)
        samples, mean_abs = feature_samples(features)
        with open(os.path.join(out_dir, f"{case}.json"), "w") as file:
            json.dump(
                {"tensors": tensors, "samples": samples, "mean_abs": mean_abs},
                file,
            )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
