"""Time left over a whole search run: search, retrain, QAT and export.

The work is counted in proxy training epochs. On the proxy task an epoch's
cost barely depends on the candidate (at 32x32 the fixed costs of a step
dominate: the trials of the README's run, 200 to 400 M MACs, each took
45-68 s for 2 epochs), so the rate is the wall time of this process so far
over the epochs it has finished, and what is left is the epochs still to
run at that rate. A QAT epoch costs about three float epochs (fake-quant
ops on every tensor) and the int8 export with its checks about one; both
figures are from that run's `phase_seconds` (benchmarks/RESULTS.md) and
only steer the estimate.
"""

import time

QAT_EPOCH_UNITS = 3.0
QAT_SETUP_UNITS = 0.5  # quantize_aware, two evaluations.
EXPORT_UNITS = 1.0


def format_duration(seconds):
    """`42s`, `3m07s`, `1h02m`."""
    seconds = int(round(max(seconds, 0.0)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class RunClock:
    """Epochs left per phase, and the time they will take at this run's rate.

    Args:
        config: `SearchConfig`; the plan of a fresh run. Each phase replaces
            its share with what is really left when it starts (a resumed
            run has less to do).
    """

    def __init__(self, config):
        self.start = time.perf_counter()
        self.units_done = 0.0
        self.left_units = {
            "search": float(config.trials * config.epochs_per_trial),
            "retrain": float(
                config.retrain_top
                * config.retrain_seeds
                * config.retrain_epochs
            ),
            "qat": config.qat_epochs * QAT_EPOCH_UNITS + QAT_SETUP_UNITS,
            "export": EXPORT_UNITS,
        }

    def plan(self, phase, units):
        """What is left of `phase` now, in epochs."""
        self.left_units[phase] = float(max(units, 0.0))

    def done(self, phase, units):
        """`units` epochs of `phase` finished."""
        self.units_done += units
        self.left_units[phase] = max(self.left_units[phase] - units, 0.0)

    def seconds_left(self):
        """Estimated seconds to the end of the run; None before any epoch."""
        if self.units_done <= 0:
            return None
        rate = (time.perf_counter() - self.start) / self.units_done
        return rate * sum(self.left_units.values())

    def text(self):
        """`~12m30s left in all` (nothing before the first epoch)."""
        seconds = self.seconds_left()
        if seconds is None:
            return ""
        return f"~{format_duration(seconds)} left in all"

    def epoch_callback(self, phase, say, epochs, units_per_epoch=1.0):
        """A Keras callback: one line per epoch with the time left."""
        import keras

        clock = self

        class EpochLine(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.epoch_start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                clock.done(phase, units_per_epoch)
                logs = logs or {}
                metrics = ", ".join(
                    f"{name} {logs[name]:.4f}"
                    for name in ("loss", "accuracy")
                    if name in logs
                )
                seconds = time.perf_counter() - self.epoch_start
                say(
                    f"    epoch {epoch + 1}/{epochs}: {metrics} "
                    f"({format_duration(seconds)}; {clock.text()})"
                )

        return EpochLine()
