"""Learning-rate schedules of the published recipes, as Keras schedules.

- `WarmupExponentialDecay`: EfficientNet (tensorflow/tpu utils.py
  `build_learning_rate`): linear warm-up from 0, then
  `peak * rate ** floor(step / decay_steps)`, the decay counted from step 0
  (ecosystem.md §4).
- `CyclicLR` / `HybridLR`: EdgeNets' per-epoch sawtooth (utilities/
  lr_scheduler.py, ecosystem.md §3.2): epoch 0 warms up at `min_lr`; then
  cycles of `cycle_len` epochs from `cycle_len * min_lr` down to `min_lr`;
  `min_lr` is multiplied by `gamma` at each epoch in `steps`. The hybrid
  schedule runs the sawtooth until `clr_max`, then decays linearly to 0.

All are functions of the optimizer step (so they resume with it) and of
`steps_per_epoch` for the per-epoch ones.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras
import numpy as np


@keras.saving.register_keras_serializable(package="tfeff")
class WarmupExponentialDecay(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(
        self, peak, warmup_steps, decay_steps, decay_rate, staircase=True
    ):
        self.peak = float(peak)
        self.warmup_steps = int(warmup_steps)
        self.decay_steps = max(1, int(decay_steps))
        self.decay_rate = float(decay_rate)
        self.staircase = bool(staircase)

    def __call__(self, step):
        ops = keras.ops
        step = ops.cast(step, "float32")
        exponent = step / self.decay_steps
        if self.staircase:
            exponent = ops.floor(exponent)
        decayed = self.peak * ops.power(self.decay_rate, exponent)
        if self.warmup_steps <= 0:
            return decayed
        warm = self.peak * step / self.warmup_steps
        return ops.where(step < self.warmup_steps, warm, decayed)

    def get_config(self):
        return {
            "peak": self.peak,
            "warmup_steps": self.warmup_steps,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
        }


def cyclic_lr_per_epoch(epochs, min_lr, cycle_len=5, steps=(), gamma=0.5):
    """EdgeNets CyclicLR values for epochs 0..epochs-1 (numpy)."""
    values = []
    current = float(min_lr)
    counter = 0
    for epoch in range(epochs):
        if epoch in steps and epoch > 1:
            current *= gamma
        if epoch == 0:
            values.append(current)  # one warm-up epoch at min_lr
            continue
        values.append(current * cycle_len - counter * current)
        counter = (counter + 1) % cycle_len
    return np.round(np.asarray(values, np.float64), 6)


def hybrid_lr_per_epoch(epochs, base_lr, clr_max, cycle_len=5):
    """EdgeNets HybirdLR: the sawtooth to `clr_max`, then linear to 0."""
    values = list(cyclic_lr_per_epoch(min(epochs, clr_max), base_lr, cycle_len))
    span = epochs - clr_max + 1
    for epoch in range(clr_max, epochs):
        values.append(
            round(base_lr - base_lr * (epoch - clr_max + 1) / span, 6)
        )
    return np.asarray(values, np.float64)


@keras.saving.register_keras_serializable(package="tfeff")
class PerEpochSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A learning rate per epoch (a table), looked up from the step."""

    def __init__(self, values, steps_per_epoch):
        self.values = [float(v) for v in values]
        self.steps_per_epoch = max(1, int(steps_per_epoch))

    def __call__(self, step):
        ops = keras.ops
        epoch = ops.cast(step, "int32") // self.steps_per_epoch
        epoch = ops.minimum(epoch, len(self.values) - 1)
        return ops.take(ops.convert_to_tensor(self.values, "float32"), epoch)

    def get_config(self):
        return {"values": self.values, "steps_per_epoch": self.steps_per_epoch}
