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
- `retrain.json`: the best trials retrained longer, each first widened by a
  channel multiplier to the MACs budget (`fill_budget`; the baselines it is
  judged against are scaled so too). Their models live in `retrain/` until
  the winner is chosen; then the winner's moves to `winner.keras` and the
  others are deleted (their scores stay in `retrain.json`).
- `winner.json`, `winner.keras`, `winner_arch.txt`: the winner (float, proxy
  resolution, saved without optimizer state).
- `model_int8.tflite`: the winner after QAT, fully int8.
- `edgetpu/`: EdgeTPU artefacts and compatibility report.
- `summary.json`, `pareto.png` (accuracy against MACs) and, under a latency
  budget, `pareto_latency.png` (against the table's latency): the report.
- `.lock`: held (flock) by the process running the search; a second search
  on the same folder is refused while it lives (keras-tuner workers excepted).
"""

import dataclasses
import fcntl
import json
import os
import platform
import shutil
import time

import numpy as np

from tfeff.data.classification import load_dataset
from tfeff.files import atomic_write_json
from tfeff.files import atomic_write_text
from tfeff.files import load_model
from tfeff.files import save_keras_atomically
from tfeff.nas.budget import check_budget
from tfeff.nas.budget import widen_to_budget
from tfeff.nas.config import _RESUMABLE_CHANGES  # noqa: F401
from tfeff.nas.config import MACS_UNIT
from tfeff.nas.config import SearchConfig
from tfeff.nas.config import default_out_dir
from tfeff.nas.config import latest_run
from tfeff.nas.progress import QAT_EPOCH_UNITS
from tfeff.nas.progress import RunClock
from tfeff.nas.progress import format_duration
from tfeff.nas.proxy import evaluate_accuracy
from tfeff.nas.proxy import train_candidate
from tfeff.nas.space import SearchSpace
from tfeff.nas.space import scaled_baselines
from tfeff.profile.budget import format_macs


def _check_resume(config, out):
    path = os.path.join(out, "config.json")
    if not os.path.isfile(path):
        raise SearchSetupError(
            f"Nothing to resume in {out!r}: it holds no config.json."
        )
    with open(path) as file:
        saved = json.load(file)
    current = config.to_json()
    # A setting newer than the saved run had its default there.
    saved = {**SearchConfig().to_json(), **saved}
    changed = {
        key: (saved.get(key), value)
        for key, value in current.items()
        if key not in _RESUMABLE_CHANGES and saved.get(key) != value
    }
    if changed:
        details = ", ".join(
            f"{key}: {old!r} -> {new!r}" for key, (old, new) in changed.items()
        )
        raise SearchSetupError(
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


def _epoch_line(config, clock, phase, units_per_epoch=1.0):
    """A line per epoch with the run's time left (`-v`: Keras' own lines
    instead; the clock counts the epochs either way)."""
    epochs = config.retrain_epochs if phase == "retrain" else config.qat_epochs

    def say(text):
        if config.verbose == 1:
            print(text, flush=True)

    return clock.epoch_callback(phase, say, epochs, units_per_epoch)


def _restore_bn_momentum(model, momentum=0.99):
    # The proxy trains with 0.9; saved models carry the published 0.99.
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = momentum


def save_searched_model(model, path):
    """Saves a `.keras` file without optimizer state, atomically.

    The proxy trains with batch-norm momentum 0.9; the saved model carries
    the published 0.99 again.
    """
    _restore_bn_momentum(model)
    save_keras_atomically(model, path, include_optimizer=False)


class SearchSetupError(ValueError):
    """A run refused before any work: its folder or settings do not allow it."""


class SearchInUseError(SearchSetupError):
    """Another process is running a search in the same folder."""


_HELD_LOCKS = {}  # Absolute lock path -> open descriptor.


def lock_run_folder(out):
    """Takes `out/.lock` for this process, or refuses.

    An advisory `flock`: the kernel drops it when its process ends, however
    it ends, so a killed search never leaves the folder locked. Taking it
    again in the same process is a no-op.

    Raises:
        SearchInUseError: another living process holds it.
    """
    path = os.path.abspath(os.path.join(out, ".lock"))
    if path in _HELD_LOCKS:
        return path
    os.makedirs(out, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.read(fd, 200).decode("utf-8", "replace").strip()
        os.close(fd)
        raise SearchInUseError(
            f"{out!r} is in use by another search ({holder or 'a process'}"
            "); wait for it to end or choose another --out. (keras-tuner "
            "workers share a folder with KERASTUNER_TUNER_ID set.)"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()} on {platform.node()}\n".encode())
    _HELD_LOCKS[path] = fd
    return path


def unlock_run_folder(out):
    """Lets `out/.lock` go (also done by the process's end)."""
    fd = _HELD_LOCKS.pop(os.path.abspath(os.path.join(out, ".lock")), None)
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def build_space(config, budget):
    """The search space costed as `budget` says (its resolution and, once
    the data set is loaded, its classifier)."""
    return SearchSpace(
        kinds=config.kinds,
        skeleton=config.skeleton,
        resolution=budget.resolution,
        num_classes=budget.num_classes,
    )


def prepare(config):
    """Checks everything that can be checked before any work.

    The data set is not loaded yet, so the MACs check costs the backbone
    and head without the classifier: a lower bound, so a budget refused
    here is refused by every candidate (`_run` checks again with the
    data's classes).

    Raises:
        ValueError: the budget is unparsable or no candidate fits it, the
            data set is unknown, ...
    """
    from tfeff.nas.tuner import is_worker

    budget = config.budget
    if budget.macs is not None:
        check_budget(build_space(config, budget), budget.macs)
    if config.out is not None and not is_worker():
        lock_run_folder(config.out)


def retrain_seeds(config):
    """The initialization/shuffling seeds of the retrain, one per training.

    The first is the search's own seed (one retrain, as before there was a
    choice); the others are far from it, so that a benchmark's fresh seeds
    (seed + 1, + 2, ...) never repeat a draw the winner was selected on.
    """
    return [config.seed + 1000 * k for k in range(config.retrain_seeds)]


def _retrain(config, data, oracle, out, phases, clock=None):
    """Retrains the best `retrain_top` distinct trials for longer.

    Each is trained `retrain_seeds` times and ranked on its mean validation
    accuracy: with a few hundred validation images one training's score
    moves by a point or more between seeds, more than separates good
    candidates. Its best training is the model kept. Progress is saved
    after every training, so a killed retrain resumes at the next seed.
    """
    import keras

    clock = clock or RunClock(config)
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

    def scores_of(entry):
        if entry is None:
            return []
        return list(entry.get("val_accuracy_per_seed", [entry["val_accuracy"]]))

    def kept(trial):
        entry = done.get(trial.trial_id)
        path = os.path.join(out, "retrain", f"trial_{trial.trial_id}.keras")
        return entry if entry is not None and os.path.isfile(path) else None

    clock.plan(
        "retrain",
        config.retrain_epochs
        * sum(max(len(seeds) - len(scores_of(kept(t))), 0) for t in best),
    )
    results = []
    for rank, trial in enumerate(best, start=1):
        model_path = os.path.join(
            out, "retrain", f"trial_{trial.trial_id}.keras"
        )
        entry = kept(trial)
        scores = scores_of(entry)
        if len(scores) >= len(seeds):
            _say(
                config,
                f"[retrain {rank}/{len(best)}] trial {trial.trial_id}: kept",
            )
            results.append(entry)
            continue
        searched = oracle.space.candidate(trial.hyperparameters.values)
        searched_arch, cost = searched.arch, searched.cost
        arch, multiplier = searched_arch, 1.0
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
            epoch_line = _epoch_line(config, clock, "retrain")
            with phases("retrain"):
                model, metrics = train_candidate(
                    arch,
                    data,
                    config.proxy_resolution,
                    settings,
                    verbose=2 if config.verbose >= 2 else 0,
                    callbacks=[epoch_line],
                )
            if not scores or metrics["val_accuracy"] > max(scores):
                save_searched_model(model, model_path)
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


def _qat_and_export(config, data, winner_path, out, phases, clock=None):
    """QAT fine-tuning of the winner, int8 export, EdgeTPU report."""
    import keras

    from tfeff.export.edgetpu import to_edgetpu
    from tfeff.export.tflite import TFLiteRunner
    from tfeff.export.tflite import to_tflite
    from tfeff.profile.latency import measure_tflite_latency
    from tfeff.quantize import quantize_aware

    clock = clock or RunClock(config)
    result_path = os.path.join(out, "export.json")
    tflite_path = os.path.join(out, "model_int8.tflite")
    if os.path.isfile(result_path) and os.path.isfile(tflite_path):
        with open(result_path) as file:
            _say(config, "[export] kept")
            return json.load(file)
    model = load_model(winner_path)
    x_train = data.x_train.astype("float32")
    x_val = data.x_val.astype("float32")
    representative = [x_train[i : i + 32] for i in range(0, 256, 32)]
    with phases("qat"):
        epochs = config.qat_epochs
        _say(
            config,
            f"[qat] quantization-aware training of the winner, {epochs} "
            f"epoch{'s' if epochs != 1 else ''} (int8 rounding simulated)",
        )
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
                callbacks=[_epoch_line(config, clock, "qat", QAT_EPOCH_UNITS)],
            )
        qat_accuracy, _ = evaluate_accuracy(qat, x_val, data.y_val)
        float_accuracy, _ = evaluate_accuracy(model, x_val, data.y_val)
        clock.plan("qat", 0)
        _say(
            config,
            f"    validation accuracy {qat_accuracy:.4f} simulated int8, "
            f"{float_accuracy:.4f} float ({clock.text()})",
        )
    with phases("export"):
        _say(config, "[export] int8 TFLite file, checked on the validation set")
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
        _say(
            config,
            f"    validation accuracy {int8_accuracy:.4f}, {latency:.2f} ms "
            f"per image (1 thread, {config.proxy_resolution}x"
            f"{config.proxy_resolution}, this host)",
        )
        if not runner.uses_xnnpack:
            _say(
                config,
                "    Warning: XNNPACK cannot prepare this file (the time "
                "above is TFLite's reference kernels'), and a stock LiteRT "
                "interpreter with default settings may abort on it.",
            )
        if config.edgetpu:
            _say(config, "[export] EdgeTPU compatibility report")
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


def _check_latency_budget(config, space, data):
    """The latency table, once the cheapest candidate is known to fit."""
    from tfeff.nas.budget import BudgetExceededError
    from tfeff.nas.budget import smallest_candidate
    from tfeff.nas.latency import LatencyTable

    table = LatencyTable(
        resolution=config.resolution,
        num_classes=data.num_classes,
        mode=config.latency_mode,
        num_threads=config.latency_threads,
        verbose=config.verbose >= 2,
    )
    threads = config.latency_threads
    where = (
        f"{config.latency_mode} TFLite, {threads} thread"
        f"{'s' if threads != 1 else ''}, this host"
    )
    _say(
        config,
        f"Latency budget: {config.latency_budget_ms:.3g} ms ({where}); block "
        f"table {table.path} ({len(table.entries)} blocks measured before)",
    )
    # A budget nothing can meet is an error before the search: the
    # cheapest corner of the space is (nearly always) the fastest.
    cheapest = smallest_candidate(space)
    fastest = table.predict(space.candidate(cheapest[0]).arch)
    table.save()
    if fastest > config.latency_budget_ms:
        raise BudgetExceededError(
            f"No candidate of the space fits a latency budget of "
            f"{config.latency_budget_ms:.3g} ms: the fastest takes "
            f"{fastest:.2f} ms ({where}). Raise --latency-budget (a "
            "baseline's latency: tfeff-profile efficientnet_b0 --latency) "
            "or lower --resolution."
        )
    return table


def _choose_winner(config, data, oracle, out, phases, clock):
    """(winner entry, retrained entries): the best retrained trial, its
    model moved to `winner.keras`; the other retrained models deleted."""
    info_path = os.path.join(out, "winner.json")
    winner_path = os.path.join(out, "winner.keras")
    if os.path.isfile(info_path):
        with open(info_path) as file:
            winner = json.load(file)
        with open(os.path.join(out, "retrain.json")) as file:
            retrained = json.load(file)
        clock.plan("retrain", 0)
        _say(config, "[retrain] kept")
    else:
        retrained = _retrain(config, data, oracle, out, phases, clock)
        if not retrained:
            raise RuntimeError(
                "No trial completed; see trials.jsonl for the errors."
            )
        winner = max(retrained, key=lambda entry: entry["val_accuracy"])
        # Recorded before the move: a run killed between the two finds the
        # winner's model where winner.json says.
        atomic_write_json(info_path, winner)
    if not os.path.isfile(winner_path):
        os.replace(os.path.join(out, winner["model"]), winner_path)
    # One float copy of the winner; the others' scores are in retrain.json.
    shutil.rmtree(os.path.join(out, "retrain"), ignore_errors=True)
    atomic_write_text(
        os.path.join(out, "winner_arch.txt"), winner["arch"] + "\n"
    )
    winner = dict(winner, model="winner.keras")
    retrained = [
        {key: value for key, value in entry.items() if key != "model"}
        for entry in retrained
    ]
    return winner, retrained


def run_search(config):
    """Runs the whole pipeline; returns the summary dict.

    In a keras-tuner worker process (KERASTUNER_TUNER_ID not "chief") only
    the search phase runs; the chief does the rest.

    Raises:
        ValueError: before any training: a budget nothing meets, another
            search in `config.out`, settings a resumed run does not match.
    """
    from tfeff.nas.proxy import enable_determinism

    phases = _Phases()
    start = time.perf_counter()
    clock = RunClock(config)
    enable_determinism()
    out = config.out
    prepare(config)
    try:
        return _run(config, phases, start, clock)
    finally:
        unlock_run_folder(out)


def _run(config, phases, start, clock):
    """The pipeline as steps: data, budget, search, winner, QAT and export,
    report. Each step keeps what it finished, so a rerun resumes."""
    from tfeff.nas.tuner import is_worker

    resuming = _check_resumable(config)
    with phases("data"):
        data = load_dataset(
            config.dataset, config.proxy_resolution, seed=config.seed
        )
    budget, space = _costed_space(config, data)
    latency_table, constraint = _latency_constraint(config, space, data, budget)
    if not resuming and not is_worker():
        # Written once every check has passed: a run that failed its checks
        # leaves nothing to --resume.
        atomic_write_json(
            os.path.join(config.out, "config.json"), config.to_json()
        )
    oracle = _search(config, data, space, budget, constraint, phases, clock)
    if oracle is None:  # A keras-tuner worker: the chief does the rest.
        return None
    if latency_table is not None:
        latency_table.save()
    winner, retrained = _choose_winner(
        config, data, oracle, config.out, phases, clock
    )
    _announce_winner(config, oracle, winner)
    winner_path = os.path.join(config.out, "winner.keras")
    export = _qat_and_export(
        config, data, winner_path, config.out, phases, clock
    )
    if latency_table is not None:
        with phases("latency check"):
            winner["latency_check"] = latency_table.check(winner["arch"])
    summary = _write_report(
        config,
        data,
        budget,
        oracle,
        winner,
        retrained,
        export,
        resuming=resuming,
        phases=phases,
        start=start,
    )
    _say_done(config, summary)
    return summary


def _check_resumable(config):
    """Whether `config.out` holds this search already (refused if another)."""
    if os.path.isfile(os.path.join(config.out, "config.json")):
        _check_resume(config, config.out)
        return True
    return False


def _costed_space(config, data):
    """The budget with the data set's classifier, and the space costed so."""
    budget = config.budget.with_classes(data.num_classes)
    space = build_space(config, budget)
    if budget.macs is not None:
        check_budget(space, budget.macs)  # Exact now, with the classifier.
    _say(config, f"Data: {data.describe()}")
    _say(config, f"Budget: {budget.describe()}")
    return budget, space


def _latency_constraint(config, space, data, budget):
    """(latency table, the sampler's constraint), or (None, None) without a
    latency budget."""
    if budget.latency_ms is None:
        return None, None
    table = _check_latency_budget(config, space, data)

    def constraint(candidate):
        latency, why = table.fits(candidate.arch, budget.latency_ms)
        return why or {"latency_ms": latency}

    return table, constraint


def _search(config, data, space, budget, constraint, phases, clock):
    """Runs (or resumes) the trials; returns the oracle, None on a worker."""
    from tfeff.nas.oracle import BudgetedOracle
    from tfeff.nas.tuner import ProxyTuner
    from tfeff.nas.tuner import is_worker

    baselines = []
    if config.baselines:
        # Scaled to the MACs budget and, with a latency budget, down to the
        # widest scaling that meets it.
        fits = None
        if constraint is not None:

            def fits(values):
                return isinstance(constraint(space.candidate(values)), dict)

        baselines = scaled_baselines(space, budget.macs, fits=fits)
    oracle = BudgetedOracle(
        space,
        budget.macs,
        strategy=config.oracle,
        max_trials=config.trials,
        seed=config.seed,
        seed_values=[values for _, values in baselines],
        seed_labels=[label for label, _ in baselines],
        constraint=constraint,
    )
    tuner = ProxyTuner(
        oracle,
        data,
        config.proxy,
        directory=config.out,
        project_name="tuner",
        overwrite=False,
        verbose=config.verbose,
        clock=clock,
    )
    with phases("search"):
        tuner.search(verbose=0)  # ProxyTuner prints its own progress.
    if is_worker():
        return None
    oracle = tuner.oracle
    oracle.write_trials_log()
    if config.trials > len(oracle.end_order):
        _say(
            config,
            f"The space within the budget ran out after "
            f"{len(oracle.end_order)} of {config.trials} trials.",
        )
    return oracle


def _announce_winner(config, oracle, winner):
    # Whether the search found anything better than what it was seeded with.
    baseline = oracle.candidates.get(winner["trial_id"], {}).get("baseline")
    winner["baseline"] = baseline
    _say(
        config,
        f"Winner: trial {winner['trial_id']}, "
        + (f"the seeded baseline {baseline}, " if baseline else "")
        + f"{format_macs(winner['macs'])}, validation accuracy "
        f"{winner['val_accuracy']:.4f}",
    )


def _write_report(
    config,
    data,
    budget,
    oracle,
    winner,
    retrained,
    export,
    *,
    resuming,
    phases,
    start,
):
    """`summary.json` and the Pareto plots (`pareto.png`, and
    `pareto_latency.png` for a latency budget); returns the summary."""
    from tfeff.nas.report import plot_pareto

    out = config.out
    records = [oracle.trial_record(oracle.trials[t]) for t in oracle.end_order]
    baseline_ids = {
        record["baseline"]: record["trial_id"]
        for record in records
        if record.get("baseline")
    }
    summary = {
        "command_settings": config.to_json(),
        "macs_unit": MACS_UNIT,
        "budget": budget.to_json(),
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
        budget_macs=budget.macs,
        title=f"Search on {data.name} · budget {budget.describe()}",
    )
    if budget.latency_ms is not None:
        # The second plot of a latency search: what MnasNet plots.
        plot_pareto(
            records,
            os.path.join(out, "pareto_latency.png"),
            baselines=baseline_ids,
            winner_trial=winner["trial_id"],
            title=f"Search on {data.name} · latency budget "
            f"{budget.latency_ms:.3g} ms",
            x="latency_ms",
            budget_ms=budget.latency_ms,
        )
    return summary


def _say_done(config, summary):
    winner = summary["winner"]
    baseline = winner.get("baseline")
    latency = ""
    if "latency_check" in winner:
        check = winner["latency_check"]
        latency = (
            f", {check['measured_ms']:.2f} ms measured at "
            f"{config.resolution}x{config.resolution} (table: "
            f"{check['predicted_ms']:.2f} ms)"
        )
        if not check.get("xnnpack", True):
            _say(
                config,
                "Warning: XNNPACK cannot prepare the whole winner at "
                f"{config.resolution}x{config.resolution}, although it runs "
                "each of its blocks: the measured latency is TFLite's "
                "reference kernels', and a stock LiteRT interpreter with "
                "default settings aborts on the file.",
            )
    _say(
        config,
        f"Done in {format_duration(summary['wall_seconds_this_run'])}. Winner: "
        f"trial {winner['trial_id']}"
        + (f" (the seeded {baseline})" if baseline else "")
        + f", {format_macs(winner['macs'])}{latency}, validation accuracy "
        f"{winner['val_accuracy']:.4f} float, "
        f"{winner['int8_val_accuracy']:.4f} int8 TFLite. Report: "
        f"{config.out}",
    )


__all__ = ["SearchConfig", "default_out_dir", "latest_run", "run_search"]
