"""Variant registry: names → architecture specs (not models).

Pure Python: registering and resolving a variant needs no TensorFlow.
"""

import dataclasses
import fnmatch

from tfeff.spec.notation import as_arch_spec
from tfeff.spec.notation import encode_arch
from tfeff.spec.notation import is_arch_string
from tfeff.spec.scaling import CompoundScaling
from tfeff.spec.scaling import scale_arch

_VARIANTS = {}


@dataclasses.dataclass(frozen=True)
class Published:
    """Figures published for a variant, with where they were read.

    Attributes:
        params: float or None. Parameters as published (e.g. 5.3e6).
        macs: float or None. Multiply-adds ("FLOPs") as published.
        top1: float or None. ImageNet top-1 accuracy, %.
        source: str. Paper, README or reference file.
    """

    params: float = None
    macs: float = None
    top1: float = None
    source: str = ""


@dataclasses.dataclass(frozen=True)
class Variant:
    """A registered model variant.

    Attributes:
        name: str. `family_size`, e.g. `"efficientnet_b0"`.
        family: str.
        arch: str. The base (unscaled) arch string.
        scaling: CompoundScaling.
        dropout_rate: float. Head dropout.
        drop_path_rate: float. Stochastic depth used in training.
        num_classes: int.
        mean, std: per-channel statistics of [0, 1] pixels.
        paper: str. Where the architecture is published.
        published: Published. The published figures, for comparison.
    """

    name: str
    family: str
    arch: str
    scaling: CompoundScaling
    dropout_rate: float = 0.0
    drop_path_rate: float = 0.0
    num_classes: int = 1000
    mean: tuple = (0.485, 0.456, 0.406)
    std: tuple = (0.229, 0.224, 0.225)
    paper: str = ""
    published: Published = Published()

    @property
    def base_arch(self):
        """The unscaled ArchSpec."""
        return as_arch_spec(self.arch)

    @property
    def resolution(self):
        return self.scaling.resolution

    def resolved_arch(self, channel_multiplier=None, repeat_multiplier=None):
        """The scaled ArchSpec, optionally with other multipliers."""
        scaling = self.scaling
        changes = {}
        if channel_multiplier is not None:
            changes["channel_multiplier"] = channel_multiplier
        if repeat_multiplier is not None:
            changes["repeat_multiplier"] = repeat_multiplier
        if changes:
            scaling = dataclasses.replace(scaling, **changes)
        return scale_arch(self.base_arch, scaling)


def register_variant(name, *, family, arch, scaling, **fields):
    """Registers a variant; a duplicate name raises `KeyError`.

    Example:

    >>> tfeff.models.register_variant(
    ...     "doc_tiny", family="doc", arch="stem_k3_s2_c8 | mbconv_r1_k3_s1_e1_c8",
    ...     scaling=tfeff.CompoundScaling(1.0, 1.0, 32))
    Variant(name='doc_tiny', ...)
    """
    if name in _VARIANTS:
        raise KeyError(f"Variant {name!r} is already registered.")
    if not isinstance(scaling, CompoundScaling):
        raise TypeError(
            f"`scaling` must be a CompoundScaling. Received: scaling={scaling!r}"
        )
    arch = encode_arch(as_arch_spec(arch))  # Fails early on a bad string.
    variant = Variant(
        name=name, family=family, arch=arch, scaling=scaling, **fields
    )
    _VARIANTS[name] = variant
    return variant


def get_variant(name):
    """Returns the registered `Variant` called `name` (or `name` itself if it
    is already a `Variant`)."""
    if isinstance(name, Variant):
        return name
    _load_families()
    try:
        return _VARIANTS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown variant {name!r}. Known variants: {list_variants()}"
        ) from None


def as_variant(arch):
    """The `Variant` that `arch` names, or None when `arch` is not a variant.

    The one place that tells a variant name from an arch string (which
    opens with its stem or numerics token and joins tokens with `|`).

    Raises:
        ValueError: `arch` is a string that is neither (an unknown name).
    """
    if isinstance(arch, Variant):
        return arch
    if isinstance(arch, str) and not is_arch_string(arch):
        return get_variant(arch)
    return None


def list_variants(pattern="*"):
    """Names of registered variants matching a glob, sorted.

    Example:

    >>> tfeff.list_variants("efficientnet_lite*")
    ['efficientnet_lite0', 'efficientnet_lite1', 'efficientnet_lite2', 'efficientnet_lite3', 'efficientnet_lite4']
    """
    _load_families()
    return sorted(n for n in _VARIANTS if fnmatch.fnmatchcase(n, pattern))


def _load_families():
    # Family modules register their variants on import.
    import tfeff.models.families  # noqa: F401
