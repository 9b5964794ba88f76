"""The README's variant table is generated, and kept in sync by this test."""

import pathlib

import pytest

from benchmarks.readme_table import END
from benchmarks.readme_table import START
from benchmarks.readme_table import latency_for_readme
from benchmarks.readme_table import measured_latency
from benchmarks.readme_table import replace_section
from benchmarks.readme_table import variants_markdown

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_readme_table_is_the_generated_one():
    text = README.read_text()
    table = variants_markdown(latency_for_readme(README))
    assert replace_section(text, table) == text, (
        "README's variant table is stale: run `python benchmarks/readme_table.py README.md`"
    )


def test_table_lists_every_published_variant():
    import tfeff

    table = variants_markdown()
    for name in tfeff.applications.list_models():
        assert f"| {name} |" in table
    assert "MACs (multiply-adds)" in table


def test_latency_comes_from_the_recorded_benchmark():
    latency = latency_for_readme(README)
    # Every variant the benchmark table lists (benchmarks/RESULTS.md).
    import tfeff

    assert set(latency) == set(tfeff.applications.list_models())
    assert all(value > 0 for value in latency.values())
    text = """## x
### Per variant (2 measured)

| variant | input | TFLite fp32 ms |
|---|---|---|
| a | 224 | 1.50 |
| b | 224 | 12.25 |

| other | table |
"""
    assert measured_latency(text) == {"a": 1.5, "b": 12.25}
    table = variants_markdown({"efficientnet_b0": 7.681})
    assert "| 77.1 | 7.68 |" in table  # top-1, then the latency
    with pytest.raises(ValueError, match="Per variant"):
        measured_latency("no table")
    with pytest.raises(ValueError, match="TFLite fp32 ms"):
        measured_latency("### Per variant\n| a | b |\n|---|---|\n")


def test_replace_section_needs_markers():
    import pytest

    with pytest.raises(ValueError, match="markers"):
        replace_section("no markers here", "x")
    assert (
        replace_section(f"a{START}old{END}b", "new") == f"a{START}\nnew\n{END}b"
    )
