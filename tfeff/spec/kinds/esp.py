"""`imgcat` and `espstage`: ESPNet's input-image concatenation and a whole
ESPNet level (down-sampler, ESP modules, concatenation)."""

import dataclasses

from tfeff.spec.kinds.base import Key
from tfeff.spec.kinds.base import Kind
from tfeff.spec.kinds.base import register_kind
from tfeff.spec.kinds.base import same_size

# Dilations of the ESP module's branches (d1 is the wider, n1-channel one).
ESP_DILATIONS = (1, 2, 4, 8, 16)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ImageConcatSpec:
    """Concatenates the input image, average-pooled to this resolution, then
    batch norm + activation (ESPNet's `InputProjectionA` + `BR`).

    Args:
        activation: str. Defaults to `"prelu"`.
    """

    activation: str = "prelu"

    @property
    def strides(self):
        return 1


@dataclasses.dataclass(frozen=True, kw_only=True)
class ESPStageSpec:
    """An ESPNet level: strided ESP down-sampler, `repeats` ESP modules, then
    concatenation of the down-sampler and ESP outputs (and, with `image`, the
    pooled image) and batch norm + activation. Output width is
    `2 * filters` (+ image channels).

    Args:
        filters: int. Width of the ESP modules.
        repeats: int. ESP modules after the down-sampler (ESPNet's p, q).
        image: bool. Also concatenate the pooled input image.
        activation: str. Defaults to `"prelu"`.
    """

    filters: int
    repeats: int = 1
    image: bool = False
    activation: str = "prelu"

    @property
    def strides(self):
        return 2


def esp_branch_filters(filters):
    """ESP module widths: 4 branches of `n = filters // 5` and one of the rest.

    (sacmehta/ESPNet train/Model.py `n = int(nOut/5); n1 = nOut - 4*n`.)
    """
    n = filters // 5
    return filters - 4 * n, n


def _image_concat_width(spec, in_channels, image_channels):
    return in_channels + image_channels


def _image_concat_cost(counter, spec, in_channels, hw, image_channels):
    counter.bn(in_channels + image_channels)
    counter.act(in_channels + image_channels, spec.activation)
    return hw


def _stage_width(spec, in_channels, image_channels):
    return 2 * spec.filters + (image_channels if spec.image else 0)


def _stage_problems(spec, in_channels):
    if spec.filters is not None and spec.filters < 5:
        yield f"an ESP module needs filters >= 5, got {spec.filters}"


def _module_cost(counter, in_channels, filters, hw, strides, activation):
    wide, narrow = esp_branch_filters(filters)
    out = same_size(hw, strides)
    counter.conv(in_channels, narrow, 1 if strides == 1 else 3, out)
    counter.conv(narrow, wide, 3, out)
    for _ in ESP_DILATIONS[1:]:
        counter.conv(narrow, narrow, 3, out)
    counter.bn(filters)
    counter.act(filters, activation)
    return out


def _stage_cost(counter, spec, in_channels, hw, image_channels):
    out = _module_cost(
        counter, in_channels, spec.filters, hw, 2, spec.activation
    )
    for _ in range(spec.repeats):
        _module_cost(
            counter, spec.filters, spec.filters, out, 1, spec.activation
        )
    width = _stage_width(spec, in_channels, image_channels)
    counter.bn(width)
    counter.act(width, spec.activation)
    return out


IMAGE_CONCAT = register_kind(
    Kind(
        name="imgcat",
        spec=ImageConcatSpec,
        keys=(Key("n", "activation", "activation"),),
        title="image concat",
        problems=lambda spec, in_channels: (),
        cost=_image_concat_cost,
        output_channels=_image_concat_width,
    )
)
ESP_STAGE = register_kind(
    Kind(
        name="espstage",
        spec=ESPStageSpec,
        keys=(
            Key("r", "repeats", "int"),
            Key("c", "filters", "int"),
            Key("img", "image", "flag"),
            Key("n", "activation", "activation"),
        ),
        title="ESP stage",
        problems=_stage_problems,
        cost=_stage_cost,
        output_channels=_stage_width,
        composite=True,
    )
)
