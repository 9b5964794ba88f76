"""The per-block latency table: lazily measured, cached per host, checked
against whole-model measurements."""

import json
import os
import random

import pytest

pytest.importorskip("ai_edge_litert")

from tfeff.nas import SearchSpace  # noqa: E402
from tfeff.nas.latency import LatencyTable  # noqa: E402


def test_table_measures_once_caches_and_reports_its_error(tmp_path):
    space = SearchSpace(skeleton="test_tiny", resolution=64)
    arch = space.arch(space.sample(random.Random(1)))
    table = LatencyTable(64, 10, mode="int8", directory=str(tmp_path), runs=5)
    blocks = table.block_latencies(arch)
    # One entry per block instance, plus pooling + classifier.
    from tfeff.spec.structure import expand_blocks

    assert len(blocks) == len(expand_blocks(arch)) + 1
    assert all(ms > 0 for _, ms in blocks)
    predicted = table.predict(arch)
    assert predicted == pytest.approx(sum(ms for _, ms in blocks))
    table.save()
    with open(table.path) as file:
        saved = json.load(file)
    assert saved["settings"]["mode"] == "int8"
    assert saved["settings"]["cpu_count"] == os.cpu_count()

    # A second table on this host reads the cache and measures nothing.
    cached = LatencyTable(64, 10, mode="int8", directory=str(tmp_path), runs=5)

    def fail(*args):
        raise AssertionError("a cached block was measured again")

    cached._measure = fail
    assert cached.predict(arch) == pytest.approx(predicted)
    # Other settings, another file.
    other = LatencyTable(64, 10, mode="float32", directory=str(tmp_path))
    assert other.path != table.path and not other.entries

    check = table.check(arch)
    assert check["measured_ms"] > 0
    assert check["error_pct"] == pytest.approx(
        100
        * (check["predicted_ms"] - check["measured_ms"])
        / check["measured_ms"]
    )


def test_bad_mode_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        LatencyTable(64, 10, mode="int4", directory=str(tmp_path))


def test_each_distinct_block_is_measured_once(tmp_path):
    # Blocks 2 and 3 of a stage of three are the same block at the same
    # size: one measurement serves both (issue 19 counted 206 repeats).
    arch = "stem_k3_s2_c8 | mbconv_r3_k3_s1_e3_c8 | head_k1_c16"
    table = LatencyTable(32, 10, mode="float32", directory=str(tmp_path))
    measured = []

    def measure(spec, instance, size, channels):
        measured.append(None if instance is None else instance.name)
        return 1.0

    table._measure = measure
    blocks = table.block_latencies(arch)
    assert len(blocks) == 6  # stem, 3 blocks, head, classifier.
    # stage1_block1 differs from blocks 2 and 3 only by name: one key.
    assert len(measured) == len({key for key, _ in blocks}) < len(blocks)


def test_candidates_far_over_the_budget_are_refused_unmeasured(tmp_path):
    # From a cold cache, measuring the blocks of candidates that were then
    # refused took most of a latency search (issue 19). The table estimates
    # missing blocks from the ms per MAC of measured blocks of their kind
    # and measures only candidates that might fit.
    from tfeff.profile.cost import estimate_cost

    small = "stem_k3_s2_c8 | mbconv_r1_k3_s1_e3_c8 | head_k1_c16"
    large = "stem_k3_s2_c8 | mbconv_r1_k3_s1_e6_c64 | head_k1_c16"
    table = LatencyTable(32, 10, mode="float32", directory=str(tmp_path))
    measured = []

    def measure(spec, instance, size, channels):
        # A stand-in host: 1 ms per million MACs.
        measured.append(None if instance is None else instance.name)
        rows = estimate_cost(spec, 32, num_classes=10).rows
        if instance is None:
            return sum(r.macs for r in rows if r.kind == "dense") / 1e6
        row = next(r for r in rows if r.name == instance.name)
        return row.macs / 1e6

    table._measure = measure
    assert table.estimate(small) == (None, False)  # Nothing measured yet.
    small_ms = table.predict(small)
    assert table.estimate(small) == (pytest.approx(small_ms), True)
    count = len(measured)

    large_ms = estimate_cost(large, 32, num_classes=10).macs / 1e6
    estimate, exact = table.estimate(large)
    assert not exact
    assert estimate == pytest.approx(large_ms, rel=1e-6)  # Same ms per MAC.
    # Far over: refused on the estimate, nothing measured.
    latency, why = table.fits(large, budget_ms=large_ms / 2)
    assert why == "over the latency budget (estimated)"
    assert len(measured) == count
    # Within the screening margin: measured, then judged on the table.
    latency, why = table.fits(large, budget_ms=large_ms / 1.1)
    assert why == "over the latency budget"
    assert len(measured) > count and latency == pytest.approx(large_ms)
    assert table.fits(large, budget_ms=large_ms * 1.01) == (
        pytest.approx(large_ms),
        None,
    )
