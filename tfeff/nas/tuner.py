"""`ProxyTuner`: runs a `BudgetedOracle`'s trials on the proxy task.

A trial decodes its hyperparameter values into an arch string, builds the
candidate, trains it with `tfeff.nas.proxy.train_candidate` and reports
`val_accuracy` (the objective) with the candidate's training time. Nothing
is built before the oracle has checked the budget.

Resuming: the tuner and oracle state live in `<directory>/<project_name>`,
written atomically after every trial. Re-creating the tuner with
`overwrite=False` reloads them; finished trials are kept, and the trial that
was running when the process died is run again from its start (keras-tuner
has no mid-trial checkpoint; a proxy trial is short).

Distributed search: start one process with `KERASTUNER_TUNER_ID=chief` and
workers with `KERASTUNER_TUNER_ID=tuner0`, `tuner1`, ..., all with the same
`KERASTUNER_ORACLE_IP` / `KERASTUNER_ORACLE_PORT` and the same directory
(keras-tuner's chief/worker mode over gRPC). The chief serves the oracle
and returns from `search()` when every trial is done; workers train.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import os
import time

from keras_tuner.engine import base_tuner
from keras_tuner.engine import trial as trial_module

from tfeff.files import atomic_write_json
from tfeff.nas.progress import format_duration
from tfeff.nas.proxy import ProxySettings
from tfeff.nas.proxy import train_candidate
from tfeff.profile.budget import format_macs


class ProxyTuner(base_tuner.BaseTuner):
    """Trains each proposed candidate briefly and reports its accuracy.

    Args:
        oracle: `BudgetedOracle`.
        data: `tfeff.data.ImageDataset` at the proxy resolution.
        proxy: `ProxySettings`.
        directory: str. Where the search state lives.
        project_name: str. Defaults to `"tuner"`.
        overwrite: bool. Start afresh instead of resuming.
        verbose: int. 0 silent, 1 a line per trial, 2 also Keras' per-epoch
            lines.
        clock: optional `tfeff.nas.progress.RunClock`: the time left is
            then the whole run's, not the search's alone.
    """

    def __init__(
        self,
        oracle,
        data,
        proxy=ProxySettings(),
        *,
        directory,
        project_name="tuner",
        overwrite=False,
        verbose=1,
        clock=None,
    ):
        self.space = oracle.space
        self.clock = clock
        self.data = data
        self.proxy = proxy
        self.verbose = verbose
        self._search_start = None
        self._trials_run = 0
        super().__init__(
            oracle,
            hypermodel=None,
            directory=directory,
            project_name=project_name,
            overwrite=overwrite,
        )

    def _print(self, message):
        if self.verbose:
            print(message, flush=True)

    # --- trials --------------------------------------------------------------
    def run_trial(self, trial, **kwargs):
        arch = self.space.candidate(trial.hyperparameters.values).arch
        fit_verbose = 2 if self.verbose >= 2 else 0
        model, metrics = train_candidate(
            arch,
            self.data,
            self.data.resolution,
            self.proxy,
            verbose=fit_verbose,
        )
        return metrics

    def on_search_begin(self):
        self._search_start = time.perf_counter()
        self._trials_run = 0
        trials = getattr(self.oracle, "trials", None) or {}  # None on workers.
        done = sum(
            1
            for trial in trials.values()
            if trial.status
            in (
                trial_module.TrialStatus.COMPLETED,
                trial_module.TrialStatus.FAILED,
            )
        )
        if done:
            self._print(f"Resuming: {done} finished trial(s) kept.")
        if self.clock is not None:
            self.clock.plan(
                "search",
                max(self.oracle.max_trials - done, 0) * self.proxy.epochs,
            )

    def on_trial_begin(self, trial):
        self._trial_start = time.perf_counter()
        candidate = self.space.candidate(trial.hyperparameters.values)
        cost = candidate.cost
        info = getattr(self.oracle, "candidates", {}).get(trial.trial_id, {})
        label = info.get("baseline")
        self._print(
            # Progress n/N, then keras-tuner's trial id (0-based), the name
            # trials.jsonl, retrain and the winner line use.
            f"[{int(trial.trial_id) + 1}/{self.oracle.max_trials}] "
            f"trial {trial.trial_id}: {format_macs(cost.macs)}, {cost.params / 1e6:.2f}M params"
            + (f", baseline {label}" if label else "")
            + f": {candidate.arch}"
        )
        # The draws this proposal cost, and why they were refused (a worker's
        # OracleClient keeps no candidates).
        rejected = info.get("rejected") or {}
        if rejected:
            count = sum(rejected.values())
            self._print(
                f"    ({count} draw{'s' if count != 1 else ''} refused first: "
                + ", ".join(f"{n} {why}" for why, n in rejected.items())
                + ")"
            )

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        self._trials_run += 1
        elapsed = time.perf_counter() - self._trial_start
        finished = self.oracle.get_trial(trial.trial_id)
        best = self.oracle.get_best_trials(1)
        best_score = (
            best[0].score if best and best[0].score is not None else None
        )
        try:
            remaining = self.oracle.remaining_trials
            if callable(remaining):  # A method in keras-tuner 1.4.8.
                remaining = remaining()
        except AttributeError:  # A worker's OracleClient does not know.
            remaining = None
        if self.clock is not None:
            self.clock.done("search", self.proxy.epochs)
            left = f", {self.clock.text()}"
        elif remaining is not None:
            per_trial = (
                time.perf_counter() - self._search_start
            ) / self._trials_run
            left = f", ~{format_duration(per_trial * remaining)} left"
        else:
            left = ""
        if finished.status == trial_module.TrialStatus.COMPLETED:
            result = f"val_accuracy {finished.score:.4f}"
        else:
            result = f"{finished.status}: {(finished.message or '').strip().splitlines()[-1:]}"
        best_text = f"{best_score:.4f}" if best_score is not None else "n/a"
        self._print(
            f"    {result} in {format_duration(elapsed)} "
            f"(best so far {best_text}{left})"
        )

    # --- persistence ---------------------------------------------------------
    def save(self):
        atomic_write_json(
            self._get_tuner_fname(), self.get_state(), indent=None
        )

    def save_model(self, trial_id, model, step=0):
        """Proxy models are not kept: the winner is retrained from its arch."""

    def load_model(self, trial):
        raise NotImplementedError(
            "Proxy models are not kept; rebuild the trial's arch string."
        )


def is_worker():
    """True in a keras-tuner worker process (chief/worker mode)."""
    tuner_id = os.environ.get("KERASTUNER_TUNER_ID")
    return (
        "KERASTUNER_ORACLE_IP" in os.environ
        and bool(tuner_id)
        and ("chief" not in tuner_id)
    )
