"""The time left covers the whole run (search, retrain, QAT, export)."""

import pytest

from tfeff.nas import progress
from tfeff.nas.pipeline import SearchConfig
from tfeff.nas.progress import RunClock
from tfeff.nas.progress import format_duration


def test_time_left_counts_every_phase(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: now[0])
    config = SearchConfig(
        trials=4,
        epochs_per_trial=2,
        retrain_top=2,
        retrain_seeds=1,
        retrain_epochs=3,
        qat_epochs=1,
    )
    clock = RunClock(config)
    assert clock.seconds_left() is None and clock.text() == ""
    qat = progress.QAT_EPOCH_UNITS + progress.QAT_SETUP_UNITS
    total = 4 * 2 + 2 * 3 + qat + progress.EXPORT_UNITS
    now[0] += 20.0
    clock.done("search", 2)  # One trial: 10 s per epoch.
    assert clock.seconds_left() == pytest.approx(10.0 * (total - 2))
    # The search ends early on a resumed run: the plan follows.
    clock.plan("search", 0)
    assert clock.seconds_left() == pytest.approx(
        10.0 * (2 * 3 + qat + progress.EXPORT_UNITS)
    )
    assert clock.text().endswith("left in all")


def test_durations_read_plainly():
    assert format_duration(42) == "42s"
    assert format_duration(187) == "3m07s"
    assert format_duration(3720) == "1h02m"
    assert format_duration(-3) == "0s"
