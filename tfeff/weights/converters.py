"""Converters: reference implementations' state dicts → tfeff layer weights.

A checkpoint is never identified by guessing from its tensor names (timm's
`tf_*` ports and its PyTorch-trained models share every name, yet compute
differently). Its *source* says which reference wrote it: a catalog entry
carries one, and a file loaded from a path names it
(`source="timm:mixnet_s"`). The source fixes three things:

- the layout (which tensor goes to which tfeff layer),
- the numerics the weights were trained with (`NumericsSpec`), which the
  model must compute with (`../shared/reference/checkpoints.md` §1-2),
- the tfeff variant it is (so a checkpoint of another family or width is
  refused before a tensor is read).

Every converter maps the reference's blocks onto tfeff's in order, and a
tfeff layer split into channel parts (MixConv groups, per-group batch
norms, tiles of a large depthwise kernel) takes its slice of the
reference's tensor (`_assign_parts`).
"""

import dataclasses
import re

import numpy as np

from tfeff.spec.notation import TF_NUMERICS
from tfeff.spec.notation import TORCH_NUMERICS
from tfeff.spec.notation import EESPSpec
from tfeff.spec.notation import GhostBottleneckSpec
from tfeff.spec.notation import MaxPoolSpec
from tfeff.spec.notation import MBConvSpec
from tfeff.spec.notation import NumericsSpec
from tfeff.spec.notation import ShuffleUnitSpec
from tfeff.spec.notation import StridedEESPSpec
from tfeff.spec.notation import encode_arch
from tfeff.spec.structure import expand_blocks

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HALF = (0.5, 0.5, 0.5)


@dataclasses.dataclass(frozen=True)
class CheckpointSource:
    """Which reference implementation wrote a checkpoint, and what follows.

    Attributes:
        name: str. `"<library>:<model>"`, e.g. `"timm:tf_mixnet_s"`.
        variant: str. The tfeff variant the checkpoint is.
        layout: str. The state-dict layout (`"timm_efficientnet"`,
            `"timm_ghostnet"`, `"torchvision_shufflenet"`,
            `"efficientnet_pytorch"`, `"edgenets_espnetv2"`,
            `"edgenets_dicenet"`, `"edgenets_shufflenetv2"`,
            `"espnet_encoder"`, `"mxnet_igcv3"`).
        numerics: NumericsSpec. What the weights were trained with.
        mean, std: per-channel statistics of [0, 1] pixels the reference
            normalises its input with.
    """

    name: str
    variant: str
    layout: str
    numerics: object
    mean: tuple = IMAGENET_MEAN
    std: tuple = IMAGENET_STD


_SOURCES = {}


def _register(name, variant, layout, numerics, mean=IMAGENET_MEAN, std=None):
    _SOURCES[name] = CheckpointSource(
        name,
        variant,
        layout,
        numerics,
        mean,
        IMAGENET_STD if std is None else std,
    )


# timm (timm/models/efficientnet.py, ghostnet.py; v1.0). `tf_*` are ports of
# TensorFlow checkpoints and compute as TensorFlow does (timm emulates
# "SAME"); the others were trained in PyTorch.
for _size in range(8):
    _register(
        f"timm:tf_efficientnet_b{_size}",
        f"efficientnet_b{_size}",
        "timm_efficientnet",
        TF_NUMERICS,
    )
for _size in range(4):
    _register(
        f"timm:efficientnet_b{_size}",
        f"efficientnet_b{_size}",
        "timm_efficientnet",
        TORCH_NUMERICS,
    )
for _size in range(5):
    _register(
        f"timm:tf_efficientnet_lite{_size}",
        f"efficientnet_lite{_size}",
        "timm_efficientnet",
        TF_NUMERICS,
        HALF,
        HALF,
    )
_register(
    "timm:efficientnet_lite0",
    "efficientnet_lite0",
    "timm_efficientnet",
    TORCH_NUMERICS,
)
for _size in ("s", "m", "l"):
    _register(
        f"timm:tf_mixnet_{_size}",
        f"mixnet_{_size}",
        "timm_efficientnet",
        TF_NUMERICS,
    )
    _register(
        f"timm:mixnet_{_size}",
        f"mixnet_{_size}",
        "timm_efficientnet",
        TORCH_NUMERICS,
    )
for _width in ("050", "100", "130"):
    _register(
        f"timm:ghostnet_{_width}",
        f"ghostnet_{_width}",
        "timm_ghostnet",
        TORCH_NUMERICS,
    )
for _width in ("035", "050", "075", "100", "140"):
    _register(
        f"timm:mobilenetv2_{_width}",
        f"mobilenetv2_{_width}",
        "timm_efficientnet",
        TORCH_NUMERICS,
    )
# torchvision/models/shufflenetv2.py (v0.29).
for _tv, _width in (
    ("x0_5", "050"),
    ("x1_0", "100"),
    ("x1_5", "150"),
    ("x2_0", "200"),
):
    _register(
        f"torchvision:shufflenet_v2_{_tv}",
        f"shufflenetv2_{_width}",
        "torchvision_shufflenet",
        TORCH_NUMERICS,
    )
# efficientnet-pytorch (lukemelas, v0.7.1): TF ports with static "SAME"
# padding; efficientnet-lite-pytorch uses the same naming.
for _size in range(8):
    _register(
        f"efficientnet_pytorch:efficientnet-b{_size}",
        f"efficientnet_b{_size}",
        "efficientnet_pytorch",
        TF_NUMERICS,
    )
for _size in range(5):
    _register(
        f"efficientnet_pytorch:efficientnet-lite{_size}",
        f"efficientnet_lite{_size}",
        "efficientnet_pytorch",
        TF_NUMERICS,
        HALF,
        HALF,
    )


# EdgeNets (sacmehta/EdgeNets @ 2b232d3f) model/classification/espnetv2.py:
# PyTorch, with its default AvgPool2d (padding counted).
for _scale in ("050", "100", "125", "150", "200"):
    _register(
        f"edgenets:espnetv2_{_scale}",
        f"espnetv2_{_scale}",
        "edgenets_espnetv2",
        TORCH_NUMERICS,
    )


# EdgeNets model/classification/shufflenetv2.py: torchvision's 0.5x with
# PReLUs, a variant of its own.
_register(
    "edgenets:shufflenetv2_050",
    "shufflenetv2_prelu_050",
    "edgenets_shufflenetv2",
    TORCH_NUMERICS,
)


# sacmehta/ESPNet @ afe71c38 train/Model.py `ESPNet_Encoder` (ESPNet-C),
# pretrained on Cityscapes (pretrained/encoder/espnet_p_2_q_{3,5,8}.pth).
# Its images are OpenCV's BGR; train/Transforms.py subtracts the data set's
# BGR mean and divides by its std in 0-255 units, then ToTensor divides by
# 255 again: in tfeff's terms (RGB pixels in [0, 1]) mean = mean_bgr[::-1] /
# 255 and std = std_bgr[::-1] unscaled. The converter reverses the image
# channels wherever the network reads them.
_ESPNET_MEAN_BGR = (72.3923111, 82.90893555, 73.15840149)
_ESPNET_STD_BGR = (45.3192215, 46.15289307, 44.91483307)
for _q in (3, 5, 8):
    _register(
        f"espnet:espnet_p_2_q_{_q}",
        "espnet_c" if _q == 8 else f"espnet_c_p2q{_q}",
        "espnet_encoder",
        NumericsSpec(
            padding="symmetric", bn_epsilon=1e-3, count_include_pad=True
        ),
        mean=tuple(m / 255.0 for m in reversed(_ESPNET_MEAN_BGR)),
        std=tuple(reversed(_ESPNET_STD_BGR)),
    )


# homles11/IGCV3 @ 83aba2f3 models/igcv3-{symbol.json,0000.params}: MXNet,
# which pads as PyTorch does (explicit symmetric pads) with the graph's
# batch-norm eps 1e-5. Inputs are RGB in 0-255 minus the ImageNet mean, not
# divided by a std (common/data.py `--rgb-mean`, ImageRecordIter).
_register(
    "mxnet:igcv3",
    "igcv3_d",
    "mxnet_igcv3",
    TORCH_NUMERICS,
    mean=(123.68 / 255.0, 116.779 / 255.0, 103.939 / 255.0),
    std=(1.0 / 255.0,) * 3,
)


# EdgeNets model/classification/dicenet.py (`CNNModel`, 224 x 224).
for _scale in ("020", "050", "075", "100", "125", "150", "175", "200"):
    _register(
        f"edgenets:dicenet_{_scale}",
        f"dicenet_{_scale}",
        "edgenets_dicenet",
        TORCH_NUMERICS,
    )


def list_sources(pattern="*"):
    """Names of the checkpoint sources tfeff converts, sorted.

    Example:

    >>> "timm:tf_mixnet_s" in tfeff.weights.list_sources()
    True
    """
    import fnmatch

    return sorted(n for n in _SOURCES if fnmatch.fnmatchcase(n, pattern))


def get_source(source):
    """The `CheckpointSource` called `source` (or `source` itself)."""
    if isinstance(source, CheckpointSource):
        return source
    if not isinstance(source, str):
        raise TypeError(
            "`source` must be a str such as 'timm:mixnet_s'. Received: "
            f"source={source!r}"
        )
    try:
        return _SOURCES[source]
    except KeyError:
        raise ValueError(
            f"Unknown checkpoint source {source!r}. Known sources: "
            f"{list_sources()}"
        ) from None


def numerics_name(numerics):
    """Words for a `NumericsSpec` in error messages."""
    if numerics == TF_NUMERICS:
        return "TensorFlow's ('SAME' padding, batch-norm epsilon 1e-3)"
    if numerics == TORCH_NUMERICS:
        return "PyTorch's (symmetric padding, batch-norm epsilon 1e-5)"
    return repr(numerics)


def check_source_matches(model, source, path):
    """Refuses a checkpoint of another family, width or numerics.

    Raises:
        ValueError: naming the file, what it holds and what the model is.
    """
    from tfeff.models.registry import get_variant

    expected = get_variant(source.variant).resolved_arch()
    expected = dataclasses.replace(expected, numerics=source.numerics)
    arch = model.arch
    if (
        arch.numerics != source.numerics
        and dataclasses.replace(arch, numerics=source.numerics) == expected
    ):
        raise ValueError(
            f"Weights file {path!r} holds {source.name}, trained with "
            f"{numerics_name(source.numerics)} numerics; the model computes "
            f"with {numerics_name(arch.numerics)}, so its outputs would "
            "differ from the reference's. Build it with the checkpoint's "
            f"numerics: tfeff.create_model({source.variant!r}, "
            f"weights={path!r}, source={source.name!r})."
        )
    if arch != expected:
        raise ValueError(
            f"Weights file {path!r} holds {source.name} (tfeff variant "
            f"{source.variant!r}, arch {encode_arch(expected)!r}), but the "
            f"model's arch is {encode_arch(arch)!r}: another family, width "
            "or depth."
        )


# --- tensors -------------------------------------------------------------------


def _conv(w):
    # (out, in/groups, kh, kw) → Keras Conv2D (kh, kw, in/groups, out).
    return np.transpose(w, (2, 3, 1, 0))


def _dw(w):
    # (channels, 1, kh, kw) → Keras DepthwiseConv2D (kh, kw, channels, 1).
    return np.transpose(w, (2, 3, 0, 1))


class _State:
    """A state dict that names its file in every missing-tensor error."""

    def __init__(self, state, path, source):
        self.state = state
        self.path = path
        self.source = source
        self.used = set()

    def has(self, key):
        return key in self.state

    def __getitem__(self, key):
        try:
            value = self.state[key]
        except KeyError:
            raise ValueError(
                f"Weights file {self.path!r} has no tensor {key!r}, which a "
                f"{self.source.name} checkpoint ({self.source.layout} "
                "layout) has: it is not that checkpoint, or not that "
                "architecture."
            ) from None
        self.used.add(key)
        return np.asarray(value)

    def bn(self, prefix):
        return [
            self[f"{prefix}.weight"],
            self[f"{prefix}.bias"],
            self[f"{prefix}.running_mean"],
            self[f"{prefix}.running_var"],
        ]

    def ignore(self, key):
        """A tensor the reference registers but never computes with."""
        self[key]
        self.used.add(key)

    def ignore_prefix(self, prefix):
        for key in self.state:
            if key.startswith(prefix):
                self.used.add(key)

    def check_all_used(self):
        unused = sorted(
            k
            for k in self.state
            if k not in self.used and not k.endswith("num_batches_tracked")
        )
        if unused:
            raise ValueError(
                f"Weights file {self.path!r} has {len(unused)} tensor(s) a "
                f"{self.source.name} checkpoint of this architecture does not "
                f"have, first: {unused[:5]}: another layout or architecture."
            )


_PART = re.compile(r"^(?:_g(\d+)(?:p(\d+))?)?(?:_t(\d+)_(\d+))?$")


def _parts(layers, base, group=None):
    """The layers that hold `base`'s channels, in channel order.

    A layer is `base`, `base_g<k>` (group k), `base_g<k>p<j>` (part j of
    group k) or any of those with `_t<row>_<col>` (a tile of its kernel).
    Returns a list of channel parts, each a list of its layers (one, or
    its tiles).
    """
    found = {}
    for name, layer in layers.items():
        if not name.startswith(base):
            continue
        match = _PART.match(name[len(base) :])
        if not match:
            continue
        g, p, row, col = match.groups()
        g = int(g) if g else 0
        if group is not None and g != group:
            continue
        found.setdefault((g, int(p) if p else 0), []).append(layer)
    return [found[key] for key in sorted(found)]


def _assign_parts(named, layers, base, arrays, *, depthwise=False, group=None):
    """Slices per-channel `arrays` (a kernel, or batch-norm vectors) over
    the channel parts of `base` (see `_parts`)."""
    parts = _parts(layers, base, group)
    if not parts:
        raise ValueError(f"The model has no layer {base!r}.")
    start = 0
    for part in parts:
        first = part[0]
        if depthwise:
            width = int(first.kernel.shape[2])
        else:
            width = int(first.weights[0].shape[0])
        stop = start + width
        for layer in part:
            if depthwise:
                kernel = arrays[..., start:stop, :]
                match = re.search(r"_t(\d+)_(\d+)$", layer.name)
                if match:  # A tile: its rows (maybe dilated) and columns.
                    rows, cols = layer.kernel.shape[:2]
                    step = layer.dilation_rate[0]
                    first_row, first_col = map(int, match.groups())
                    kernel = kernel[
                        first_row : first_row + (rows - 1) * step + 1 : step,
                        first_col : first_col + cols,
                    ]
                named[layer.name] = [kernel]
            else:
                named[layer.name] = [a[start:stop] for a in arrays]
        start = stop
    total = arrays.shape[2] if depthwise else arrays[0].shape[0]
    if start != total:
        raise ValueError(
            f"Layer {base!r} has {start} channels; the checkpoint has {total}."
        )


def _set_conv(named, layers, base, state, key, *, bias=False):
    """A plain or grouped conv: `key.weight`, or `key.<g>.weight` per group."""
    if state.has(f"{key}.weight"):
        named[base] = [_conv(state[f"{key}.weight"])]
        if bias:
            named[base].append(state[f"{key}.bias"])
        return
    group = 0
    while state.has(f"{key}.{group}.weight"):
        named[f"{base}_g{group + 1}"] = [_conv(state[f"{key}.{group}.weight"])]
        group += 1
    if not group:
        state[f"{key}.weight"]  # Raises, naming the file and the tensor.


def _set_depthwise(named, layers, base, state, key):
    """A depthwise conv, or a MixConv (`key.<g>.weight` per kernel group)."""
    if state.has(f"{key}.weight"):
        _assign_parts(
            named, layers, base, _dw(state[f"{key}.weight"]), depthwise=True
        )
        return
    group = 0
    while state.has(f"{key}.{group}.weight"):
        _assign_parts(
            named,
            layers,
            base,
            _dw(state[f"{key}.{group}.weight"]),
            depthwise=True,
            group=group + 1,
        )
        group += 1
    if not group:
        state[f"{key}.weight"]


def _set_se(named, layers, n, state, key):
    """Squeeze-excite's reduce and expand convs (with bias); `key` has a
    `{}` where the reference writes `reduce` or `expand`."""
    for part in ("reduce", "expand"):
        _set_conv(
            named, layers, f"{n}_se_{part}", state, key.format(part), bias=True
        )


def _set_bn(named, layers, base, state, key):
    _assign_parts(named, layers, base, state.bn(key))


def _reference_blocks(state, prefix="blocks"):
    """(stage, block) indices of `prefix.<i>.<j>.` keys, in order."""
    pairs = set()
    for key in state.state:
        match = re.match(rf"{prefix}\.(\d+)\.(\d+)\.", key)
        if match:
            pairs.add((int(match.group(1)), int(match.group(2))))
    return sorted(pairs)


def _stage_instances(spec, kinds):
    blocks = [inst for inst in expand_blocks(spec) if inst.stage > 0]
    for inst in blocks:
        if not isinstance(inst.spec, kinds):
            raise ValueError(
                f"Block {inst.name} is {type(inst.spec).__name__}, which this "
                "checkpoint layout has no tensors for."
            )
    return blocks


def _pair_blocks(state, instances, prefix="blocks"):
    pairs = _reference_blocks(state, prefix)
    if len(pairs) != len(instances):
        raise ValueError(
            f"Weights file {state.path!r} has {len(pairs)} blocks, the model "
            f"{len(instances)}: not a {state.source.name} checkpoint of this "
            "depth."
        )
    return zip(pairs, instances)


def _classifier(named, state, key):
    if state.has(f"{key}.weight"):
        named["predictions"] = [
            np.transpose(state[f"{key}.weight"]),
            state[f"{key}.bias"],
        ]


# --- layouts ---------------------------------------------------------------------


def _timm_efficientnet(state, spec, layers):
    """timm's EfficientNet builder: EfficientNet, Lite, MixNet, MobileNetV2."""
    named = {}
    _set_conv(named, layers, "stem_conv", state, "conv_stem")
    _set_bn(named, layers, "stem_bn", state, "bn1")
    instances = _stage_instances(spec, MBConvSpec)
    for (i, j), inst in _pair_blocks(state, instances):
        n, p = inst.name, f"blocks.{i}.{j}"
        if state.has(f"{p}.conv_pwl.weight") or state.has(
            f"{p}.conv_pwl.0.weight"
        ):  # InvertedResidual: conv_pw, bn1, conv_dw, bn2, se, conv_pwl, bn3.
            _set_conv(named, layers, f"{n}_expand_conv", state, f"{p}.conv_pw")
            _set_bn(named, layers, f"{n}_expand_bn", state, f"{p}.bn1")
            dw_bn, project, project_bn = f"{p}.bn2", f"{p}.conv_pwl", f"{p}.bn3"
        else:  # DepthwiseSeparable: conv_dw, bn1, se, conv_pw, bn2.
            dw_bn, project, project_bn = f"{p}.bn1", f"{p}.conv_pw", f"{p}.bn2"
        _set_depthwise(named, layers, f"{n}_dw_conv", state, f"{p}.conv_dw")
        _set_bn(named, layers, f"{n}_dw_bn", state, dw_bn)
        if inst.spec.se_ratio > 0:
            _set_se(named, layers, n, state, f"{p}.se.conv_{{}}")
        _set_conv(named, layers, f"{n}_project_conv", state, project)
        _set_bn(named, layers, f"{n}_project_bn", state, project_bn)
    if spec.head:
        _set_conv(named, layers, "head_conv", state, "conv_head")
        _set_bn(named, layers, "head_bn", state, "bn2")
    _classifier(named, state, "classifier")
    return named


def _timm_ghostnet(state, spec, layers):
    """timm ghostnet.py (v1): stem, 16 bottlenecks, a ConvBnAct to 960,
    `conv_head` (a 1x1 conv with bias on the pooled map = tfeff's dense),
    the classifier. The shortcut is created before ghost2's cheap op, so
    modules are matched by name, never by order."""
    named = {}
    _set_conv(named, layers, "stem_conv", state, "conv_stem")
    _set_bn(named, layers, "stem_bn", state, "bn1")
    instances = _stage_instances(spec, GhostBottleneckSpec)
    pairs = _reference_blocks(state)
    last = pairs[-1] if pairs else None
    if last is None or not state.has(f"blocks.{last[0]}.{last[1]}.conv.weight"):
        state["blocks.9.0.conv.weight"]
    for (i, j), inst in zip(pairs[:-1], instances):
        n, p = inst.name, f"blocks.{i}.{j}"
        for module in ("ghost1", "ghost2"):
            _set_conv(
                named,
                layers,
                f"{n}_{module}_primary_conv",
                state,
                f"{p}.{module}.primary_conv.0",
            )
            _set_bn(
                named,
                layers,
                f"{n}_{module}_primary_bn",
                state,
                f"{p}.{module}.primary_conv.1",
            )
            _set_depthwise(
                named,
                layers,
                f"{n}_{module}_cheap_conv",
                state,
                f"{p}.{module}.cheap_operation.0",
            )
            _set_bn(
                named,
                layers,
                f"{n}_{module}_cheap_bn",
                state,
                f"{p}.{module}.cheap_operation.1",
            )
        if inst.spec.strides > 1:
            _set_depthwise(named, layers, f"{n}_dw_conv", state, f"{p}.conv_dw")
            _set_bn(named, layers, f"{n}_dw_bn", state, f"{p}.bn_dw")
        if inst.spec.se_ratio > 0:
            _set_se(named, layers, n, state, f"{p}.se.conv_{{}}")
        if state.has(f"{p}.shortcut.0.weight"):
            _set_depthwise(
                named, layers, f"{n}_shortcut_dw_conv", state, f"{p}.shortcut.0"
            )
            _set_bn(
                named, layers, f"{n}_shortcut_dw_bn", state, f"{p}.shortcut.1"
            )
            _set_conv(
                named, layers, f"{n}_shortcut_conv", state, f"{p}.shortcut.2"
            )
            _set_bn(named, layers, f"{n}_shortcut_bn", state, f"{p}.shortcut.3")
    if len(pairs) - 1 != len(instances):
        raise ValueError(
            f"Weights file {state.path!r} has {len(pairs) - 1} bottlenecks, "
            f"the model {len(instances)}: not a {state.source.name} "
            "checkpoint of this depth."
        )
    i, j = last
    _set_conv(named, layers, "head_conv", state, f"blocks.{i}.{j}.conv")
    _set_bn(named, layers, "head_bn", state, f"blocks.{i}.{j}.bn1")
    named["top_dense"] = [
        np.transpose(state["conv_head.weight"][:, :, 0, 0]),
        state["conv_head.bias"],
    ]
    _classifier(named, state, "classifier")
    return named


def _torchvision_shufflenet(state, spec, layers):
    """torchvision shufflenetv2.py: conv1, maxpool, stage2-4 of
    InvertedResidual (branch1 = dw, bn, 1x1, bn, relu on strided units;
    branch2 = 1x1, bn, relu, dw, bn, 1x1, bn, relu), conv5, fc."""
    named = {}
    _set_conv(named, layers, "stem_conv", state, "conv1.0")
    _set_bn(named, layers, "stem_bn", state, "conv1.1")
    instances = [
        inst
        for inst in _stage_instances(spec, (ShuffleUnitSpec, MaxPoolSpec))
        if isinstance(inst.spec, ShuffleUnitSpec)
    ]
    stages = sorted({inst.stage for inst in instances})
    for inst in instances:
        stage = stages.index(inst.stage) + 2  # torchvision's stage2..4.
        block = int(inst.name.rsplit("block", 1)[1]) - 1
        n, p = inst.name, f"stage{stage}.{block}"
        if inst.spec.strides > 1:
            _set_depthwise(
                named, layers, f"{n}_proj_dw_conv", state, f"{p}.branch1.0"
            )
            _set_bn(named, layers, f"{n}_proj_dw_bn", state, f"{p}.branch1.1")
            _set_conv(named, layers, f"{n}_proj_conv", state, f"{p}.branch1.2")
            _set_bn(named, layers, f"{n}_proj_bn", state, f"{p}.branch1.3")
        _set_conv(named, layers, f"{n}_pw1_conv", state, f"{p}.branch2.0")
        _set_bn(named, layers, f"{n}_pw1_bn", state, f"{p}.branch2.1")
        _set_depthwise(named, layers, f"{n}_dw_conv", state, f"{p}.branch2.3")
        _set_bn(named, layers, f"{n}_dw_bn", state, f"{p}.branch2.4")
        _set_conv(named, layers, f"{n}_pw2_conv", state, f"{p}.branch2.5")
        _set_bn(named, layers, f"{n}_pw2_bn", state, f"{p}.branch2.6")
    _set_conv(named, layers, "head_conv", state, "conv5.0")
    _set_bn(named, layers, "head_bn", state, "conv5.1")
    _classifier(named, state, "fc")
    return named


def _efficientnet_pytorch(state, spec, layers):
    """lukemelas/EfficientNet-PyTorch: `_conv_stem`, `_blocks.<k>.*`."""
    named = {}
    _set_conv(named, layers, "stem_conv", state, "_conv_stem")
    _set_bn(named, layers, "stem_bn", state, "_bn0")
    instances = _stage_instances(spec, MBConvSpec)
    count = len(
        {k.split(".")[1] for k in state.state if k.startswith("_blocks.")}
    )
    if count != len(instances):
        raise ValueError(
            f"Weights file {state.path!r} has {count} blocks, the model "
            f"{len(instances)}: not a {state.source.name} checkpoint of this "
            "depth."
        )
    for index, inst in enumerate(instances):
        n, p = inst.name, f"_blocks.{index}"
        if inst.spec.expand_ratio != 1:
            _set_conv(
                named, layers, f"{n}_expand_conv", state, f"{p}._expand_conv"
            )
            _set_bn(named, layers, f"{n}_expand_bn", state, f"{p}._bn0")
        _set_depthwise(
            named, layers, f"{n}_dw_conv", state, f"{p}._depthwise_conv"
        )
        _set_bn(named, layers, f"{n}_dw_bn", state, f"{p}._bn1")
        if inst.spec.se_ratio > 0:
            _set_se(named, layers, n, state, f"{p}._se_{{}}")
        _set_conv(
            named, layers, f"{n}_project_conv", state, f"{p}._project_conv"
        )
        _set_bn(named, layers, f"{n}_project_bn", state, f"{p}._bn2")
    if spec.head:
        _set_conv(named, layers, "head_conv", state, "_conv_head")
        _set_bn(named, layers, "head_bn", state, "_bn1")
    _classifier(named, state, "_fc")
    return named


def _set_prelu(named, layers, base, state, key):
    # PyTorch's PReLU(C) → Keras PReLU(shared_axes=[1, 2]) alpha (1, 1, C).
    named[base] = [state[f"{key}.weight"].reshape(1, 1, -1)]


def _set_grouped_conv(named, layers, base, state, key):
    """One PyTorch conv with `groups` → tfeff's `base_g<k>` convs (or
    `base` when it has one group): group k takes its output channels."""
    weight = state[f"{key}.weight"]
    parts = [
        layer
        for name, layer in sorted(layers.items())
        if re.fullmatch(rf"{re.escape(base)}(_g\d+)?", name)
    ]
    parts.sort(key=lambda layer: int(layer.name.rsplit("_g", 1)[1])
               if layer.name != base else 0)  # fmt: skip
    start = 0
    for layer in parts:
        out = int(layer.kernel.shape[-1])
        named[layer.name] = [_conv(weight[start : start + out])]
        start += out
    if start != weight.shape[0]:
        raise ValueError(
            f"Weights file {state.path!r}: {key} makes {weight.shape[0]} "
            f"channels, tfeff's {base} {start}."
        )


def _edgenets_eesp(named, layers, state, n, p, *, strided):
    """EdgeNets nn_layers/eesp.py EESP at `p` onto tfeff's block `n`."""
    _set_grouped_conv(
        named, layers, f"{n}_reduce_conv", state, f"{p}.proj_1x1.conv"
    )
    _set_bn(named, layers, f"{n}_reduce_bn", state, f"{p}.proj_1x1.bn")
    _set_prelu(named, layers, f"{n}_reduce_act", state, f"{p}.proj_1x1.act")
    branch = 0
    while state.has(f"{p}.spp_dw.{branch}.conv.weight"):
        _set_depthwise(
            named,
            layers,
            f"{n}_branch{branch + 1}_dw_conv",
            state,
            f"{p}.spp_dw.{branch}.conv",
        )
        branch += 1
    _set_bn(named, layers, f"{n}_concat_bn", state, f"{p}.br_after_cat.bn")
    _set_prelu(named, layers, f"{n}_concat_act", state, f"{p}.br_after_cat.act")
    _set_grouped_conv(
        named, layers, f"{n}_merge_conv", state, f"{p}.conv_1x1_exp.conv"
    )
    _set_bn(named, layers, f"{n}_merge_bn", state, f"{p}.conv_1x1_exp.bn")
    if strided:
        # A strided EESP (down_method="avg") returns before its module_act:
        # EdgeNets registers weights its forward never reads.
        state.ignore(f"{p}.module_act.weight")
    else:
        _set_prelu(named, layers, f"{n}_out_act", state, f"{p}.module_act")


def _edgenets_espnetv2(state, spec, layers):
    """EdgeNets model/classification/espnetv2.py `EESPNet`: level1 CBR;
    level2_0, level3_0, level4_0, level5_0 DownSamplers (`eesp`, `avg`,
    `inp_reinf`, `act`), level3/4/5 EESP lists, then level5's depthwise and
    grouped CBRs (tfeff's two head tokens), classifier. level5_0 registers
    an `inp_reinf` its forward never calls; it is left out."""
    named = {}
    _set_conv(named, layers, "stem_conv", state, "level1.conv")
    _set_bn(named, layers, "stem_bn", state, "level1.bn")
    _set_prelu(named, layers, "stem_act", state, "level1.act")
    instances = _stage_instances(spec, (EESPSpec, StridedEESPSpec))
    levels, level = [], 1
    for inst in instances:
        if isinstance(inst.spec, StridedEESPSpec):
            level += 1
            levels.append((inst, f"level{level}_0", 0))
        else:
            index = sum(
                1 for _, p, _ in levels if p.startswith(f"level{level}.")
            )
            levels.append((inst, f"level{level}.{index}", 1))
    for inst, p, plain in levels:
        n = inst.name
        if plain:
            _edgenets_eesp(named, layers, state, n, p, strided=False)
            continue
        _edgenets_eesp(named, layers, state, n, f"{p}.eesp", strided=True)
        if inst.spec.reinforce:
            _set_conv(
                named, layers, f"{n}_reinf_conv", state, f"{p}.inp_reinf.0.conv"
            )
            _set_bn(
                named, layers, f"{n}_reinf_bn", state, f"{p}.inp_reinf.0.bn"
            )
            _set_prelu(
                named, layers, f"{n}_reinf_act", state, f"{p}.inp_reinf.0.act"
            )
            _set_conv(
                named,
                layers,
                f"{n}_reinf_project_conv",
                state,
                f"{p}.inp_reinf.1.conv",
            )
            _set_bn(
                named,
                layers,
                f"{n}_reinf_project_bn",
                state,
                f"{p}.inp_reinf.1.bn",
            )
        else:
            state.ignore_prefix(f"{p}.inp_reinf.")
        _set_prelu(named, layers, f"{n}_out_act", state, f"{p}.act")
    last = sum(1 for _, p, _ in levels if p.startswith(f"level{level}."))
    for head, index in (("head", last), ("head2", last + 1)):
        p = f"level{level}.{index}"
        if head == "head":
            _set_depthwise(named, layers, f"{head}_conv", state, f"{p}.conv")
        else:
            _set_grouped_conv(named, layers, f"{head}_conv", state, f"{p}.conv")
        _set_bn(named, layers, f"{head}_bn", state, f"{p}.bn")
        _set_prelu(named, layers, f"{head}_act", state, f"{p}.act")
    _classifier(named, state, "classifier")
    return named


def _cbr(named, layers, state, n, key, *, depthwise=False, groups=False):
    """EdgeNets cnn_utils.CBR (`cbr.0` conv, `cbr.1` BN, `cbr.2` PReLU)."""
    if depthwise:
        _set_depthwise(named, layers, f"{n}_conv", state, f"{key}.cbr.0")
    elif groups:
        _set_grouped_conv(named, layers, f"{n}_conv", state, f"{key}.cbr.0")
    else:
        _set_conv(named, layers, f"{n}_conv", state, f"{key}.cbr.0")
    _set_bn(named, layers, f"{n}_bn", state, f"{key}.cbr.1")
    _set_prelu(named, layers, f"{n}_act", state, f"{key}.cbr.2")


def _edgenets_dice(named, layers, state, n, p):
    """nn_layers/dice.py DICE onto tfeff's per-branch form (tfeff/blocks/
    dice.py): BR(3C) splits into the channel, height and width branches'
    batch norms and PReLUs, and the grouped 1x1 3C -> C after the
    3-way shuffle (`weight_avg_layer`, weight [c, j]) is each branch j's
    1x1 depthwise scale of channel c."""
    _set_depthwise(
        named, layers, f"{n}_channel_conv", state, f"{p}.conv_channel"
    )
    # conv_height convolves x.transpose(1, 2) (channels = rows), conv_width
    # x.transpose(1, 3); tfeff's Permute layers put the same axes in place.
    _set_depthwise(named, layers, f"{n}_height_conv", state, f"{p}.conv_height")
    _set_depthwise(named, layers, f"{n}_width_conv", state, f"{p}.conv_width")
    gamma, beta, mean, variance = state.bn(f"{p}.br_act.br.0")
    slopes = state[f"{p}.br_act.br.1.weight"]
    fuse = state[f"{p}.weight_avg_layer.cbr.0.weight"]  # (C, 3, 1, 1)
    channels = fuse.shape[0]
    if gamma.shape[0] != 3 * channels or fuse.shape[1] != 3:
        raise ValueError(
            f"Weights file {state.path!r}: {p} is not a DICE unit of "
            f"{channels} channels."
        )
    for j, dim in enumerate(("channel", "height", "width")):
        part = slice(j * channels, (j + 1) * channels)
        named[f"{n}_{dim}_bn"] = [
            gamma[part],
            beta[part],
            mean[part],
            variance[part],
        ]
        named[f"{n}_{dim}_act"] = [slopes[part].reshape(1, 1, -1)]
        named[f"{n}_{dim}_fuse"] = [fuse[:, j].reshape(1, 1, channels, 1)]
    _set_bn(named, layers, f"{n}_fuse_bn", state, f"{p}.weight_avg_layer.cbr.1")
    _set_prelu(
        named, layers, f"{n}_fuse_act", state, f"{p}.weight_avg_layer.cbr.2"
    )
    named[f"{n}_gate_reduce"] = [
        _conv(state[f"{p}.linear_comb_layer.1.weight"])
    ]
    named[f"{n}_gate_expand"] = [
        _conv(state[f"{p}.linear_comb_layer.3.weight"])
    ]
    _cbr(named, layers, state, f"{n}_proj", f"{p}.proj_layer", depthwise=True)


def _edgenets_dicenet(state, spec, layers):
    """EdgeNets model/classification/dicenet.py `CNNModel`: level1 CBR,
    level2 max pool, level3-5 = StridedDICE + ShuffleDICEBlocks, classifier
    (a grouped 1x1 conv on the pooled map = tfeff's grouped dense, then a
    1x1 conv with bias = the classifier)."""
    from tfeff.spec.notation import ShuffleDICESpec
    from tfeff.spec.notation import StridedDICESpec

    named = {}
    _cbr(named, layers, state, "stem", "level1")
    instances = [
        inst
        for inst in _stage_instances(
            spec, (StridedDICESpec, ShuffleDICESpec, MaxPoolSpec)
        )
        if not isinstance(inst.spec, MaxPoolSpec)
    ]
    level, index = 2, 0
    for inst in instances:
        n = inst.name
        if isinstance(inst.spec, StridedDICESpec):
            level, index = level + 1, 0
            p = f"level{level}.0"
            _cbr(
                named,
                layers,
                state,
                f"{n}_left_dw",
                f"{p}.left_layer.0",
                depthwise=True,
            )
            _cbr(named, layers, state, f"{n}_left", f"{p}.left_layer.1")
            _edgenets_dice(
                named, layers, state, f"{n}_dice", f"{p}.right_layer.1"
            )
            _cbr(named, layers, state, f"{n}_right", f"{p}.right_layer.2")
        else:
            index += 1
            p = f"level{level}.{index}"
            _cbr(named, layers, state, f"{n}_reduce", f"{p}.layer_right.0")
            _edgenets_dice(
                named, layers, state, f"{n}_dice", f"{p}.layer_right.1"
            )
    # The grouped 1x1 conv on pooled features is tfeff's grouped dense.
    weight = state["classifier.0.weight"][:, :, 0, 0]  # (out, in / groups)
    dense = sorted(
        (name for name in layers if re.fullmatch(r"top_dense(_g\d+)?", name)),
        key=lambda name: int(name.rsplit("_g", 1)[1]) if "_g" in name else 0,
    )
    start = 0
    for name in dense:
        out = int(layers[name].kernel.shape[-1])
        named[name] = [np.transpose(weight[start : start + out])]
        start += out
    if start != weight.shape[0]:
        raise ValueError(
            f"Weights file {state.path!r}: classifier.0 makes "
            f"{weight.shape[0]} channels, tfeff's top {start}."
        )
    if state.has("classifier.2.weight"):
        named["predictions"] = [
            np.transpose(state["classifier.2.weight"][:, :, 0, 0]),
            state["classifier.2.bias"],
        ]
    return named


def _edgenets_shufflenetv2(state, spec, layers):
    """EdgeNets model/classification/shufflenetv2.py `CNNModel`: level1 CBR,
    level2 max pool, level3-5 = StridedShuffleBlock (layer_left and the
    layer_right's second part are DWSepConv: a CB depthwise, then a CBR
    1x1) + ShuffleBlocks (layer_right = CBR 1x1, DWSepConv), level5's last
    module the 1x1 CBR head, classifier a 1x1 conv with bias."""
    named = {}
    _cbr(named, layers, state, "stem", "level1")
    instances = [
        inst
        for inst in _stage_instances(spec, (ShuffleUnitSpec, MaxPoolSpec))
        if isinstance(inst.spec, ShuffleUnitSpec)
    ]
    stages = sorted({inst.stage for inst in instances})

    def dw_sep(n, dw, key):
        """DWSepConv `key` onto tfeff's `{dw}_conv/_bn` and `{n}_*` 1x1."""
        _set_depthwise(
            named, layers, f"{dw}_conv", state, f"{key}.dwise_layer.0.cb.0"
        )
        _set_bn(named, layers, f"{dw}_bn", state, f"{key}.dwise_layer.0.cb.1")
        _cbr(named, layers, state, n, f"{key}.dwise_layer.1")

    for inst in instances:
        level = stages.index(inst.stage) + 3  # EdgeNets' level3..5.
        block = int(inst.name.rsplit("block", 1)[1]) - 1
        n, p = inst.name, f"level{level}.{block}"
        if inst.spec.strides > 1:
            dw_sep(f"{n}_proj", f"{n}_proj_dw", f"{p}.layer_left")
        _cbr(named, layers, state, f"{n}_pw1", f"{p}.layer_right.0")
        dw_sep(f"{n}_pw2", f"{n}_dw", f"{p}.layer_right.1")
    head = len([inst for inst in instances if inst.stage == stages[-1]])
    _cbr(named, layers, state, "head", f"level5.{head}")
    if state.has("classifier.weight"):
        named["predictions"] = [
            np.transpose(state["classifier.weight"][:, :, 0, 0]),
            state["classifier.bias"],
        ]
    return named


def _espnet_encoder(state, spec, layers):
    """sacmehta/ESPNet train/Model.py `ESPNet_Encoder`: level1 CBR, b1 BR,
    level2_0 / level3_0 DownSamplerB, level2 / level3 lists of
    DilatedParllelResidualBlockB (c1 reduce, d1 (n1 channels), d2..d16),
    b2 and b3 BRs. Its `classifier` (a 1x1 conv to the Cityscapes classes
    at 1/8 resolution) is a segmentation classifier; an image classifier's
    dense layer keeps its own initialisation."""
    named = {}

    def cbr(n, key, *, conv=True):
        if conv:
            _set_conv(named, layers, f"{n}_conv", state, f"{key}.conv")
        _set_bn(named, layers, f"{n}_bn", state, f"{key}.bn")
        _set_prelu(named, layers, f"{n}_act", state, f"{key}.act")

    def esp(n, key, *, bn):
        _set_conv(named, layers, f"{n}_reduce_conv", state, f"{key}.c1.conv")
        for branch, dilation in enumerate((1, 2, 4, 8, 16), start=1):
            _set_conv(
                named,
                layers,
                f"{n}_branch{branch}_conv",
                state,
                f"{key}.d{dilation}.conv",
            )
        cbr(n, bn, conv=False)

    cbr("stem", "level1")
    cbr("stage1_block1", "b1", conv=False)
    for level, stage in ((2, "stage2_block1"), (3, "stage3_block1")):
        esp(f"{stage}_down", f"level{level}_0", bn=f"level{level}_0")
        index = 0
        while state.has(f"level{level}.{index}.c1.conv.weight"):
            key = f"level{level}.{index}"
            esp(f"{stage}_esp{index + 1}", key, bn=f"{key}.bn")
            index += 1
        cbr(stage, f"b{level}", conv=False)
    state.ignore("classifier.conv.weight")
    # BGR → RGB: the image is the last 3 channels of the stem conv's input,
    # of the two BRs after an image concat and of the convs that read them.
    named["stem_conv"][0] = named["stem_conv"][0][:, :, ::-1]
    for reader in (
        "stage2_block1_down_reduce_conv",
        "stage3_block1_down_reduce_conv",
    ):
        kernel = named[reader][0].copy()
        kernel[:, :, -3:] = kernel[:, :, -3:][:, :, ::-1]
        named[reader][0] = kernel
    for base in ("stage1_block1", "stage2_block1"):
        for layer in (f"{base}_bn", f"{base}_act"):
            flipped = []
            for value in named[layer]:
                value = np.array(value)
                value[..., -3:] = value[..., -3:][..., ::-1]
                flipped.append(value)
            named[layer] = flipped
    return named


class _MXNetNames:
    """An MXNet parameter dict seen through PyTorch's names: `X.weight` is
    MXNet's `X_weight`, and `bn(X)` its `X_gamma`, `X_beta`,
    `X_moving_mean`, `X_moving_var`, so the PyTorch helpers apply."""

    def __init__(self, state):
        self.state = state
        self.path = state.path
        self.source = state.source

    @staticmethod
    def _name(key):
        prefix, _, leaf = key.rpartition(".")
        return f"{prefix}_{leaf}"

    def has(self, key):
        return self.state.has(self._name(key))

    def __getitem__(self, key):
        return self.state[self._name(key)]

    def bn(self, prefix):
        return [
            self.state[f"{prefix}_{leaf}"]
            for leaf in ("gamma", "beta", "moving_mean", "moving_var")
        ]


def _mxnet_igcv3(state, spec, layers):
    """homles11/IGCV3's released graph: `first-3x3-conv`, then
    `seq-<stage>-block<j>` units of `exp` (grouped 1x1, BN, no activation),
    the permutation, `depthwise` (BN, ReLU6) and `linear` (grouped 1x1, BN),
    `last-1x1-conv`, `fc`; each part `-conv2d_weight` + `-batchnorm_*`."""
    from tfeff.spec.notation import IGCV3Spec

    named = {}
    names = _MXNetNames(state)

    def unit(n, key, *, grouped=False, depthwise=False):
        if depthwise:
            _set_depthwise(named, layers, f"{n}_conv", names, f"{key}-conv2d")
        elif grouped:
            _set_grouped_conv(
                named, layers, f"{n}_conv", names, f"{key}-conv2d"
            )
        else:
            _set_conv(named, layers, f"{n}_conv", names, f"{key}-conv2d")
        _set_bn(named, layers, f"{n}_bn", names, f"{key}-batchnorm")

    unit("stem", "first-3x3-conv")
    instances = _stage_instances(spec, IGCV3Spec)
    stages = sorted({inst.stage for inst in instances})
    blocks_so_far = {}  # per stage: its blocks converted so far
    for inst in instances:
        i = stages.index(inst.stage)
        j = blocks_so_far.setdefault(i, 0)
        blocks_so_far[i] = j + 1
        n, p = inst.name, f"seq-{i}-block{j}"
        unit(f"{n}_expand", f"{p}-exp", grouped=True)
        unit(f"{n}_dw", f"{p}-depthwise", depthwise=True)
        unit(f"{n}_project", f"{p}-linear", grouped=True)
    unit("head", "last-1x1-conv")
    _classifier(named, names, "fc")
    return named


_LAYOUTS = {
    "timm_efficientnet": _timm_efficientnet,
    "timm_ghostnet": _timm_ghostnet,
    "torchvision_shufflenet": _torchvision_shufflenet,
    "efficientnet_pytorch": _efficientnet_pytorch,
    "edgenets_espnetv2": _edgenets_espnetv2,
    "edgenets_dicenet": _edgenets_dicenet,
    "edgenets_shufflenetv2": _edgenets_shufflenetv2,
    "espnet_encoder": _espnet_encoder,
    "mxnet_igcv3": _mxnet_igcv3,
}
# Tensor names that only one reference writes, in only one convention, so
# the source can be read off the file without a guess (timm's names are
# shared by its TF ports and PyTorch models, so they never qualify).
_UNIQUE_LAYOUT_KEYS = {
    "efficientnet_pytorch": "_conv_stem.weight",
    "torchvision_shufflenet": "stage2.0.branch1.0.weight",
}


def source_from_layout(state, model):
    """The source of a state dict whose tensor names say which reference
    wrote it (efficientnet-pytorch, torchvision) and whose variant is the
    model's architecture; None otherwise."""
    from tfeff.models.registry import get_variant

    for layout, key in _UNIQUE_LAYOUT_KEYS.items():
        if key not in state:
            continue
        for source in _SOURCES.values():
            if source.layout != layout:
                continue
            expected = dataclasses.replace(
                get_variant(source.variant).resolved_arch(),
                numerics=source.numerics,
            )
            if expected == model.arch:
                return source
    return None


def is_timm_layout(state):
    """Whether tensor names are timm's (shared by its TF ports and its
    PyTorch-trained models, so they never say which one a file is)."""
    return "conv_stem.weight" in state


def convert_state_dict(state, model, source, *, path):
    """A reference state dict as `{tfeff layer name: [arrays]}` for `model`.

    Args:
        state: dict of numpy arrays (a PyTorch state dict, or MXNet's
            parameters with their `arg:` / `aux:` prefixes dropped).
        model: the tfeff model it is for (its arch, numerics and layers).
        source: str or CheckpointSource.
        path: str. The file, named in every error.

    Raises:
        ValueError: another family, width, depth or numerics than the
            model, or a tensor the layout lacks or does not expect.
    """
    source = get_source(source)
    check_source_matches(model, source, path)
    layers = {layer.name: layer for layer in model.layers if layer.weights}
    if state and all(k.startswith("module.") for k in state):
        # Saved from a torch.nn.DataParallel wrapper (EdgeNets' trainer).
        state = {k[len("module.") :]: v for k, v in state.items()}
    wrapped = _State(state, path, source)
    named = _LAYOUTS[source.layout](wrapped, model.arch, layers)
    if "predictions" not in layers:
        named.pop("predictions", None)
        for key in list(wrapped.state):
            if key.split(".")[0] in ("fc", "_fc") or key.startswith(
                (
                    "classifier.weight",
                    "classifier.bias",
                    "classifier.2.",
                    "fc_weight",  # MXNet's names.
                    "fc_bias",
                )
            ):
                wrapped.used.add(key)
    wrapped.check_all_used()
    return named
