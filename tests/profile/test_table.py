"""The README's variant table is generated, and kept in sync by this test."""

import pathlib

from tfeff.profile.table import END
from tfeff.profile.table import START
from tfeff.profile.table import replace_section
from tfeff.profile.table import variants_markdown

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_readme_table_is_the_generated_one():
    text = README.read_text()
    assert replace_section(text, variants_markdown()) == text, (
        "README's variant table is stale: run `python -m tfeff.profile.table README.md`"
    )


def test_table_lists_every_published_variant():
    import tfeff

    table = variants_markdown()
    for name in tfeff.applications.list_models():
        assert f"| {name} |" in table
    assert "MACs (multiply-adds)" in table


def test_replace_section_needs_markers():
    import pytest

    with pytest.raises(ValueError, match="markers"):
        replace_section("no markers here", "x")
    assert (
        replace_section(f"a{START}old{END}b", "new") == f"a{START}\nnew\n{END}b"
    )
