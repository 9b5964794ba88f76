"""Writes reference checkpoints and their outputs, for tfeff to match.

Run by tests/weights/test_reference_equality.py as a separate process
(`python reference_side.py OUT_DIR NAME...`), because PyTorch and TensorFlow
in one process crash (torchvision segfaults when imported after
TensorFlow). It imports torch, timm, torchvision and efficientnet-pytorch
and no TensorFlow.

For each `library:model` it builds the reference network from its own
package with seeded random weights, draws its batch-norm statistics and
affine parameters at random (running mean N(0, 0.1), running variance and
scale U(0.5, 1.5), shift N(0, 0.1), so that the epsilon matters), scales
the classifier so that logits are about +-2, and writes:

- `<name>.safetensors`: the state dict, as the reference names it;
- `<name>.npz`: `pixels` (two uniform-noise images and scikit-image's
  `chelsea` photograph, 224 x 224 RGB in [0, 255]) and the reference's
  `logits` for them, the pixels normalised by the reference's own mean and
  std.

Once per run it also writes `eval_transforms.npz`: timm's and torchvision's
own evaluation transforms of the same photograph (see `eval_transforms`).
"""

import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
HALF = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))


def build(name):
    library, model = name.split(":")
    if library == "timm":
        import timm

        net = timm.create_model(model)
        stats = (net.pretrained_cfg["mean"], net.pretrained_cfg["std"])
        return net, net.get_classifier(), stats
    if library == "torchvision":
        import torchvision

        net = getattr(torchvision.models, model)()
        return net, net.fc, IMAGENET
    if library == "efficientnet_pytorch":
        from efficientnet_pytorch import EfficientNet

        net = EfficientNet.from_name(model)
        net.set_swish(memory_efficient=False)
        return net, net._fc, IMAGENET
    raise ValueError(f"Unknown reference library in {name!r}")


def photograph():
    from PIL import Image
    from skimage import data

    image = Image.fromarray(data.chelsea())  # 300 x 451
    side = min(image.size)
    left = (image.size[0] - side) // 2
    top = (image.size[1] - side) // 2
    image = image.crop((left, top, left + side, top + side))
    return np.asarray(image.resize((224, 224), Image.BICUBIC), "float32")


def eval_transforms(out_dir):
    """The references' own evaluation transforms of scikit-image's chelsea
    (300 x 451), as [0, 255] pixels: timm's (from each model's
    pretrained_cfg) and torchvision's (from the weights' transforms)."""
    import timm
    import torchvision
    from PIL import Image
    from skimage import data

    image = Image.fromarray(data.chelsea())
    out = {}
    for name in ("tf_efficientnet_lite3.in1k", "mixnet_s.ft_in1k"):
        config = timm.data.resolve_data_config(
            {}, pretrained_cfg=timm.models.get_pretrained_cfg(name).to_dict()
        )
        config.update(mean=(0.0,) * 3, std=(1 / 255.0,) * 3)
        transform = timm.data.create_transform(**config)
        out[name] = transform(image).numpy().transpose(1, 2, 0)
    weights = torchvision.models.ShuffleNet_V2_X1_5_Weights.IMAGENET1K_V1
    transform = weights.transforms()
    transform.mean, transform.std = [0.0] * 3, [1 / 255.0] * 3
    out["shufflenetv2_150.tv_in1k"] = (
        transform(image).numpy().transpose(1, 2, 0)
    )
    np.savez(os.path.join(out_dir, "eval_transforms.npz"), **out)


def main(out_dir, names):
    rng = np.random.default_rng(2)
    noise = rng.uniform(0, 255, (2, 224, 224, 3)).astype("float32")
    pixels = np.concatenate([noise, photograph()[None]], axis=0)
    eval_transforms(out_dir)
    for name in names:
        torch.manual_seed(0)
        net, classifier, (mean, std) = build(name)
        generator = torch.Generator().manual_seed(1)
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                c = module.num_features
                module.running_mean.copy_(
                    torch.randn(c, generator=generator) * 0.1
                )
                module.running_var.copy_(
                    torch.rand(c, generator=generator) + 0.5
                )
                module.weight.data.copy_(
                    torch.rand(c, generator=generator) + 0.5
                )
                module.bias.data.copy_(
                    torch.randn(c, generator=generator) * 0.1
                )
        net.eval()
        x = (pixels / 255.0 - np.asarray(mean)) / np.asarray(std)
        x = torch.from_numpy(x.astype("float32").transpose(0, 3, 1, 2))
        with torch.no_grad():
            scale = 2.0 / float(net(x).std())
            classifier.weight.mul_(scale)
            classifier.bias.mul_(scale)
            logits = net(x).numpy()
        stem = os.path.join(out_dir, name.replace(":", "_"))
        state = {k: v.contiguous() for k, v in net.state_dict().items()}
        save_file(state, stem + ".safetensors")
        np.savez(stem + ".npz", pixels=pixels, logits=logits)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
