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
