"""Search → retrain → quantization-aware training → int8 export → report.

`run_search(SearchConfig(...))` is what `python search/run.py` and
`tfeff-search` run. Every phase leaves its result in `config.out` before the
next starts, written atomically, so a killed run resumes (`resume=True`)
where it stopped: finished trials are kept (keras-tuner's state), finished
retrains are read back from `retrain.json` and their `.keras` files, and a
finished export is not redone.

Files in `out`:
- `config.json`: the settings (a resumed run must match them).
- `trials.jsonl`: one line per finished trial (arch, params, MACs at the
  deployment resolution, latency if measured, proxy accuracy, time).
- `tuner/`: keras-tuner's state (oracle and trials).
- `retrain.json`, `retrain/<trial>.keras`: the best trials retrained longer,
  each first widened by a channel multiplier to the MACs budget
  (`fill_budget`; the baselines it is judged against are scaled so too).
- `winner.keras`, `winner_arch.txt`: the winner (float, proxy resolution).
- `model_int8.tflite`: the winner after QAT, fully int8.
- `edgetpu/`: EdgeTPU artefacts and compatibility report.
- `summary.json`, `pareto.png`: the report.
"""

import dataclasses
import datetime
import glob
import json
import os
import time

import numpy as np

from tfeff.data.classification import check_dataset_name
from tfeff.data.classification import load_dataset
from tfeff.files import atomic_write_json
from tfeff.files import atomic_write_text
from tfeff.nas.budget import check_budget
from tfeff.nas.budget import widen_to_budget
from tfeff.nas.proxy import ProxySettings
from tfeff.nas.proxy import evaluate_accuracy
from tfeff.nas.proxy import train_candidate
from tfeff.nas.space import KINDS
from tfeff.nas.space import SearchSpace
from tfeff.nas.space import scaled_baselines
from tfeff.profile.budget import format_macs

MACS_UNIT = "MACs (multiply-adds)"


@dataclasses.dataclass(frozen=True)
class SearchConfig:
    """Settings of one search run (see `tfeff-search --help`)."""

    budget_macs: int | None = 400_000_000
    latency_budget_ms: float | None = None
    latency_mode: str = "int8"
    resolution: int = 224
    proxy_resolution: int = 32
    dataset: str = "digits"
    kinds: tuple = KINDS
    skeleton: str = "efficientnet"
    trials: int = 6
    epochs_per_trial: int = 2
    oracle: str = "evolution"
    baselines: bool = True
    retrain_top: int = 2
    fill_budget: bool = True
    retrain_epochs: int = 3
    retrain_seeds: int = 1
    qat_epochs: int = 1
    seed: int = 0
    out: str | None = None
    edgetpu: bool = True
    verbose: int = 1

    def __post_init__(self):
        def positive_int(name, minimum=1):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or value < minimum
            ):
                raise ValueError(
                    f"`{name}` must be an int >= {minimum}. Received: {name}={value!r}"
                )

        for name in (
            "trials",
            "epochs_per_trial",
            "retrain_top",
            "retrain_epochs",
            "retrain_seeds",
        ):
            positive_int(name)
        positive_int("qat_epochs", 0)
        positive_int("resolution", 32)
        # The skeleton's total stride is 32.
        positive_int("proxy_resolution", 32)
        if self.budget_macs is None and self.latency_budget_ms is None:
            raise ValueError("Give a MACs budget, a latency budget, or both.")
        if (
            self.latency_budget_ms is not None
            and not self.latency_budget_ms > 0
        ):
            raise ValueError(
                "`latency_budget_ms` must be > 0. Received: "
                f"latency_budget_ms={self.latency_budget_ms!r}"
            )
        if self.latency_mode not in ("int8", "float32"):
            raise ValueError(
                "`latency_mode` must be 'int8' or 'float32'. Received: "
                f"latency_mode={self.latency_mode!r}"
            )
        if self.oracle not in ("random", "evolution", "bayesian"):
            raise ValueError(
                "`oracle` must be 'random', 'evolution' or 'bayesian'. "
                f"Received: oracle={self.oracle!r}"
            )
        check_dataset_name(self.dataset)

    def to_json(self):
        data = dataclasses.asdict(self)
        data["kinds"] = list(self.kinds)
        data["macs_unit"] = MACS_UNIT
        return data

    @property
    def proxy(self):
        return ProxySettings(epochs=self.epochs_per_trial, seed=self.seed)


# Settings that may differ when resuming (they do not change what a trial is).
_RESUMABLE_CHANGES = {
    "trials",
    "out",
    "verbose",
    "edgetpu",
    "retrain_top",
    "retrain_seeds",
}


def default_out_dir(root="runs"):
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return os.path.join(root, f"search-{stamp}")


def latest_run(root="runs"):
    """The newest `runs/search-*` holding a `config.json`, or None."""
    runs = sorted(
        path
        for path in glob.glob(os.path.join(root, "search-*"))
        if os.path.isfile(os.path.join(path, "config.json"))
    )
    return runs[-1] if runs else None


def _check_resume(config, out):
    path = os.path.join(out, "config.json")
    if not os.path.isfile(path):
        raise ValueError(
            f"Nothing to resume in {out!r}: it holds no config.json."
        )
    with open(path) as file:
        saved = json.load(file)
    current = config.to_json()
    changed = {
        key: (saved.get(key), value)
        for key, value in current.items()
        if key not in _RESUMABLE_CHANGES and saved.get(key) != value
    }
    if changed:
        details = ", ".join(
            f"{key}: {old!r} -> {new!r}" for key, (old, new) in changed.items()
        )
        raise ValueError(
            f"--resume must repeat the original settings of {out!r}; "
            f"these differ: {details}"
        )


class _Phases:
    """Wall time per phase, for the summary."""

    def __init__(self):
        self.seconds = {}

    def __call__(self, name):
        phases = self

        class _Timer:
            def __enter__(self):
                self.start = time.perf_counter()

            def __exit__(self, *exc):
                phases.seconds[name] = phases.seconds.get(name, 0.0) + (
                    time.perf_counter() - self.start
                )

        return _Timer()


def _say(config, message):
    if config.verbose:
        print(message, flush=True)


def _restore_bn_momentum(model, momentum=0.99):
    # The proxy trains with 0.9; saved models carry the published 0.99.
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = momentum


def save_model_atomic(model, path):
    """Saves a `.keras` file without optimizer state, atomically.

    The proxy trains with batch-norm momentum 0.9; the saved model carries
    the published 0.99 again.
    """
    import keras

    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    _restore_bn_momentum(clone)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temporary = f"{path}.partial.keras"
    try:
        clone.save(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def build_space(config):
    return SearchSpace(
        kinds=config.kinds,
        skeleton=config.skeleton,
        resolution=config.resolution,
        num_classes=10,  # Re-costed with the data set's classes in run_search.
    )


def prepare(config):
    """Checks everything that can be checked before any work.

    Returns:
        `SearchSpace`.

    Raises:
        ValueError: the budget is unparsable or no candidate fits it, the
            data set is unknown, ...
    """
    space = build_space(config)
    if config.budget_macs is not None:
        check_budget(space, config.budget_macs)
    return space


def retrain_seeds(config):
    """The initialization/shuffling seeds of the retrain, one per training.

    The first is the search's own seed (one retrain, as before there was a
    choice); the others are far from it, so that a benchmark's fresh seeds
    (seed + 1, + 2, ...) never repeat a draw the winner was selected on.
    """
    return [config.seed + 1000 * k for k in range(config.retrain_seeds)]


def _retrain(config, data, oracle, out, phases):
    """Retrains the best `retrain_top` distinct trials for longer.

    Each is trained `retrain_seeds` times and ranked on its mean validation
    accuracy: with a few hundred validation images one training's score
    moves by a point or more between seeds, more than separates good
    candidates. Its best training is the model kept. Progress is saved
    after every training, so a killed retrain resumes at the next seed.
    """
    import keras

    path = os.path.join(out, "retrain.json")
    done = {}
    if os.path.isfile(path):
        with open(path) as file:
            done = {entry["trial_id"]: entry for entry in json.load(file)}
    best = [
        trial
        for trial in oracle.get_best_trials(config.retrain_top)
        if trial.score is not None
    ]
    seeds = retrain_seeds(config)
    results = []
    for rank, trial in enumerate(best, start=1):
        model_path = os.path.join(
            out, "retrain", f"trial_{trial.trial_id}.keras"
        )
        entry = done.get(trial.trial_id)
        if entry is not None and not os.path.isfile(model_path):
            entry = None
        scores = list(
            entry.get("val_accuracy_per_seed", [entry["val_accuracy"]])
            if entry
            else []
        )
        if len(scores) >= len(seeds):
            _say(
                config,
                f"[retrain {rank}/{len(best)}] trial {trial.trial_id}: kept",
            )
            results.append(entry)
            continue
        searched_arch = oracle.space.arch(trial.hyperparameters.values)
        arch, multiplier = searched_arch, 1.0
        cost = oracle.space.cost(trial.hyperparameters.values)
        widened = None
        if config.fill_budget and config.latency_budget_ms is None:
            widened = widen_to_budget(
                searched_arch,
                config.budget_macs,
                config.resolution,
                oracle.space.num_classes,
            )
        if widened is not None:
            multiplier, arch, cost = widened
        _say(
            config,
            f"[retrain {rank}/{len(best)}] trial {trial.trial_id} "
            f"(proxy {trial.score:.4f}) for {config.retrain_epochs} epochs"
            + (f" x {len(seeds)} seeds" if len(seeds) > 1 else "")
            + (
                f", widened x{multiplier:.2f} to {format_macs(cost.macs)}"
                if multiplier != 1.0
                else ""
            ),
        )
        seconds = entry["train_seconds"] if entry else 0.0
        for seed in seeds[len(scores) :]:
            settings = dataclasses.replace(
                config.proxy, epochs=config.retrain_epochs, seed=seed
            )
            with phases("retrain"):
                model, metrics = train_candidate(
                    arch,
                    data,
                    config.proxy_resolution,
                    settings,
                    verbose=2 if config.verbose >= 2 else 0,
                )
            if not scores or metrics["val_accuracy"] > max(scores):
                save_model_atomic(model, model_path)
            scores.append(metrics["val_accuracy"])
            seconds += metrics["train_seconds"]
            entry = {
                "trial_id": trial.trial_id,
                "arch": arch,
                "searched_arch": searched_arch,
                "channel_multiplier": multiplier,
                "params": cost.params,
                "macs": cost.macs,
                "proxy_val_accuracy": trial.score,
                # The ranking score: the mean over the seeds.
                "val_accuracy": float(np.mean(scores)),
                "val_accuracy_per_seed": scores,
                "seeds": seeds[: len(scores)],
                "train_seconds": seconds,
                "model": os.path.relpath(model_path, out),
            }
            _say(
                config,
                f"    seed {seed}: val_accuracy {metrics['val_accuracy']:.4f}"
                + (
                    f" (mean {entry['val_accuracy']:.4f})"
                    if len(scores) > 1
                    else ""
                ),
            )
            done[trial.trial_id] = entry
            atomic_write_json(path, list(done.values()))
            del model
            keras.backend.clear_session()
        results.append(entry)
    return results


def _qat_and_export(config, data, winner_path, out, phases):
    """QAT fine-tuning of the winner, int8 export, EdgeTPU report."""
    import keras

    from tfeff.export.edgetpu import to_edgetpu
    from tfeff.export.tflite import TFLiteRunner
    from tfeff.export.tflite import to_tflite
    from tfeff.profile.latency import measure_tflite_latency
    from tfeff.quantize import quantize_aware

    result_path = os.path.join(out, "export.json")
    tflite_path = os.path.join(out, "model_int8.tflite")
    if os.path.isfile(result_path) and os.path.isfile(tflite_path):
        with open(result_path) as file:
            _say(config, "[export] kept")
            return json.load(file)
    model = keras.saving.load_model(winner_path)
    x_train = data.x_train.astype("float32")
    x_val = data.x_val.astype("float32")
    representative = [x_train[i : i + 32] for i in range(0, 256, 32)]
    with phases("qat"):
        _say(config, f"[qat] fake-quant twin, {config.qat_epochs} epoch(s)")
        # Seeded here, not by whatever trained last in this process: op
        # determinism (enable_determinism) refuses unseeded random ops, so a
        # run resumed after the retrain failed in fit's shuffle, and the
        # seed makes a resumed QAT the same as an uninterrupted one.
        keras.utils.set_random_seed(config.seed)
        qat = quantize_aware(model, representative_data=representative)
        if config.qat_epochs:
            # Fine-tuning at a tenth of the proxy's peak rate, BN frozen
            # (folded), as the QAT recipes do (deployment.md §1).
            qat.compile(
                optimizer=keras.optimizers.SGD(
                    config.proxy.learning_rate * 0.1,
                    momentum=0.9,
                    nesterov=True,
                ),
                loss="sparse_categorical_crossentropy",
                metrics=["accuracy"],
                jit_compile=False,
            )
            qat.fit(
                x_train,
                data.y_train,
                batch_size=config.proxy.batch_size,
                epochs=config.qat_epochs,
                verbose=2 if config.verbose >= 2 else 0,
            )
        qat_accuracy, _ = evaluate_accuracy(qat, x_val, data.y_val)
        float_accuracy, _ = evaluate_accuracy(model, x_val, data.y_val)
    with phases("export"):
        _say(config, "[export] TFLite int8")
        # int8 in and out: what EdgeTPUs and microcontrollers take.
        to_tflite(qat, tflite_path, mode="int8", io_dtype="int8")
        runner = TFLiteRunner(tflite_path)
        probs = runner(x_val)
        int8_accuracy = float(np.mean(np.argmax(probs, -1) == data.y_val))
        latency = measure_tflite_latency(tflite_path, num_threads=1)
        result = {
            "float_val_accuracy": float(float_accuracy),
            "qat_val_accuracy": float(qat_accuracy),
            "int8_val_accuracy": int8_accuracy,
            "int8_latency_ms": latency,
            # False where XNNPACK rejects the graph (see make_interpreter):
            # the latency is then the slower reference kernels'.
            "int8_latency_xnnpack": runner.uses_xnnpack,
            "int8_latency_note": (
                f"batch 1, 1 thread, {config.proxy_resolution}x"
                f"{config.proxy_resolution} input, this host"
            ),
            "model_int8": "model_int8.tflite",
            "model_int8_bytes": os.path.getsize(tflite_path),
        }
        if config.edgetpu:
            _say(config, "[export] EdgeTPU report")
            report = to_edgetpu(tflite_path, os.path.join(out, "edgetpu"))
            mapped = sum(1 for op in report.ops if op.mapped)
            result["edgetpu"] = {
                "ops": len(report.ops),
                "ops_mapped": mapped,
                "all_mapped": report.all_mapped,
                "report": "edgetpu/edgetpu_report.txt",
            }
    atomic_write_json(result_path, result)
    return result


def run_search(config):
    """Runs the whole pipeline; returns the summary dict.

    In a keras-tuner worker process (KERASTUNER_TUNER_ID not "chief") only
    the search phase runs; the chief does the rest.
    """
    from tfeff.nas.oracle import BudgetedOracle
    from tfeff.nas.proxy import enable_determinism
    from tfeff.nas.tuner import ProxyTuner
    from tfeff.nas.tuner import is_worker

    phases = _Phases()
    start = time.perf_counter()
    enable_determinism()
    out = config.out
    space = prepare(config)
    if os.path.isfile(os.path.join(out, "config.json")):
        _check_resume(config, out)
        resuming = True
    else:
        resuming = False
    with phases("data"):
        data = load_dataset(
            config.dataset, config.proxy_resolution, seed=config.seed
        )
    space.num_classes = data.num_classes
    _say(config, f"Data: {data.describe()}")
    budget_text = (
        f"{format_macs(config.budget_macs)} at {config.resolution}x{config.resolution}"
        if config.budget_macs is not None
        else "no MACs budget"
    )
    _say(config, f"Budget: {budget_text}")

    constraint = None
    latency_table = None
    if config.latency_budget_ms is not None:
        from tfeff.nas.latency import LatencyTable

        latency_table = LatencyTable(
            resolution=config.resolution,
            num_classes=data.num_classes,
            mode=config.latency_mode,
        )
        _say(
            config,
            f"Latency budget: {config.latency_budget_ms:g} ms "
            f"({config.latency_mode} TFLite, 1 thread, this host; table "
            f"{latency_table.path})",
        )

        def constraint(values, cost):
            latency = latency_table.predict(space.arch(values))
            if latency > config.latency_budget_ms:
                return None
            return {"latency_ms": latency}

        # A budget nothing can meet is an error before the search: the
        # cheapest corner of the space is (nearly always) the fastest.
        from tfeff.nas.budget import BudgetExceededError
        from tfeff.nas.budget import smallest_candidate

        cheapest = smallest_candidate(space)
        fastest = latency_table.predict(space.arch(cheapest[0]))
        latency_table.save()
        if fastest > config.latency_budget_ms:
            raise BudgetExceededError(
                f"No candidate of the space fits a latency budget of "
                f"{config.latency_budget_ms:g} ms: the cheapest takes "
                f"{fastest:.3f} ms ({config.latency_mode} TFLite, 1 thread, "
                "this host). Raise --latency-budget or lower --resolution."
            )

    if not resuming and not is_worker():
        # Written once every check has passed: a run that failed its checks
        # leaves nothing to --resume.
        atomic_write_json(os.path.join(out, "config.json"), config.to_json())
    baselines = []
    if config.baselines:
        baselines = [
            (label, values)
            for label, values in scaled_baselines(space, config.budget_macs)
            if constraint is None or constraint(values, None) is not None
        ]
    oracle = BudgetedOracle(
        space,
        config.budget_macs,
        strategy=config.oracle,
        max_trials=config.trials,
        seed=config.seed,
        seed_values=[values for _, values in baselines],
        constraint=constraint,
    )
    tuner = ProxyTuner(
        oracle,
        data,
        config.proxy,
        directory=out,
        project_name="tuner",
        overwrite=False,
        verbose=config.verbose,
    )
    with phases("search"):
        tuner.search(verbose=0)  # ProxyTuner prints its own progress.
    if is_worker():
        return None
    if latency_table is not None:
        latency_table.save()
    oracle = tuner.oracle
    oracle.write_trials_log()

    retrained = _retrain(config, data, oracle, out, phases)
    if not retrained:
        raise RuntimeError(
            "No trial completed; see trials.jsonl for the errors."
        )
    winner = max(retrained, key=lambda entry: entry["val_accuracy"])
    winner_path = os.path.join(out, "winner.keras")
    source = os.path.join(out, winner["model"])
    with open(source, "rb") as file:
        from tfeff.files import atomic_write_bytes

        atomic_write_bytes(winner_path, file.read())
    atomic_write_text(
        os.path.join(out, "winner_arch.txt"), winner["arch"] + "\n"
    )
    _say(
        config,
        f"Winner: trial {winner['trial_id']} ({format_macs(winner['macs'])})",
    )

    export = _qat_and_export(config, data, winner_path, out, phases)

    if latency_table is not None:
        with phases("latency check"):
            winner["latency_check"] = latency_table.check(winner["arch"])

    records = [oracle.trial_record(oracle.trials[t]) for t in oracle.end_order]
    baseline_ids = {}
    for index, (label, values) in enumerate(baselines):
        arch = space.arch(values)
        for record in records:
            if record["arch"] == arch:
                baseline_ids[label] = record["trial_id"]
    summary = {
        "command_settings": config.to_json(),
        "macs_unit": MACS_UNIT,
        "budget": {
            "macs": config.budget_macs,
            "text": budget_text,
            "latency_ms": config.latency_budget_ms,
        },
        "dataset": data.describe(),
        "trials": {
            "planned": config.trials,
            "completed": sum(1 for r in records if r["status"] == "COMPLETED"),
            "failed": sum(1 for r in records if r["status"] != "COMPLETED"),
            "max_macs": max((r["macs"] or 0) for r in records)
            if records
            else None,
        },
        "baselines": {
            label: next(r for r in records if r["trial_id"] == trial_id)
            for label, trial_id in baseline_ids.items()
        },
        "retrained": retrained,
        "winner": {**winner, **export},
        "resumed": resuming,
        "phase_seconds": {k: round(v, 1) for k, v in phases.seconds.items()},
        "wall_seconds_this_run": round(time.perf_counter() - start, 1),
    }
    atomic_write_json(os.path.join(out, "summary.json"), summary)
    from tfeff.nas.report import plot_pareto

    plot_pareto(
        records,
        os.path.join(out, "pareto.png"),
        baselines=baseline_ids,
        winner_trial=winner["trial_id"],
        widened_winner=(
            (
                winner["macs"],
                winner["val_accuracy"],
                winner["channel_multiplier"],
            )
            if winner.get("channel_multiplier", 1.0) != 1.0
            else None
        ),
        budget_macs=config.budget_macs,
        title=f"Search on {data.name} · budget {budget_text}",
    )
    _say(
        config,
        f"Done in {summary['wall_seconds_this_run']:.0f} s. Winner "
        f"{format_macs(winner['macs'])}, val_accuracy {winner['val_accuracy']:.4f} "
        f"(int8 TFLite {export['int8_val_accuracy']:.4f}). Report: {out}",
    )
    return summary


__all__ = ["SearchConfig", "default_out_dir", "latest_run", "run_search"]
