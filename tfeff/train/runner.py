"""The training loop shared by the recipes: distribution, precision,
fault tolerance and the run directory.

`run_training(...)` fits a model built by the caller under the chosen
`tf.distribute` strategy and writes, under `out`:

    config.yaml        the resolved configuration
    arch.txt           the model's arch string (spec models)
    backup/            AtomicBackupAndRestore (resume after a kill; a kill
                       or a full disk during the backup keeps the last one)
    checkpoints/       last.keras and best.keras, written atomically
    logs/              TensorBoard
    history.csv/.json  one row per epoch (rewritten atomically; a re-run
                       epoch replaces its row), history.png the curves
    model.keras        the final model
    evaluation.json    the final evaluation

Killed at any point (SIGKILL included) and started again with the same
command, a run resumes from the last completed epoch and ends with the
same number of epochs; started again after it finished, it does nothing
but re-evaluate. Multi-worker runs (`strategy="multi_worker"`, TF_CONFIG
set) give each non-chief worker its own backup folder under
`out/workers/` and only the chief writes the rest (Keras 3 callbacks know
nothing of workers; ecosystem.md §0.5, §8).
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import csv
import io
import json
import os

import keras

from tfeff.files import atomic_write_json
from tfeff.files import atomic_write_text
from tfeff.files import save_figure_atomically
from tfeff.files import save_keras_atomically
from tfeff.train._compat import mend_multi_worker_fit
from tfeff.train.backup import AtomicBackupAndRestore
from tfeff.train.config import dump_yaml

DISTRIBUTION_STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def make_strategy(name):
    """A `tf.distribute` strategy by name (see `DISTRIBUTION_STRATEGIES`)."""
    import tensorflow as tf

    if name not in DISTRIBUTION_STRATEGIES:
        raise ValueError(
            f"`strategy` must be one of {DISTRIBUTION_STRATEGIES}. Received: {name!r}"
        )
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError(
                "strategy='multi_worker' needs the TF_CONFIG environment variable: "
                '{"cluster": {"worker": ["host1:port", "host2:port"]}, '
                '"task": {"type": "worker", "index": 0}} on every worker '
                "(its own index on each)."
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def worker_role():
    """(is_chief, worker index) from TF_CONFIG; (True, 0) without it."""
    config = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    task = config.get("task", {})
    kind, index = task.get("type", "worker"), int(task.get("index", 0))
    cluster = config.get("cluster", {})
    if "chief" in cluster:
        return kind == "chief", index
    return kind in ("worker", "chief") and index == 0, index


def set_precision(mode):
    if mode not in PRECISIONS:
        raise ValueError(
            f"`mixed_precision` must be one of {PRECISIONS}. Received: {mode!r}"
        )
    keras.config.set_dtype_policy(mode)


class AtomicCheckpoints(keras.callbacks.Callback):
    """`last.keras` every epoch and `best.keras` when `monitor` improves,
    each written to a temporary file and renamed (Keras' ModelCheckpoint
    writes in place, ecosystem.md §8)."""

    def __init__(self, directory, monitor="val_loss", mode="min"):
        super().__init__()
        self.directory = directory
        self.monitor = monitor
        self.mode = mode
        self._state_path = os.path.join(directory, "best.json")
        self.best = None
        if os.path.isfile(self._state_path):
            with open(self._state_path) as f:
                self.best = json.load(f).get("value")

    def _better(self, value):
        if self.best is None:
            return True
        return value < self.best if self.mode == "min" else value > self.best

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        save_keras_atomically(
            self.model, os.path.join(self.directory, "last.keras")
        )
        value = logs.get(self.monitor)
        if value is not None and self._better(float(value)):
            self.best = float(value)
            save_keras_atomically(
                self.model, os.path.join(self.directory, "best.keras")
            )
            atomic_write_json(
                self._state_path,
                {"monitor": self.monitor, "value": self.best, "epoch": epoch},
            )


class HistoryWriter(keras.callbacks.Callback):
    """history.json / history.csv / history.png, one row per epoch, kept
    across resumes (a repeated epoch replaces its row)."""

    def __init__(self, directory):
        super().__init__()
        self.json_path = os.path.join(directory, "history.json")
        self.csv_path = os.path.join(directory, "history.csv")
        self.png_path = os.path.join(directory, "history.png")

    def rows(self):
        if not os.path.isfile(self.json_path):
            return []
        with open(self.json_path) as f:
            return json.load(f)

    def on_epoch_end(self, epoch, logs=None):
        rows = [r for r in self.rows() if r["epoch"] < epoch]
        rows.append(
            {"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()}}
        )
        atomic_write_json(self.json_path, rows)
        keys = sorted({k for r in rows for k in r} - {"epoch"})
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, ["epoch", *keys])
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.csv_path, buffer.getvalue())
        plot_history(rows, self.png_path)


def plot_history(rows, path):
    """Training curves (loss and each metric, train and validation)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    names = sorted(
        {k[4:] if k.startswith("val_") else k for r in rows for k in r}
        - {"epoch", "learning_rate"}
    )
    if not names:
        return
    fig, axes = plt.subplots(
        1, len(names), figsize=(4 * len(names), 3), squeeze=False
    )
    epochs = [r["epoch"] + 1 for r in rows]
    for axis, name in zip(axes[0], names):
        for key, style in ((name, "-"), (f"val_{name}", "--")):
            values = [r.get(key) for r in rows]
            if any(v is not None for v in values):
                axis.plot(epochs, values, style, marker="o", label=key)
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.legend(fontsize=7)
    fig.tight_layout()
    save_figure_atomically(fig, path, dpi=90)


def prepare_runtime(config):
    """Precision policy and the distribution strategy, before any other
    TensorFlow work (MultiWorkerMirroredStrategy must configure collective
    ops at program start: recipes call this before building data)."""
    set_precision(config.get("mixed_precision", "float32"))
    return make_strategy(config.get("strategy", "default"))


def run_training(
    config,
    *,
    strategy=None,
    build_and_compile,
    train_data,
    val_data,
    out,
    monitor="val_loss",
    monitor_mode="min",
    evaluate=None,
    steps_per_epoch=None,
):
    """Fits, checkpoints, resumes; returns the evaluation dict.

    Args:
        config: the resolved config (dict with `epochs`, `strategy`,
            `mixed_precision`, `seed`).
        build_and_compile: `fn() -> keras.Model`, called inside the
            strategy's scope; it builds and compiles the model.
        train_data, val_data: `tf.data.Dataset`s of batches.
        out: the run directory.
        strategy: from `prepare_runtime(config)` (made here if None).
        evaluate: optional `fn(model) -> dict` for the final report;
            defaults to `model.evaluate(val_data)`.
    """
    is_chief, index = worker_role()
    os.makedirs(out, exist_ok=True)
    if is_chief:
        atomic_write_text(os.path.join(out, "config.yaml"), dump_yaml(config))
    if strategy is None:
        strategy = prepare_runtime(config)
    keras.utils.set_random_seed(int(config.get("seed", 0)))
    with strategy.scope():
        model = build_and_compile()
    mend_multi_worker_fit(model, strategy)  # Keras' own code, mended
    if is_chief and getattr(model, "arch", None) is not None:
        from tfeff.spec import encode_arch

        atomic_write_text(
            os.path.join(out, "arch.txt"), encode_arch(model.arch) + "\n"
        )
    backup = os.path.join(out, "backup")
    if not is_chief:
        backup = os.path.join(out, "workers", f"worker-{index}", "backup")
    callbacks = []
    if is_chief:
        callbacks.append(HistoryWriter(out))
        callbacks.append(
            AtomicCheckpoints(
                os.path.join(out, "checkpoints"), monitor, monitor_mode
            )
        )
        callbacks.append(keras.callbacks.TensorBoard(os.path.join(out, "logs")))
    # Last, so that everything above is written before an epoch counts as
    # done: a kill in between repeats the epoch (rows are replaced).
    callbacks.append(
        AtomicBackupAndRestore(
            backup, save_freq="epoch", delete_checkpoint=False
        )
    )
    model.fit(
        train_data,
        validation_data=val_data,
        epochs=int(config["epochs"]),
        steps_per_epoch=steps_per_epoch,
        callbacks=callbacks,
        verbose=int(config.get("verbose", 2)),
    )
    report = (
        evaluate(model)
        if evaluate
        else model.evaluate(val_data, return_dict=True, verbose=0)
    )
    # NaN (e.g. COCO's AP for a size with no objects) is written as null.
    report = {
        k: (None if float(v) != float(v) else float(v))
        for k, v in report.items()
    }
    if is_chief:
        save_keras_atomically(model, os.path.join(out, "model.keras"))
        atomic_write_json(os.path.join(out, "evaluation.json"), report)
    return model, report
