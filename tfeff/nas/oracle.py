"""`BudgetedOracle`: a keras-tuner oracle that only proposes candidates
within the MACs (and optionally latency) budget.

keras-tuner's own oracles draw values and let `build()` reject what does
not fit by raising `FailedTrialError`; three of those in a row abort the
search (`max_consecutive_failed_trials`, ../shared/reference/deployment.md
§4.2). Here the budget is checked analytically in `populate_space`, before
a trial exists, and over-budget draws are redrawn (OFA's hard constraint,
§4.1). Strategies:

- `random`: uniform draws within the budget.
- `evolution`: regularized evolution (Real et al. 2019): a tournament over
  the last `population_size` completed trials picks a parent whose mutation
  (each choice redrawn with probability 0.2) must fit the budget.
- `bayesian`: a Gaussian-process surrogate (scikit-learn) over one-hot
  encoded choices, fitted to completed trials; the next trial is the best
  upper confidence bound among `candidates_per_step` within-budget draws.

Every proposal is deterministic given `seed`, the trial id and the completed
trials, so a search with a fixed seed proposes the same trials in the same
order, and a resumed search proposes what the uninterrupted one would have.
The oracle also keeps `trials.jsonl` (one line per finished trial) beside
the tuner's project, rewritten atomically after each trial.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import json
import os
import random

import keras_tuner
import numpy as np
from keras_tuner.engine import trial as trial_module

from tfeff.files import atomic_write_json
from tfeff.files import atomic_write_text
from tfeff.nas.budget import BudgetExceededError
from tfeff.nas.budget import sample_within_budget
from tfeff.nas.space import is_categorical
from tfeff.profile.budget import format_macs

SEARCH_STRATEGIES = ("random", "evolution", "bayesian")


def space_hyperparameters(space):
    """The space's choices as keras-tuner `Choice` hyperparameters."""
    hp = keras_tuner.HyperParameters()
    for name, options in space.choices().items():
        hp.Choice(
            name, list(options), ordered=not is_categorical(name, options)
        )
    return hp


class BudgetedOracle(keras_tuner.Oracle):
    """Proposes candidates of a `SearchSpace` that fit a budget.

    Args:
        space: `tfeff.nas.SearchSpace`.
        budget_macs: int or None. MACs (multiply-adds) at the space's
            deployment resolution.
        strategy: `"random"`, `"evolution"` or `"bayesian"`.
        max_trials: int. Trials in the search, seeded ones included.
        seed: int.
        seed_values: list of candidate dicts tried first (e.g. baselines).
        seed_labels: names of `seed_values` (e.g. "GhostNet style"),
            recorded with their trials.
        constraint: optional callable `(candidate) -> dict, str or
            None` (a `Candidate`): extra measurements for it (e.g.
            `{"latency_ms": 7.1}`), or why it breaks a further budget ("over
            the latency budget"; None says no more).
        population_size, tournament_size: regularized-evolution settings.
        initial_random: int. Random trials before evolution or the surrogate
            take over. Defaults to `max(3, max_trials // 4)`.
        candidates_per_step: int. Draws scored by the Bayesian surrogate.
        objective: keras-tuner objective. Defaults to maximizing
            `val_accuracy`.
        **kwargs: passed to `keras_tuner.Oracle`.
    """

    def __init__(
        self,
        space,
        budget_macs=None,
        *,
        strategy="random",
        max_trials=10,
        seed=0,
        seed_values=(),
        seed_labels=(),
        constraint=None,
        population_size=None,
        tournament_size=3,
        initial_random=None,
        candidates_per_step=64,
        objective=None,
        max_draws=5000,
        **kwargs,
    ):
        if strategy not in SEARCH_STRATEGIES:
            raise ValueError(
                f"`strategy` must be one of {SEARCH_STRATEGIES}. Received: strategy={strategy!r}"
            )
        if (
            isinstance(max_trials, bool)
            or not isinstance(max_trials, int)
            or max_trials < 1
        ):
            raise ValueError(
                f"`max_trials` must be a positive int. Received: max_trials={max_trials!r}"
            )
        super().__init__(
            objective=objective or keras_tuner.Objective("val_accuracy", "max"),
            max_trials=max_trials,
            hyperparameters=space_hyperparameters(space),
            allow_new_entries=False,
            tune_new_entries=False,
            seed=seed,
            **kwargs,
        )
        # keras-tuner replaces a falsy seed (0, the CLI's default) with a
        # random one; the proposals must follow the seed given.
        self.seed = seed
        self._seed_state = seed
        self.space = space
        self.budget_macs = budget_macs
        self.strategy = strategy
        self.seed_values = [dict(values) for values in seed_values]
        self.seed_labels = list(seed_labels)
        self.constraint = constraint
        self.population_size = population_size or max(4, max_trials // 2)
        self.tournament_size = tournament_size
        self.initial_random = initial_random or max(3, max_trials // 4)
        self.candidates_per_step = candidates_per_step
        self.max_draws = max_draws
        # Extra facts about proposed candidates (arch, params, MACs, latency,
        # baseline name, refused draws) by trial id; saved with the
        # oracle's state.
        self.candidates = {}
        self._rejected = {}

    # --- proposals ---------------------------------------------------------
    def _completed(self):
        return [
            trial
            for trial_id in self.end_order
            if (trial := self.trials.get(trial_id)) is not None
            and trial.status == trial_module.TrialStatus.COMPLETED
            and trial.score is not None
        ]

    def _accept(self, candidate):
        if self._duplicate(candidate.values):
            return "tried already"
        if self.constraint is None:
            return {}
        return self.constraint(candidate)

    def _draw(self, rng, propose=None, max_draws=None):
        return sample_within_budget(
            self.space,
            rng,
            self.budget_macs,
            propose=propose,
            accept=self._accept,
            max_draws=max_draws or self.max_draws,
            rejected=self._rejected,
        )

    def _evolve(self, rng):
        population = self._completed()[-self.population_size :]
        sign = 1 if self.objective.direction == "max" else -1

        def propose(rng):
            contestants = rng.sample(
                population, min(self.tournament_size, len(population))
            )
            parent = max(contestants, key=lambda t: sign * t.score)
            return self.space.mutate(parent.hyperparameters.values, rng)

        return self._draw(rng, propose)

    def _encode(self, values):
        features = []
        for name, options in self.space.choices().items():
            if is_categorical(name, options):
                features.extend(float(values[name] == o) for o in options)
            else:
                # Ordered choices: their rank scaled to [0, 1].
                rank = options.index(values[name])
                features.append(rank / max(len(options) - 1, 1))
        return np.array(features)

    def _bayesian(self, rng):
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel
        from sklearn.gaussian_process.kernels import Matern
        from sklearn.gaussian_process.kernels import WhiteKernel

        completed = self._completed()
        sign = 1 if self.objective.direction == "max" else -1
        x = np.stack(
            [self._encode(t.hyperparameters.values) for t in completed]
        )
        y = np.array([sign * t.score for t in completed])
        y_mean, y_std = y.mean(), y.std() or 1.0
        model = GaussianProcessRegressor(
            ConstantKernel(1.0) * Matern(length_scale=1.0, nu=2.5)
            + WhiteKernel(1e-2),
            normalize_y=False,
            random_state=rng.randrange(2**31),
        )
        model.fit(x, (y - y_mean) / y_std)
        pool = []
        for _ in range(self.candidates_per_step):
            try:
                pool.append(self._draw(rng))
            except BudgetExceededError:
                break
        if not pool:
            raise BudgetExceededError("No new candidate fits the budget.")
        mean, std = model.predict(
            np.stack([self._encode(c.values) for c in pool]), return_std=True
        )
        upper = mean + 2.0 * std
        return pool[int(np.argmax(upper))]

    def populate_space(self, trial_id):
        index = int(trial_id)
        rng = random.Random(f"{self.seed}:{trial_id}")
        candidate = None
        label = None
        # Why draws were refused on the way to this trial's candidate.
        self._rejected = {}
        try:
            if index < len(self.seed_values):
                values = self.seed_values[index]
                try:
                    # One draw: the same values again would not fit either.
                    candidate = self._draw(
                        rng, propose=lambda rng: dict(values), max_draws=1
                    )
                    if index < len(self.seed_labels):
                        label = self.seed_labels[index]
                except BudgetExceededError:
                    candidate = None  # Tried already, or over budget.
                    self._rejected = {}
            if candidate is None:
                completed = self._completed()
                if (
                    self.strategy == "random"
                    or len(completed) < self.initial_random
                ):
                    candidate = self._draw(rng)
                elif self.strategy == "evolution":
                    candidate = self._evolve(rng)
                else:
                    candidate = self._bayesian(rng)
        except BudgetExceededError:
            # The space is exhausted within the budget (every fitting
            # candidate was tried): end the search.
            return {"status": trial_module.TrialStatus.STOPPED, "values": None}
        self.candidates[trial_id] = {
            "arch": candidate.arch,
            "params": candidate.params,
            "macs": candidate.macs,
            **candidate.extras,
            **({"baseline": label} if label else {}),
            **({"rejected": dict(self._rejected)} if self._rejected else {}),
        }
        return {
            "status": trial_module.TrialStatus.RUNNING,
            "values": candidate.values,
        }

    # --- persistence -------------------------------------------------------
    def get_state(self):
        state = super().get_state()
        state["candidates"] = self.candidates
        return state

    def set_state(self, state):
        super().set_state(state)
        self.candidates = state.get("candidates", {})

    def save(self):
        # keras-tuner writes its JSON in place; a kill mid-write would leave
        # a truncated oracle.json that cannot be resumed.
        atomic_write_json(
            self._get_oracle_fname(), self.get_state(), indent=None
        )

    def _save_trial(self, trial):
        path = os.path.join(self._get_trial_dir(trial.trial_id), "trial.json")
        atomic_write_json(path, trial.get_state(), indent=None)

    @property
    def trials_log_path(self):
        return os.path.join(str(self._directory), "trials.jsonl")

    def trial_record(self, trial):
        """One `trials.jsonl` line: the candidate, its cost and its metrics."""
        metrics = {
            name: float(trial.metrics.get_last_value(name))
            for name in trial.metrics.metrics
            if trial.metrics.get_last_value(name) is not None
        }
        info = dict(self.candidates.get(trial.trial_id, {}))
        if "arch" not in info:
            info["arch"] = self.space.candidate(
                trial.hyperparameters.values
            ).arch
        return {
            "trial_id": trial.trial_id,
            "status": trial.status,
            "arch": info.pop("arch"),
            "params": info.pop("params", None),
            "macs": info.pop("macs", None),
            "macs_unit": "MACs (multiply-adds)",
            "resolution": self.space.resolution,
            "latency_ms": metrics.pop(
                "latency_ms", info.pop("latency_ms", None)
            ),
            "val_accuracy": metrics.pop("val_accuracy", None),
            "train_seconds": metrics.pop("train_seconds", None),
            "score": trial.score,
            "values": trial.hyperparameters.values,
            "metrics": metrics,
            **info,
        }

    def write_trials_log(self):
        lines = [
            json.dumps(self.trial_record(self.trials[trial_id]))
            for trial_id in self.end_order
            if trial_id in self.trials
        ]
        atomic_write_text(
            self.trials_log_path, "".join(f"{line}\n" for line in lines)
        )

    @keras_tuner.synchronized
    def end_trial(self, trial):
        super().end_trial(trial)
        # keras-tuner saves its state before it drops the trial from
        # `ongoing_trials`, so a reload would run the finished trial again;
        # save once more now that it is gone.
        self.save()
        self.write_trials_log()

    def reload(self):
        super().reload()
        # State written by a run killed between those two saves.
        finished = (
            trial_module.TrialStatus.COMPLETED,
            trial_module.TrialStatus.FAILED,
        )
        self._retry_queue = [
            trial_id
            for trial_id in self._retry_queue
            if self.trials[trial_id].status not in finished
        ]

    def describe_budget(self):
        if self.budget_macs is None:
            return "no MACs budget"
        return f"{format_macs(self.budget_macs)} at {self.space.resolution}px"
