"""The settings of a search run and of its proxy training, as frozen values.

Pure Python (no Keras): `tfeff-search --help` and the checks of its
arguments run before TensorFlow starts.
"""

import dataclasses
import datetime
import glob
import os

from tfeff.data.names import check_dataset_name
from tfeff.nas.budget import Budget
from tfeff.nas.space import KINDS


@dataclasses.dataclass(frozen=True)
class ProxySettings:
    """How a candidate is trained on the proxy task.

    Attributes:
        epochs: int. Training epochs.
        batch_size: int.
        learning_rate: float. Peak SGD learning rate.
        momentum: float. Nesterov momentum.
        weight_decay: float. Decoupled weight decay.
        label_smoothing: float.
        bn_momentum: float. Batch-norm moving-average momentum while training.
        dropout_rate: float. Dropout before the classifier.
        seed: int. Weight initialization and shuffling.
    """

    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 0.02
    momentum: float = 0.9
    weight_decay: float = 0.0
    label_smoothing: float = 0.1
    bn_momentum: float = 0.9
    dropout_rate: float = 0.1
    seed: int = 0

    def __post_init__(self):
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or value < 1
            ):
                raise ValueError(
                    f"`{name}` must be a positive int. Received: {name}={value!r}"
                )
        if not self.learning_rate > 0:
            raise ValueError(
                "`learning_rate` must be > 0. Received: "
                f"learning_rate={self.learning_rate!r}"
            )


MACS_UNIT = "MACs (multiply-adds)"


@dataclasses.dataclass(frozen=True)
class SearchConfig:
    """Settings of one search run (see `tfeff-search --help`)."""

    budget_macs: int | None = 400_000_000
    latency_budget_ms: float | None = None
    latency_mode: str = "int8"
    latency_threads: int = 1
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
        positive_int("seed", 0)  # numpy's generators take no negative seed
        positive_int("latency_threads")
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

    @property
    def budget(self):
        """The `Budget` these settings ask for (classifier not yet known)."""
        return Budget(
            macs=self.budget_macs,
            latency_ms=self.latency_budget_ms,
            resolution=self.resolution,
        )

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
