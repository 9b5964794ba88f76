"""Per-block TFLite latency table for latency-budgeted search.

A candidate's latency is predicted as the sum of its blocks' latencies, each
measured once on this host as a one-block TFLite model at the block's input
size (ProxylessNAS / once-for-all style: the key is the block's spec and
input shape; ../shared/reference/deployment.md §4.1). Entries are measured
lazily, the first time a candidate needs them, and cached on disk in a JSON
file keyed by the host (machine name, CPU model, core count), the TFLite
mode, thread count and TensorFlow version, so later searches on the same
host reuse them. `check(arch)` measures the whole model and reports the
table's error: per-invoke overhead and cross-block fusion make the sum
differ from the whole.

From a cold cache most of a latency-budgeted search's time went into
measuring blocks of candidates that were then refused. `fits(arch, budget)`
therefore first estimates the blocks the table lacks from the measured
milliseconds per MAC of blocks of the same kind, and refuses without
measuring a candidate whose estimate exceeds the budget by more than
`screen_margin` (20 %); the rest are measured and judged on the table.
"""

import hashlib
import os
import platform
import re
import time

import numpy as np

from tfeff.files import atomic_write_json

# A candidate whose estimated latency exceeds the budget by more than this
# is refused without measuring its missing blocks. The estimate's error on
# the baselines' blocks is recorded in benchmarks/RESULTS.md.
SCREEN_MARGIN = 0.2

CACHE_ENV = "TFEFF_CACHE_DIR"


def cache_dir():
    """`$TFEFF_CACHE_DIR`, else `$XDG_CACHE_HOME/tfeff`, else `~/.cache/tfeff`."""
    if os.environ.get(CACHE_ENV):
        return os.environ[CACHE_ENV]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    return os.path.join(base, "tfeff")


def host_settings(mode, num_threads):
    """What a latency depends on besides the block: the host and settings."""
    import tensorflow as tf

    from tfeff.profile.latency import cpu_model

    return {
        "host": platform.node(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "tensorflow": tf.__version__,
        "mode": mode,
        "num_threads": num_threads,
        # How probes are built and timed; a change starts a new table
        # (2: batch-norm statistics from the calibration inputs; 3: large
        # depthwise kernels without the pieces that read only padding on
        # maps smaller than the kernel).
        "probe_version": 3,
    }


def _block_key(instance, height, width):
    from tfeff.spec.notation import ConvBnActSpec
    from tfeff.spec.notation import encode_block

    kind = None
    if isinstance(instance.spec, ConvBnActSpec):
        kind = "stem" if instance.stage == 0 else "head"
    token = encode_block(instance.spec, kind)
    return f"{token}@{height}x{width}x{instance.in_channels}"


class LatencyTable:
    """Measured per-block latencies of one host, mode and thread count.

    Args:
        resolution: int. Deployment resolution of the candidates.
        num_classes: int. Classifier width (part of the head entry).
        mode: `"int8"` (post-training quantized with random calibration
            data; latency does not depend on the values) or `"float32"`.
        num_threads: int. TFLite interpreter threads.
        directory: str. Cache folder; defaults to `cache_dir()`.
        runs: int. Timed invocations per measurement (median kept).
        verbose: bool. Print a line per measured block.
        screen_margin: float. `fits` refuses, unmeasured, a candidate
            estimated more than this fraction over the budget.
    """

    def __init__(
        self,
        resolution,
        num_classes,
        *,
        mode="int8",
        num_threads=1,
        directory=None,
        runs=20,
        verbose=True,
        screen_margin=SCREEN_MARGIN,
    ):
        if mode not in ("int8", "float32"):
            raise ValueError(
                f"`mode` must be 'int8' or 'float32'. Received: mode={mode!r}"
            )
        self.resolution = resolution
        self.num_classes = num_classes
        self.mode = mode
        self.num_threads = num_threads
        self.runs = runs
        self.verbose = verbose
        self.settings = host_settings(mode, num_threads)
        digest = hashlib.sha1(
            repr(sorted(self.settings.items())).encode()
        ).hexdigest()[:12]
        host = re.sub(r"[^A-Za-z0-9_.-]", "_", self.settings["host"])[:40]
        self.path = os.path.join(
            directory or cache_dir(), "latency", f"{host}-{digest}.json"
        )
        self.screen_margin = screen_margin
        self.entries = {}
        # Milliseconds per MAC of measured blocks, by block kind and key:
        # the estimate for blocks not yet measured.
        self._ms_per_mac = {}
        self.measured_blocks = 0  # In this process.
        self._unsaved = 0
        if os.path.isfile(self.path):
            import json

            with open(self.path) as file:
                saved = json.load(file)
            if saved.get("settings") == self.settings:
                self.entries = dict(saved.get("entries", {}))

    # --- entries -------------------------------------------------------------
    def _instances(self, arch):
        from tfeff.spec.notation import as_arch_spec
        from tfeff.spec.structure import expand_blocks

        spec = as_arch_spec(arch)
        rows = []
        size = self.resolution
        for instance in expand_blocks(spec):
            stride = getattr(instance.spec, "strides", 1)
            rows.append((_block_key(instance, size, size), instance, size))
            size = -(-size // stride)  # SAME padding: ceil(size / stride).
        channels = rows[-1][1].out_channels
        classifier = (
            f"classifier_{channels}_{self.num_classes}@{size}x{size}",
            None,
            size,
        )
        return spec, rows + [classifier], channels

    def _kinds_and_macs(self, spec, rows):
        """Each row's block kind and MACs (the classifier's: pooling and
        dense layers together)."""
        from tfeff.profile.cost import estimate_cost

        report = estimate_cost(
            spec, self.resolution, num_classes=self.num_classes
        )
        blocks = len(rows) - 1
        kinds = [row.kind for row in report.rows[:blocks]] + ["classifier"]
        macs = [row.macs for row in report.rows[:blocks]]
        macs.append(sum(row.macs for row in report.rows[blocks:]))
        return kinds, macs

    def _learn(self, rows, kinds, macs):
        for (key, _, _), kind, count in zip(rows, kinds, macs):
            if key in self.entries:
                self._ms_per_mac.setdefault(kind, {})[key] = self.entries[
                    key
                ] / max(count, 1)

    def _probe(self, spec, instance, size, channels):
        import keras

        from tfeff.blocks.conv import numerics_scope
        from tfeff.models.builder import IMAGENET_MEAN
        from tfeff.models.builder import IMAGENET_STD
        from tfeff.models.builder import add_preprocessing
        from tfeff.models.builder import emit_block

        if instance is None:  # Pooling + classifier.
            inputs = keras.Input((size, size, channels))
            x = keras.layers.GlobalAveragePooling2D()(inputs)
            for dense in spec.top:
                x = keras.layers.Dense(dense.filters)(x)
            x = keras.layers.Dense(self.num_classes, activation="softmax")(x)
            return keras.Model(inputs, x), False
        inputs = keras.Input((size, size, instance.in_channels))
        x = inputs
        is_stem = instance.stage == 0
        if is_stem:
            x = add_preprocessing(inputs, IMAGENET_MEAN, IMAGENET_STD)
        with numerics_scope(spec.numerics):
            x = emit_block(x, instance, name="probe")
        return keras.Model(inputs, x), is_stem

    def _measure_model(self, model, pixels):
        from tfeff.profile.latency import measure_model_latency

        return measure_model_latency(
            model,
            mode=self.mode,
            num_threads=self.num_threads,
            runs=self.runs,
            pixels=pixels,
            untrained=True,  # Probes and candidates have random weights.
        )

    def _measure(self, spec, instance, size, channels):
        model, pixels = self._probe(spec, instance, size, channels)
        return self._measure_model(model, pixels)

    def block_latencies(self, arch):
        """[(key, milliseconds)] for every block of `arch`, measuring
        the entries the table lacks."""
        import keras

        spec, rows, channels = self._instances(arch)
        # Each distinct block once: repeated blocks of a stage share a key.
        missing = list(
            {row[0]: row for row in rows if row[0] not in self.entries}.values()
        )
        for index, (key, instance, size) in enumerate(missing, start=1):
            start = time.perf_counter()
            self.entries[key] = self._measure(spec, instance, size, channels)
            self.measured_blocks += 1
            self._unsaved += 1
            if self.verbose:
                print(
                    f"    latency table: {key} = {self.entries[key]:.3f} ms "
                    f"({index}/{len(missing)}, measured in "
                    f"{time.perf_counter() - start:.1f} s)",
                    flush=True,
                )
        if missing:
            # Once per candidate, not per block: clearing costs about as
            # much as building a probe.
            keras.backend.clear_session()
            self._learn(rows, *self._kinds_and_macs(spec, rows))
        if self._unsaved >= 8:
            self.save()
        return [(key, self.entries[key]) for key, _, _ in rows]

    def predict(self, arch):
        """Predicted latency of `arch` in milliseconds."""
        return float(sum(ms for _, ms in self.block_latencies(arch)))

    def estimate(self, arch):
        """`(milliseconds, exact)` without measuring anything.

        Blocks in the table count their measured time; the others their
        MACs times the median milliseconds per MAC of measured blocks of the
        same kind (of all kinds, if none of its own). `exact` is True when
        every block was in the table (the estimate is then `predict`'s
        value); the milliseconds are None when nothing is measured yet.
        """
        spec, rows, _ = self._instances(arch)
        if all(key in self.entries for key, _, _ in rows):
            return float(sum(self.entries[key] for key, _, _ in rows)), True
        kinds, macs = self._kinds_and_macs(spec, rows)
        self._learn(rows, kinds, macs)
        every = [
            r for ratios in self._ms_per_mac.values() for r in ratios.values()
        ]
        if not every:
            return None, False
        total = 0.0
        for (key, _, _), kind, count in zip(rows, kinds, macs):
            if key in self.entries:
                total += self.entries[key]
                continue
            ratios = list(self._ms_per_mac.get(kind, {}).values()) or every
            total += float(np.median(ratios)) * count
        return total, False

    def fits(self, arch, budget_ms):
        """`(milliseconds, None)` when `arch` fits `budget_ms` on the
        table, else `(milliseconds or None, why)`: over the budget as
        measured, or (unmeasured) as estimated by more than
        `screen_margin`."""
        estimate, exact = self.estimate(arch)
        if (
            not exact
            and estimate is not None
            and estimate > budget_ms * (1.0 + self.screen_margin)
        ):
            return estimate, "over the latency budget (estimated)"
        latency = self.predict(arch)
        if latency > budget_ms:
            return latency, "over the latency budget"
        return latency, None

    def measure(self, arch, details=False):
        """Measured whole-model latency of `arch` in milliseconds (with
        `details`, `{"milliseconds", "xnnpack"}`)."""
        import keras

        from tfeff.models.builder import build_image_classifier
        from tfeff.profile.latency import measure_model_latency

        model = build_image_classifier(
            arch,
            num_classes=self.num_classes,
            input_shape=(self.resolution, self.resolution, 3),
        )
        latency = measure_model_latency(
            model,
            mode=self.mode,
            num_threads=self.num_threads,
            runs=self.runs,
            details=details,
            untrained=True,
        )
        keras.backend.clear_session()
        return latency

    def check(self, arch):
        """The table's prediction against a whole-model measurement.

        `xnnpack` False means XNNPACK could not prepare the whole model
        (its blocks alone it runs): the measurement is then TFLite's
        reference kernels', and a stock runtime aborts on the file.
        """
        predicted = self.predict(arch)
        measured = self.measure(arch, details=True)
        return {
            "predicted_ms": predicted,
            "measured_ms": measured["milliseconds"],
            "error_pct": 100.0
            * (predicted - measured["milliseconds"])
            / measured["milliseconds"],
            "xnnpack": measured["xnnpack"],
            "settings": self.settings,
        }

    def save(self):
        atomic_write_json(
            self.path, {"settings": self.settings, "entries": self.entries}
        )
        self._unsaved = 0
