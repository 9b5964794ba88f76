"""Block kinds (issue 21): each kind owns its notation, rules, width and cost.

Per kind: the notation round trip, no problems on the blocks the registered
families use, and `kind.cost` equal to the built block's parameters and
`count_macs`. Then a toy kind registered in the test goes through decode,
encode, validate, describe, cost and build with no edit anywhere else.
"""

import dataclasses

import keras
import pytest

import tfeff
from tests.harness import trainable_count
from tfeff.blocks import registry as block_registry
from tfeff.blocks.conv import numerics_scope
from tfeff.models.builder import emit_block
from tfeff.profile import count_macs
from tfeff.profile.cost import block_cost
from tfeff.spec import kinds
from tfeff.spec.kinds import base as kinds_base
from tfeff.spec.notation import decode_arch
from tfeff.spec.notation import encode_arch
from tfeff.spec.notation import encode_block
from tfeff.spec.structure import expand_blocks
from tfeff.spec.validate import block_problems


def _family_blocks():
    """One block instance per kind, as the registered families use it."""
    found = {}
    for name in tfeff.applications.list_models():
        spec = tfeff.models.get_variant(name).resolved_arch()
        for instance in expand_blocks(spec):
            found.setdefault(kinds.kind_of(instance.spec).name, instance)
    return found


FAMILY_BLOCKS = _family_blocks()


def test_every_builtin_kind_is_used_by_a_family_and_has_a_builder():
    names = {kind.name for kind in kinds.registered_kinds()}
    # `fc` is the classification top, costed and built there.
    assert names - {"fc"} == set(FAMILY_BLOCKS)
    assert names - {"fc"} <= set(block_registry.registered_kinds())


@pytest.mark.parametrize("kind_name", sorted(FAMILY_BLOCKS))
def test_notation_round_trip_and_rules(kind_name):
    instance = FAMILY_BLOCKS[kind_name]
    kind = kinds.kind_named(kind_name)
    token = encode_block(
        instance.spec, None if kind_name != "convbnact" else "convbnact"
    )
    assert token.split("_")[0] == kind_name
    arch = decode_arch(f"stem_k3_s2_c{instance.in_channels} | {token}")
    assert arch.blocks == (instance.spec,)
    assert list(block_problems(instance.spec, instance.in_channels)) == []
    # Every key of the kind is one the codec reads, and every field has one.
    fields = {f.name for f in dataclasses.fields(kind.spec)}
    assert {key.field for key in kind.keys} == fields


@pytest.mark.parametrize("kind_name", sorted(FAMILY_BLOCKS))
def test_cost_equals_the_built_block(kind_name):
    instance = FAMILY_BLOCKS[kind_name]
    size = 16
    # ESPNet's kinds pool the network's input image to their own stride.
    image_size = size * instance.stride // instance.spec.strides
    inputs = keras.Input((size, size, instance.in_channels))
    image = keras.Input((image_size, image_size, 3))
    with numerics_scope(tfeff.spec.TF_NUMERICS):
        outputs = emit_block(
            inputs, instance, name="stage1_block1", image=image
        )
    model = keras.Model([inputs, image], outputs)
    counter, out = block_cost(instance.spec, instance.in_channels, (size, size))
    assert trainable_count(model) == counter.params
    assert count_macs(model) == counter.macs
    assert tuple(model.output_shape[1:3]) == out
    assert model.output_shape[-1] == kinds.kind_of(instance.spec).width(
        instance.spec, instance.in_channels
    )


def test_rules_name_the_block_and_the_rule():
    with pytest.raises(
        ValueError, match=r"stage1_block1 \(MBConvSpec\).*se_ratio"
    ):
        tfeff.spec.validate_arch("stem_k3_s2_c16 | mbconv_r1_k3_s1_e6_c16_se2")
    problems = list(
        block_problems(kinds.ShuffleUnitSpec(filters=15, strides=1), 16)
    )
    assert problems == [
        "filters must be even, got 15",
        "a stride-1 shuffle unit keeps its width: filters=15, input 16",
    ]


def test_a_kind_cannot_be_registered_twice():
    with pytest.raises(KeyError, match="mbconv"):
        kinds.register_kind(dataclasses.replace(kinds.kind_named("mbconv")))
    with pytest.raises(KeyError, match="stem"):
        kinds.register_kind(
            dataclasses.replace(kinds.kind_named("maxpool"), name="stem")
        )
    with pytest.raises(ValueError, match="Key 'x' of kind 'bad'"):
        kinds.Kind(
            name="bad",
            spec=kinds.MaxPoolSpec,
            keys=(kinds.Key("x", "nope", "int"),),
            title="bad",
            problems=lambda spec, channels: (),
            cost=None,
        )


# --- a toy kind, registered in the test only ---------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class _ToySpec:
    """A pointwise conv + batch norm + activation, with a width factor."""

    filters: int
    repeats: int = 1
    widen: int = 1
    activation: str = "relu"


def _toy_problems(spec, in_channels):
    if spec.widen < 1:
        yield f"widen must be >= 1, got {spec.widen}"


def _toy_cost(counter, spec, in_channels, hw, image_channels):
    counter.conv(in_channels, spec.filters * spec.widen, 1, hw)
    counter.bn(spec.filters * spec.widen)
    return hw


def _toy_builder(x, spec, context):
    name = context.name
    x = keras.layers.Conv2D(
        spec.filters * spec.widen, 1, use_bias=False, name=f"{name}_conv"
    )(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.Activation(spec.activation, name=f"{name}_act")(x)


@pytest.fixture
def toy_kind(monkeypatch):
    # The registries are plain dicts: the test's kind leaves with the test.
    monkeypatch.setattr(kinds_base, "_KINDS", dict(kinds_base._KINDS))
    monkeypatch.setattr(kinds_base, "_BY_SPEC", dict(kinds_base._BY_SPEC))
    monkeypatch.setattr(
        block_registry, "_BUILDERS", dict(block_registry._BUILDERS)
    )
    kind = kinds.register_kind(
        kinds.Kind(
            name="toy",
            spec=_ToySpec,
            keys=(
                kinds.Key("r", "repeats", "int"),
                kinds.Key("c", "filters", "int"),
                kinds.Key("w", "widen", "int", "widening", shown=True),
                kinds.Key("n", "activation", "activation"),
            ),
            title="toy block",
            problems=_toy_problems,
            cost=_toy_cost,
            output_channels=lambda spec, cin, image: spec.filters * spec.widen,
        )
    )
    block_registry.register_block("toy")(_toy_builder)
    return kind


def test_a_new_kind_needs_only_its_kind_and_its_builder(toy_kind):
    arch = "stem_k3_s2_c8 | toy_r2_c8_w2_nre | head_k1_c32"
    spec = tfeff.spec.validate_arch(arch)
    assert spec.blocks == (_ToySpec(filters=8, repeats=2, widen=2),)
    # Canonical: strides always written, the default activation left out.
    assert encode_arch(spec) == "stem_k3_s2_c8 | toy_r2_c8_w2 | head_k1_s1_c32"
    rows = tfeff.spec.describe_rows(spec)
    assert rows[1]["block"] == "toy block"
    assert rows[1]["details"] == "widening 2"
    with pytest.raises(ValueError, match=r"stage1_block1 \(_ToySpec\): widen"):
        tfeff.spec.validate_arch("stem_k3_s2_c8 | toy_c8_w0")
    report = tfeff.estimate_cost(spec, 32, num_classes=5)
    model = tfeff.models.build_image_classifier(
        spec, input_shape=(32, 32, 3), num_classes=5
    )
    assert trainable_count(model) == report.params
    assert count_macs(model) == report.macs
    assert [r.kind for r in report.rows[:3]] == ["convbnact", "toy", "toy"]
