"""The search space: per-stage block choices on a fixed stage skeleton.

A candidate is a dict of hyperparameter values (`stage3_kind`,
`stage3_kernel`, ...); `SearchSpace.arch(values)` turns it into an arch
string, which is validated and costed with `estimate_cost` at the
deployment resolution before anything is built. The skeleton (stage
count, strides, base widths and repeats, stem and head) is a base
family's, so every candidate is a valid network of that family's shape.

Per stage the choices are:
- `kind`: `"mbconv"` (MBConv, one kernel), `"mixconv"` (MBConv whose
  depthwise conv is a MixConv kernel list), `"ghost"` (Ghost bottleneck),
  `"eesp"` (EESP; a stride-2 stage opens with a strided EESP);
- `kernel`: 3, 5 or 7 (MixConv: the list 3..k; EESP: receptive field
  k + 2);
- `expand`: expansion ratio 3 or 6 (Ghost: hidden width = ratio x width);
- `se`: squeeze-excite ratio 0 or 0.25 (not on EESP);
- `repeats`: the base repeats + {-1, 0, +1} (at least 1);
- `width`: the base width x {0.75, 1.0, 1.25, 1.5, 1.75}, rounded to a multiple of 8
  (EESP: of 16, so its grouped reduce divides evenly).

And once for the network, `head`: `"conv"` (EfficientNet's 1x1 conv to
1280 channels, then pooling) or `"fc"` (GhostNet's and MobileNetV3's
efficient last stage: a narrower 1x1 conv, pooling, then a 1280-unit ReLU
dense layer; ../shared/reference/architectures.md, GhostNet). On the digits
proxy the fc head is worth about a point at 3 epochs (benchmarks/RESULTS.md).
"""

import dataclasses
from dataclasses import dataclass

from tfeff.profile.cost import estimate_cost
from tfeff.spec import decode_arch
from tfeff.spec.scaling import round_channels
from tfeff.spec.validate import validate_arch

KINDS = ("mbconv", "mixconv", "ghost", "eesp")
KERNELS = (3, 5, 7)
EXPAND_RATIOS = (3, 6)
SE_RATIOS = (0.0, 0.25)
REPEAT_DELTAS = (-1, 0, 1)
# Up to 1.75: GhostNet widened x1.74 is the strongest published layout at
# 0.4 G MACs on the proxy (benchmarks/RESULTS.md), so the space must reach
# widths like it.
WIDTH_MULTIPLIERS = (0.75, 1.0, 1.25, 1.5, 1.75)
HEADS = ("conv", "fc")


def is_categorical(name, options):
    """Choices without an order (block kinds, heads): one-hot, not ranked."""
    return name.endswith("_kind") or isinstance(options[0], str)


@dataclass(frozen=True)
class Stage:
    """One stage of the skeleton: stride, base width and base repeats."""

    strides: int
    filters: int
    repeats: int


@dataclass(frozen=True)
class Skeleton:
    """A base family's fixed layout; `fc_head` is its `head="fc"` form."""

    name: str
    stem: str
    stages: tuple
    head: str
    fc_head: str | None = None


# EfficientNet-B0's stages (tensorflow/tpu efficientnet_builder.py
# `_DEFAULT_BLOCKS_ARGS`; ../shared/reference/architectures.md §1). The
# first stage (stride 1, expansion 1) stays fixed: it is B0's, costs little,
# and keeps the stem's 32 channels from feeding an EESP that cannot widen.
EFFICIENTNET_SKELETON = Skeleton(
    name="efficientnet",
    stem="stem_k3_s2_c32 | mbconv_r1_k3_s1_e1_c16_se0.25",
    stages=(
        Stage(2, 24, 2),
        Stage(2, 40, 2),
        Stage(2, 80, 3),
        Stage(1, 112, 3),
        Stage(2, 192, 4),
        Stage(1, 320, 1),
    ),
    head="head_k1_c1280",
    # GhostNet: 1x1 conv to 960, pooling, 1280-unit ReLU dense
    # (huawei-noah ghostnet.py `conv_head`; MobileNetV3-Large has the same).
    fc_head="head_k1_c960 | fc_c1280_nre",
)

# A four-stage miniature for tests and quick trials: the same choices on
# 8..48 channels (total stride 32).
TEST_TINY_SKELETON = Skeleton(
    name="test_tiny",
    stem="stem_k3_s2_c8 | mbconv_r1_k3_s1_e1_c8",
    stages=(Stage(2, 16, 1), Stage(2, 24, 1), Stage(2, 32, 1), Stage(2, 48, 1)),
    head="head_k1_c64",
    fc_head="head_k1_c48 | fc_c64_nre",
)

SKELETONS = {
    "efficientnet": EFFICIENTNET_SKELETON,
    "test_tiny": TEST_TINY_SKELETON,
}


def _format_ratio(value):
    return f"{value:g}"


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One point of a search space: hyperparameter values → arch → cost.

    Attributes:
        values: dict. The hyperparameter values (keras-tuner's).
        arch: str. The arch string they decode into.
        cost: CostReport. At the space's resolution and class count.
        extras: dict. What the sampler's constraint added (measured
            latency, ...).
    """

    values: dict
    arch: str
    cost: object
    extras: dict = dataclasses.field(default_factory=dict)

    @property
    def params(self):
        return self.cost.params

    @property
    def macs(self):
        return self.cost.macs


class SearchSpace:
    """Block choices per stage of a skeleton.

    Args:
        kinds: block kinds allowed (subset of `KINDS`).
        skeleton: `Skeleton` or its name. Defaults to EfficientNet-B0's.
        resolution: int. Deployment resolution at which candidates are
            costed.
        num_classes: int. Classifier width included in the cost.

    Example:

    >>> import random
    >>> space = SearchSpace(kinds=("mbconv",), resolution=224, num_classes=10)
    >>> values = space.sample(random.Random(0))
    >>> space.arch(values).startswith("stem_k3_s2_c32")
    True
    """

    def __init__(
        self,
        kinds=KINDS,
        skeleton="efficientnet",
        resolution=224,
        num_classes=10,
    ):
        if isinstance(kinds, str):
            kinds = tuple(k for k in kinds.split(",") if k)
        kinds = tuple(kinds)
        unknown = [k for k in kinds if k not in KINDS]
        if not kinds or unknown:
            raise ValueError(
                f"`kinds` must be a non-empty subset of {KINDS}. "
                f"Received: kinds={kinds}"
            )
        if isinstance(skeleton, str):
            if skeleton not in SKELETONS:
                raise ValueError(
                    f"`skeleton` must be one of {sorted(SKELETONS)}. "
                    f"Received: skeleton={skeleton!r}"
                )
            skeleton = SKELETONS[skeleton]
        if not isinstance(resolution, int) or resolution < 32:
            raise ValueError(
                f"`resolution` must be an int >= 32. Received: resolution={resolution!r}"
            )
        self.kinds = kinds
        self.skeleton = skeleton
        self.resolution = resolution
        self.num_classes = num_classes
        # values -> Candidate (or the ValueError it raised): sampling,
        # the oracle, the tuner and the report all ask for the same ones.
        self._candidates = {}

    # --- choices -----------------------------------------------------------
    def choices(self):
        """{hyperparameter name: tuple of allowed values}, in a fixed order."""
        result = {}
        for index, stage in enumerate(self.skeleton.stages, start=1):
            prefix = f"stage{index}"
            result[f"{prefix}_kind"] = self.kinds
            result[f"{prefix}_kernel"] = KERNELS
            result[f"{prefix}_expand"] = EXPAND_RATIOS
            result[f"{prefix}_se"] = SE_RATIOS
            result[f"{prefix}_repeats"] = tuple(
                sorted({max(1, stage.repeats + d) for d in REPEAT_DELTAS})
            )
            result[f"{prefix}_width"] = WIDTH_MULTIPLIERS
        result["head"] = HEADS if self.skeleton.fc_head else HEADS[:1]
        return result

    def sample(self, rng):
        """A uniformly random candidate (not yet checked against a budget)."""
        return {
            name: rng.choice(values) for name, values in self.choices().items()
        }

    def mutate(self, values, rng, rate=0.2):
        """A copy of `values` with each choice redrawn with probability `rate`."""
        child = dict(values)
        for name, options in self.choices().items():
            if rng.random() < rate:
                child[name] = rng.choice(options)
        return child

    # --- decoding ----------------------------------------------------------
    @staticmethod
    def _stage_filters(stage, kind, multiplier):
        # EESP's grouped 1x1 reduce takes filters / 4 channels in 4 groups,
        # so its widths are multiples of 16 (ESPNetv2's `CBR(nIn, n, 1,
        # groups=k)` needs n % k == 0; ../shared/reference/architectures.md).
        divisor = 16 if kind == "eesp" else 8
        return round_channels(stage.filters, multiplier, divisor=divisor)

    def _stage_tokens(self, index, stage, values, in_channels):
        prefix = f"stage{index}"
        kind = values[f"{prefix}_kind"]
        kernel = int(values[f"{prefix}_kernel"])
        expand = values[f"{prefix}_expand"]
        se = values[f"{prefix}_se"]
        repeats = int(values[f"{prefix}_repeats"])
        filters = self._stage_filters(stage, kind, values[f"{prefix}_width"])
        se_token = f"_se{_format_ratio(se)}" if se else ""
        s = stage.strides
        if kind == "mbconv":
            return [
                f"mbconv_r{repeats}_k{kernel}_s{s}_e{expand}_c{filters}{se_token}"
            ], filters
        if kind == "mixconv":
            kernels = ".".join(str(k) for k in range(3, kernel + 1, 2))
            return [
                f"mbconv_r{repeats}_k{kernels}_s{s}_e{expand}_c{filters}{se_token}"
            ], filters
        if kind == "ghost":
            hidden = round_channels(filters * expand, 1.0)
            return [
                f"ghost_r{repeats}_k{kernel}_s{s}_m{hidden}_c{filters}{se_token}"
            ], filters
        # EESP: 4 branches, receptive field kernel + 2 (5, 7, 9).
        rf = kernel + 2
        if s == 2:
            # The strided EESP's grouped reduce splits (filters - in) / b
            # channels into b groups; with an input width that is 8 mod 16,
            # only 2 branches divide it.
            branches = 4 if (filters - in_channels) % 16 == 0 else 2
            tokens = [f"eespdown_c{filters}_b{branches}_rf{rf}_noreinf"]
            if repeats > 1:
                tokens.append(f"eesp_r{repeats - 1}_c{filters}_b4_rf{rf}")
            return tokens, filters
        if filters != in_channels:
            # A stride-1 EESP keeps its width; widen with a 1x1 first.
            return [
                f"convbnact_k1_c{filters}",
                f"eesp_r{repeats}_c{filters}_b4_rf{rf}",
            ], filters
        return [f"eesp_r{repeats}_c{filters}_b4_rf{rf}"], filters

    def arch(self, values):
        """The arch string of a candidate."""
        missing = [name for name in self.choices() if name not in values]
        if missing:
            raise ValueError(f"Candidate lacks values for {missing}")
        tokens = [self.skeleton.stem]
        channels = int(self.skeleton.stem.split("_c")[-1].split("_")[0])
        for index, stage in enumerate(self.skeleton.stages, start=1):
            stage_tokens, channels = self._stage_tokens(
                index, stage, values, channels
            )
            tokens.extend(stage_tokens)
        tokens.append(
            self.skeleton.fc_head
            if values["head"] == "fc"
            else self.skeleton.head
        )
        return " | ".join(tokens)

    def candidate(self, values):
        """The `Candidate` of `values`: its arch and cost, computed once.

        Raises:
            ValueError: the values do not make a valid architecture.
        """
        key = tuple(sorted(values.items()))
        found = self._candidates.get(key)
        if found is None:
            try:
                arch = self.arch(values)
                spec = validate_arch(decode_arch(arch))
                found = Candidate(
                    values=dict(values),
                    arch=arch,
                    cost=estimate_cost(
                        spec, self.resolution, num_classes=self.num_classes
                    ),
                )
            except ValueError as error:
                found = error
            self._candidates[key] = found
        if isinstance(found, ValueError):
            raise found
        return found

    def cost(self, values):
        """`CostReport` of a candidate at the deployment resolution.

        Raises:
            ValueError: the candidate is not a valid architecture.
        """
        return self.candidate(values).cost

    def describe(self, values):
        """Rows (stage, kind, kernel, expand, se, repeats, filters, stride)."""
        rows = []
        for index, stage in enumerate(self.skeleton.stages, start=1):
            prefix = f"stage{index}"
            rows.append(
                {
                    "stage": index,
                    "kind": values[f"{prefix}_kind"],
                    "kernel": values[f"{prefix}_kernel"],
                    "expand": values[f"{prefix}_expand"],
                    "se": values[f"{prefix}_se"],
                    "repeats": values[f"{prefix}_repeats"],
                    "filters": self._stage_filters(
                        stage,
                        values[f"{prefix}_kind"],
                        values[f"{prefix}_width"],
                    ),
                    "strides": stage.strides,
                }
            )
        return rows


def baseline_values(space, kind):
    """The skeleton's own choices with every stage of one kind (B0 = mbconv)."""
    values = {}
    # B0's per-stage kernels and expansion (6), SE 0.25, base repeats/width.
    kernels = (3, 5, 3, 5, 5, 3)
    for index, (stage, kernel) in enumerate(
        zip(space.skeleton.stages, kernels), start=1
    ):
        prefix = f"stage{index}"
        values[f"{prefix}_kind"] = kind
        values[f"{prefix}_kernel"] = kernel if kind != "mixconv" else 5
        values[f"{prefix}_expand"] = 6 if kind != "ghost" else 3
        values[f"{prefix}_se"] = 0.25 if kind != "eesp" else 0.0
        values[f"{prefix}_repeats"] = stage.repeats
        values[f"{prefix}_width"] = 1.0
    # GhostNet's own last stage is the fc head; B0's and MixNet's the conv.
    values["head"] = (
        "fc" if kind == "ghost" and space.skeleton.fc_head else "conv"
    )
    return values


BASELINE_LABELS = {
    "mbconv": "EfficientNet-B0 style (MBConv+SE)",
    "mixconv": "MixNet style (MixConv+SE)",
    "ghost": "GhostNet style (Ghost+SE)",
    "eesp": "ESPNetv2 style (EESP)",
}


def scaled_baselines(
    space, budget_macs=None, kinds=("mbconv", "mixconv", "ghost"), fits=None
):
    """Single-kind baselines of the space, scaled to fit a budget.

    Each baseline is `baseline_values(space, kind)` with one width
    multiplier, one repeats offset and (Ghost) one expansion for every
    stage; of those within `budget_macs` the most expensive is kept (the
    baseline "scaled to the same budget"), preferring the unscaled one on a
    tie. A kind with nothing under the budget is left out.

    `fits`, optional `values -> bool`, is a further budget (latency): the
    scalings are then tried from the most expensive down and the first
    that fits is kept, so `fits` is asked as few times as possible.

    Returns:
        list of (label, values), in `kinds` order, for kinds in the space.
    """
    result = []
    for kind in kinds:
        if kind not in space.kinds:
            continue
        base = baseline_values(space, kind)
        scalings = []
        for width in WIDTH_MULTIPLIERS:
            for delta in REPEAT_DELTAS:
                for expand in EXPAND_RATIOS if kind == "ghost" else (None,):
                    values = dict(base)
                    for index, stage in enumerate(space.skeleton.stages, 1):
                        values[f"stage{index}_width"] = width
                        values[f"stage{index}_repeats"] = max(
                            1, stage.repeats + delta
                        )
                        if expand is not None:
                            values[f"stage{index}_expand"] = expand
                    try:
                        macs = space.cost(values).macs
                    except ValueError:
                        continue
                    if budget_macs is not None and macs > budget_macs:
                        continue
                    unscaled = width == 1.0 and delta == 0
                    scalings.append(((macs, unscaled), values))
        scalings.sort(key=lambda item: item[0], reverse=True)
        for _, values in scalings:
            if fits is None or fits(values):
                result.append((BASELINE_LABELS[kind], values))
                break
    return result


__all__ = [
    "EFFICIENTNET_SKELETON",
    "KINDS",
    "SearchSpace",
    "Skeleton",
    "Stage",
    "baseline_values",
    "is_categorical",
    "scaled_baselines",
]
