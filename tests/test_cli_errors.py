"""Every command line: a library error is one line on stderr and exit
status 2, `--traceback` shows the rest, and an unusable `--out` is refused
before any model is loaded or built (issue 20, items 5-6). Before, an
unwritable `--out` for search, export or make_toy failed after the models
were loaded, with a traceback."""

import pytest

from tfeff._cli import check_output_folder
from tfeff._cli import one_line
from tfeff.data import make_toy
from tfeff.export import cli as export_cli
from tfeff.nas import cli as search_cli
from tfeff.profile import cli as profile_cli


def _fails_in_one_line(main, argv, capsys, message):
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert err.count("\n") == 1 and ": error: " in err, err
    return err


def _a_file(tmp_path):
    path = tmp_path / "a_file"
    path.write_text("x")
    return path


def test_search_refuses_an_unwritable_out_before_any_work(tmp_path, capsys):
    bad = _a_file(tmp_path) / "run"
    err = _fails_in_one_line(
        search_cli.main, ["--budget", "0.4G", "--out", str(bad)], capsys,
        "--out " + repr(str(bad)) + " is not a writable folder",
    )  # fmt: skip
    assert err.startswith("tfeff-search: error: ")


def test_export_refuses_an_unwritable_out_before_loading(tmp_path, capsys):
    model = tmp_path / "m.keras"
    model.write_bytes(b"never read: --out is checked first")
    _fails_in_one_line(
        export_cli.main,
        [str(model), "--out", str(_a_file(tmp_path))],
        capsys,
        "--out must be a folder, but",
    )


def test_export_of_an_unreadable_model_is_one_line(tmp_path, capsys):
    model = tmp_path / "m.keras"
    model.write_bytes(b"not a zip")
    err = _fails_in_one_line(
        export_cli.main, [str(model), "--out", str(tmp_path)], capsys, "m.keras"
    )
    assert "Traceback" not in err
    with pytest.raises(Exception):
        export_cli.main([str(model), "--out", str(tmp_path), "--traceback"])


def test_make_toy_refuses_an_unwritable_out(tmp_path, capsys):
    bad = _a_file(tmp_path) / "toy"
    _fails_in_one_line(
        make_toy.main, ["--format", "imagenet", "--out", str(bad)], capsys,
        "is not a writable folder",
    )  # fmt: skip


def test_profile_errors_are_one_line_and_traceback_shows_them(capsys):
    _fails_in_one_line(
        profile_cli.main, ["stem_k3_s0_c8"], capsys, "stem_k3_s0_c8"
    )
    with pytest.raises(ValueError):
        profile_cli.main(["stem_k3_s0_c8", "--traceback"])


def test_check_output_folder_creates_nothing(tmp_path):
    target = tmp_path / "a" / "b"
    assert check_output_folder(str(target)) == str(target)
    assert not (tmp_path / "a").exists()
    assert list(tmp_path.iterdir()) == []  # the probe file is gone


def test_one_line_takes_the_first_line_of_a_long_message():
    assert one_line(ValueError("first\nsecond")) == "first"
    assert one_line(KeyError("k")) == "KeyError: 'k'"
    assert one_line(OSError(2, "No such file", "/x")) == (
        "[Errno 2] No such file: '/x'"
    )
