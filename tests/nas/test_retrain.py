"""The retrain ranks the best trials on the mean of `retrain_seeds`
trainings, keeps each one's best model, and resumes at the next seed."""

import json
import os
import random
import types

import keras
import numpy as np
import pytest

from tfeff.nas import pipeline
from tfeff.nas.pipeline import SearchConfig
from tfeff.nas.space import SearchSpace


class FakeOracle:
    """The two things `_retrain` asks of the oracle."""

    def __init__(self, space, values):
        self.space = space
        self._trials = [
            types.SimpleNamespace(
                trial_id=f"{index:02d}",
                score=0.5,
                hyperparameters=types.SimpleNamespace(values=v),
            )
            for index, v in enumerate(values)
        ]

    def get_best_trials(self, count):
        return self._trials[:count]


@pytest.fixture
def setup(tmp_path, monkeypatch):
    space = SearchSpace(skeleton="test_tiny")
    rng = random.Random(1)
    values = []
    while len(values) < 2:
        candidate = space.sample(rng)
        if space.arch(candidate) not in [space.arch(v) for v in values]:
            values.append(candidate)
    oracle = FakeOracle(space, values)
    arch_a, arch_b = (space.arch(v) for v in values)
    # Trial 00 has the single best training but the lower mean; the seed
    # is written into the model, so the kept file tells which was kept.
    table = {
        (arch_a, 0): 0.9,
        (arch_a, 1000): 0.5,
        (arch_a, 2000): 0.6,
        (arch_b, 0): 0.8,
        (arch_b, 1000): 0.85,
        (arch_b, 2000): 0.7,
    }
    calls = []

    def fake_train(arch, data, resolution, settings, verbose=0, callbacks=()):
        calls.append((arch, settings.seed, settings.epochs))
        if fake_train.fail_at == len(calls):
            raise KeyboardInterrupt
        model = keras.Sequential(
            [keras.Input((1,)), keras.layers.Dense(1, use_bias=False)]
        )
        model.layers[0].set_weights([np.full((1, 1), settings.seed, "f4")])
        return model, {
            "val_accuracy": table[(arch, settings.seed)],
            "train_seconds": 1.0,
        }

    fake_train.fail_at = None
    monkeypatch.setattr(pipeline, "train_candidate", fake_train)
    config = SearchConfig(
        budget_macs=None,
        latency_budget_ms=1.0,  # No widening: the archs stay as searched.
        retrain_top=2,
        retrain_seeds=3,
        retrain_epochs=4,
        verbose=0,
    )
    return config, oracle, (arch_a, arch_b), fake_train, calls, str(tmp_path)


def kept_seed(out, entry):
    model = keras.saving.load_model(os.path.join(out, entry["model"]))
    return int(model.layers[0].get_weights()[0][0, 0])


def test_candidates_are_ranked_on_the_mean_over_seeds(setup):
    config, oracle, (arch_a, arch_b), _, calls, out = setup
    entries = pipeline._retrain(config, None, oracle, out, pipeline._Phases())
    assert [(a, s) for a, s, _ in calls] == [
        (arch_a, 0), (arch_a, 1000), (arch_a, 2000),
        (arch_b, 0), (arch_b, 1000), (arch_b, 2000),
    ]  # fmt: skip
    assert all(epochs == 4 for _, _, epochs in calls)
    a, b = entries
    assert a["val_accuracy_per_seed"] == [0.9, 0.5, 0.6]
    assert a["val_accuracy"] == pytest.approx((0.9 + 0.5 + 0.6) / 3)
    assert b["val_accuracy"] == pytest.approx((0.8 + 0.85 + 0.7) / 3)
    assert a["seeds"] == b["seeds"] == [0, 1000, 2000]
    # The winner is picked on the mean: trial 01, though 00 had the best
    # single training.
    assert max(entries, key=lambda e: e["val_accuracy"])["trial_id"] == "01"
    # Each trial's kept model is its best training.
    assert kept_seed(out, a) == 0
    assert kept_seed(out, b) == 1000
    with open(os.path.join(out, "retrain.json")) as file:
        assert json.load(file) == entries


def test_an_interrupted_retrain_resumes_at_the_next_seed(setup):
    config, oracle, (arch_a, arch_b), fake_train, calls, out = setup
    fake_train.fail_at = 5  # During trial 01's second seed.
    with pytest.raises(KeyboardInterrupt):
        pipeline._retrain(config, None, oracle, out, pipeline._Phases())
    with open(os.path.join(out, "retrain.json")) as file:
        saved = {e["trial_id"]: e for e in json.load(file)}
    assert saved["00"]["val_accuracy_per_seed"] == [0.9, 0.5, 0.6]
    assert saved["01"]["val_accuracy_per_seed"] == [0.8]
    fake_train.fail_at = None
    calls.clear()
    entries = pipeline._retrain(config, None, oracle, out, pipeline._Phases())
    # Only the trainings that had not finished run.
    assert [(a, s) for a, s, _ in calls] == [(arch_b, 1000), (arch_b, 2000)]
    assert entries[1]["val_accuracy_per_seed"] == [0.8, 0.85, 0.7]
    assert entries[1]["train_seconds"] == 3.0
    assert kept_seed(out, entries[1]) == 1000
    # Asking for fewer seeds later keeps what was trained.
    calls.clear()
    more = SearchConfig(**{**config.__dict__, "retrain_seeds": 1})
    again = pipeline._retrain(more, None, oracle, out, pipeline._Phases())
    assert calls == []
    assert again == entries


def test_retrain_seeds_must_be_a_positive_int():
    with pytest.raises(ValueError, match="retrain_seeds=0"):
        SearchConfig(retrain_seeds=0)
