"""The search command end to end on the tiny skeleton: report files, resume
after SIGKILL, chief and workers on loopback, argument errors."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

pytest.importorskip("keras_tuner")
pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")
pytest.importorskip("ai_edge_litert")

from tfeff.nas.cli import main  # noqa: E402

ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
RUN = os.path.join(ROOT, "search", "run.py")
# A budget most of the tiny space fits, but not all of it (its candidates
# cost 7..74 M MACs at 224x224, median 32 M).
TINY = [
    "--skeleton", "test_tiny", "--budget", "40M", "--epochs-per-trial", "1",
    "--retrain-top", "1", "--retrain-epochs", "1", "--qat-epochs", "1",
    "--seed", "3",
]  # fmt: skip


def read_jsonl(path):
    with open(path) as file:
        return [json.loads(line) for line in file]


def env(**extra):
    # The user's settings: no TF_CPP_MIN_LOG_LEVEL, so that the console's
    # quiet is what tfeff does, not what the test asks for.
    result = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TF_CPP_MIN_LOG_LEVEL", "TFEFF_VERBOSE")
    }
    result.update(PYTHONUNBUFFERED="1", **extra)
    return result


# What TensorFlow, absl and LiteRT printed into every run before (issue 19).
NATIVE_NOISE = re.compile(
    r"^[IWE]0000 |WARNING:absl|fully_quantize:|NodeDef mentions|"
    r"XNNPACK delegate|cuInit|oneDNN",
    re.MULTILINE,
)


def run_to_the_end(args):
    """Runs the search command; it must exit 0. Returns the completed run."""
    result = subprocess.run(
        args, env=env(), capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def check_report(out, trials):
    rows = read_jsonl(os.path.join(out, "trials.jsonl"))
    assert len(rows) == trials
    assert len({row["trial_id"] for row in rows}) == trials
    assert all(row["status"] == "COMPLETED" for row in rows)
    assert all(row["macs"] <= 40_000_000 for row in rows)
    assert all(0.0 <= row["val_accuracy"] <= 1.0 for row in rows)
    with open(os.path.join(out, "summary.json")) as file:
        summary = json.load(file)
    assert summary["macs_unit"] == "MACs (multiply-adds)"
    assert summary["budget"]["macs"] == 40_000_000
    winner = summary["winner"]
    with open(os.path.join(out, "winner_arch.txt")) as file:
        assert file.read().strip() == winner["arch"]
    assert winner["macs"] <= 40_000_000
    assert 0.0 <= winner["int8_val_accuracy"] <= 1.0
    assert winner["int8_latency_ms"] > 0
    with open(os.path.join(out, "pareto.png"), "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"
    for name in (
        "winner.keras",
        "model_int8.tflite",
        "edgetpu/edgetpu_report.txt",
    ):
        assert os.path.getsize(os.path.join(out, name)) > 0
    # One float copy of the winner, without optimizer state: a default run
    # held 343 MB, two copies of winner.keras with momentum buffers.
    assert not os.path.exists(os.path.join(out, "retrain"))
    import zipfile

    with zipfile.ZipFile(os.path.join(out, "winner.keras")) as archive:
        config = json.loads(archive.read("config.json"))
    assert not config.get("compile_config")
    leftovers = [
        os.path.join(folder, name)
        for folder, _, names in os.walk(out)
        for name in names
        if name.endswith(".partial") or ".partial." in name
    ]
    assert not leftovers
    # The winner is one of the retrained trials, the model files agree.
    import keras

    from tfeff.export.tflite import TFLiteRunner

    model = keras.saving.load_model(os.path.join(out, "winner.keras"))
    assert model.input_shape == (None, 32, 32, 3)
    runner = TFLiteRunner(os.path.join(out, "model_int8.tflite"))
    assert runner.input["dtype"].__name__ == "int8"
    assert summary["trials"]["completed"] == trials
    assert summary["winner"]["trial_id"] in {row["trial_id"] for row in rows}
    return rows, summary


@pytest.mark.slow  # 65 s on CI; the default run stays under 15 minutes
def test_resume_after_sigkill_skips_finished_trials(tmp_path):
    out = str(tmp_path / "run")
    # Three trials, killed once two are done: one trial's time (about 8 s)
    # to hit, polled every 0.2 s.
    args = [sys.executable, RUN] + TINY + ["--trials", "3", "--out", out]
    process = subprocess.Popen(
        args, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    log = os.path.join(out, "trials.jsonl")
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        if os.path.isfile(log) and len(read_jsonl(log)) >= 2:
            break
        time.sleep(0.2)
    assert process.poll() is None, "the search ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = {row["trial_id"]: row for row in read_jsonl(log)}
    assert 2 <= len(before) < 3
    # Everything on disk parses after the kill.
    for folder, _, names in os.walk(out):
        for name in names:
            if name.endswith(".json"):
                with open(os.path.join(folder, name)) as file:
                    json.load(file)
    resumed = run_to_the_end(args + ["--resume"])
    assert f"Resuming: {len(before)} finished trial(s) kept." in resumed.stdout
    # Quiet: no TensorFlow, absl or converter lines; the time left is the
    # whole run's, and QAT says what it is doing.
    assert not NATIVE_NOISE.search(resumed.stdout + resumed.stderr), (
        resumed.stdout + resumed.stderr
    )[-3000:]
    assert "left in all" in resumed.stdout
    assert "quantization-aware training" in resumed.stdout
    rows, _ = check_report(out, 3)
    after = {row["trial_id"]: row for row in rows}
    for trial_id, row in before.items():
        # Not run again: same measurement, same training time.
        assert after[trial_id]["train_seconds"] == row["train_seconds"]
        assert after[trial_id]["arch"] == row["arch"]


@pytest.mark.slow  # A whole tiny search (about 80 s), then QAT and export.
def test_qat_and_export_resume_after_a_kill_to_the_same_result(tmp_path):
    out = str(tmp_path / "run")
    args = [sys.executable, RUN] + TINY + ["--trials", "2", "--out", out]
    run_to_the_end(args)
    # Killed during QAT or export (both write atomically, so their files
    # are absent): the rerun redoes them alone, to the same result. Before,
    # it failed in QAT's fit ("Random ops require a seed ...": op
    # determinism and no training earlier in the process to seed it).
    with open(os.path.join(out, "summary.json")) as file:
        first = json.load(file)["winner"]
    for name in ("export.json", "model_int8.tflite"):
        os.remove(os.path.join(out, name))
    run_to_the_end(args + ["--resume"])
    _, summary = check_report(out, 2)
    for key in ("int8_val_accuracy", "qat_val_accuracy"):
        if key in first:
            assert summary["winner"][key] == first[key], key


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow  # 80 s; keeps the default run under 15 minutes.
def test_chief_and_two_workers_share_one_search(tmp_path):
    pytest.importorskip("grpc")
    out = str(tmp_path / "run")
    port = str(free_port())
    args = [sys.executable, RUN] + TINY + ["--trials", "4", "--out", out]
    common = dict(KERASTUNER_ORACLE_IP="127.0.0.1", KERASTUNER_ORACLE_PORT=port)
    chief = subprocess.Popen(
        args,
        env=env(KERASTUNER_TUNER_ID="chief", **common),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    workers = [
        subprocess.Popen(
            args,
            env=env(KERASTUNER_TUNER_ID=f"tuner{i}", **common),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    outputs = [w.communicate(timeout=600)[0] for w in workers]
    chief_output = chief.communicate(timeout=600)[0]
    assert chief.returncode == 0, chief_output[-3000:]
    for worker, output in zip(workers, outputs):
        assert worker.returncode == 0, output[-3000:]
    trial_line = re.compile(r"^\[\d+/\d+\] trial \d+:", re.MULTILINE)
    ran = [len(trial_line.findall(output)) for output in outputs]
    assert sum(ran) == 4, ran  # The workers trained every trial...
    assert not trial_line.search(chief_output)  # ...the chief served,
    check_report(out, 4)  # then retrained, exported and reported.


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--budget", "lots"], "budget"),
        (["--budget", "1M"], "No candidate of the space fits"),
        (["--dataset", "imagenet"], "dataset"),
        (["--dataset", "folder:/does/not/exist"], "does not exist"),
        (["--space", "mbconv,transformer"], "--space"),
        (["--latency-budget", "fast"], "latency"),
        (["--proxy-resolution", "16"], "proxy_resolution"),
        (["--budget", "none"], "budget"),
        (["--retrain-seeds", "0"], "retrain_seeds=0"),
        (["--seed", "-1"], "seed=-1"),
    ],
)
def test_bad_arguments_fail_before_any_work(tmp_path, capsys, argv, message):
    out = str(tmp_path / "run")
    with pytest.raises(SystemExit) as raised:
        main(argv + ["--out", out])
    assert raised.value.code == 2
    assert message in capsys.readouterr().err
    assert not os.path.exists(out)


def test_an_existing_run_needs_resume(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text("{}")
    with pytest.raises(SystemExit):
        main(["--out", str(out)])
    assert "--resume" in capsys.readouterr().err


def test_resume_into_a_folder_with_no_search_is_an_error(tmp_path, capsys):
    # It silently started a new search there (issue 19).
    out = tmp_path / "empty"
    out.mkdir()
    with pytest.raises(SystemExit) as raised:
        main(TINY + ["--out", str(out), "--resume"])
    assert raised.value.code == 2
    error = capsys.readouterr().err
    assert "holds no search to continue" in error and str(out) in error
    assert os.listdir(out) == []


def test_a_second_search_on_one_folder_is_refused_until_the_first_dies(
    tmp_path, capsys
):
    # Two searches on one --out both ran every trial, unaware of each other.
    # The lock is an flock: the kernel lets it go when its holder dies.
    from tfeff.nas.pipeline import lock_run_folder
    from tfeff.nas.pipeline import unlock_run_folder

    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            f"fd = os.open({str(out / '.lock')!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "os.write(fd, f'pid {os.getpid()} on this host'.encode())\n"
            "print('locked', flush=True)\n"
            "time.sleep(120)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(SystemExit) as raised:
            main(TINY + ["--out", str(out)])
        assert raised.value.code == 2
        error = capsys.readouterr().err
        assert "in use by another search" in error
        assert f"pid {holder.pid}" in error
        assert not (out / "config.json").exists()
    finally:
        holder.kill()
        holder.wait()
    # Killed, it holds nothing: the folder can be taken at once.
    lock_run_folder(str(out))
    unlock_run_folder(str(out))


# Behind the slow mark to keep the default run under 15 minutes on 2 cores;
# tests/nas/test_latency.py covers the latency table in the default run.
@pytest.mark.slow
def test_latency_budgeted_search_reports_latency(tmp_path, monkeypatch):
    monkeypatch.setenv("TFEFF_CACHE_DIR", str(tmp_path / "cache"))
    out = str(tmp_path / "run")
    argv = [
        "--skeleton", "test_tiny", "--resolution", "64", "--budget", "none",
        "--latency-budget", "0.45ms", "--latency-mode", "int8", "--trials", "2",
        "--epochs-per-trial", "1", "--retrain-top", "1", "--retrain-epochs", "1",
        "--qat-epochs", "0", "--no-edgetpu", "--no-baselines", "--out", out, "-q",
    ]  # fmt: skip
    assert main(argv) == 0
    rows = read_jsonl(os.path.join(out, "trials.jsonl"))
    assert len(rows) == 2
    assert all(0 < row["latency_ms"] <= 0.45 for row in rows)
    with open(os.path.join(out, "summary.json")) as file:
        winner = json.load(file)["winner"]
    check = winner["latency_check"]
    assert check["measured_ms"] > 0 and "error_pct" in check
    with open(os.path.join(out, "pareto_latency.png"), "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.listdir(tmp_path / "cache" / "latency")


def test_unreachable_latency_budget_fails_before_the_search(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("TFEFF_CACHE_DIR", str(tmp_path / "cache"))
    out = str(tmp_path / "run")
    from tfeff.nas.budget import BudgetExceededError
    from tfeff.nas.pipeline import SearchConfig
    from tfeff.nas.pipeline import run_search

    config = SearchConfig(
        budget_macs=None,
        latency_budget_ms=0.001,
        skeleton="test_tiny",
        resolution=64,
        out=out,
        verbose=0,
    )
    with pytest.raises(BudgetExceededError, match="latency budget"):
        run_search(config)
    assert not os.path.exists(os.path.join(out, "config.json"))
