"""The proxy task: train a candidate briefly at a small resolution.

A trial costs one graph trace plus a few epochs; on 2 CPU cores the trace of
an EfficientNet-B0-sized training step dominates (~10 s with Adam's
per-variable updates against ~5 s with SGD), so the proxy uses SGD with
Nesterov momentum, a one-epoch warmup and cosine decay. The short schedule
leaves batch-norm moving statistics far from the data with Keras' 0.99
momentum; the proxy trains with 0.9 so validation sees calibrated
statistics (the final model keeps the published 0.99).
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import math
import time

import keras
import numpy as np

from tfeff.models.builder import build_image_classifier
from tfeff.nas.config import ProxySettings


def enable_determinism():
    """Makes proxy training repeatable for a seed (TensorFlow backend).

    Regularized evolution and the Bayesian surrogate propose from earlier
    scores, so a seed gives the same trials only if training gives the same
    scores; TensorFlow's multithreaded CPU kernels do not without op
    determinism. Other backends are left as they are.
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def build_candidate(arch, num_classes, resolution, settings):
    """The candidate's classifier with the proxy's batch-norm momentum."""
    keras.utils.set_random_seed(settings.seed)
    model = build_image_classifier(
        arch,
        num_classes=num_classes,
        input_shape=(resolution, resolution, 3),
        dropout_rate=settings.dropout_rate,
    )
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = settings.bn_momentum
    return model


def compile_for_proxy(model, steps_per_epoch, settings):
    total = steps_per_epoch * settings.epochs
    warmup = min(steps_per_epoch, max(total - 1, 0))
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0,
        decay_steps=max(total - warmup, 1),
        warmup_target=settings.learning_rate,
        warmup_steps=warmup,
    )
    model.compile(
        optimizer=keras.optimizers.SGD(
            schedule,
            momentum=settings.momentum,
            nesterov=True,
            weight_decay=settings.weight_decay or None,
        ),
        loss=keras.losses.CategoricalCrossentropy(
            label_smoothing=settings.label_smoothing
        ),
        metrics=["accuracy"],
        jit_compile=False,  # XLA's CPU compile costs more than it saves here.
    )


def evaluate_accuracy(model, x, y, batch_size=256):
    """Top-1 accuracy and cross-entropy with the model in inference mode.

    Called eagerly in chunks: tracing a separate test step costs more than
    the few hundred validation images.
    """
    correct, loss = 0, 0.0
    for start in range(0, len(x), batch_size):
        probs = keras.ops.convert_to_numpy(
            model(x[start : start + batch_size], training=False)
        )
        labels = y[start : start + batch_size]
        correct += int(np.sum(np.argmax(probs, -1) == labels))
        picked = probs[np.arange(len(labels)), labels]
        loss += float(-np.sum(np.log(np.clip(picked, 1e-7, 1.0))))
    return correct / len(x), loss / len(x)


def train_candidate(
    arch, data, resolution, settings=ProxySettings(), *, verbose=0, callbacks=()
):
    """Builds `arch` and trains it on `data` (an `ImageDataset`).

    Args:
        arch: arch string or ArchSpec.
        data: `tfeff.data.ImageDataset` already at `resolution`.
        resolution: int. Proxy input resolution.
        settings: `ProxySettings`.
        verbose: Keras `fit` verbosity.
        callbacks: extra Keras callbacks.

    Returns:
        (model, metrics): the trained model and a dict with `val_accuracy`,
        `val_loss`, `accuracy` (training), `train_seconds`.
    """
    if data.resolution != resolution:
        raise ValueError(
            f"The data set is at {data.resolution}px but the proxy resolution "
            f"is {resolution}px."
        )
    start = time.perf_counter()
    model = build_candidate(arch, data.num_classes, resolution, settings)
    steps = math.ceil(len(data.x_train) / settings.batch_size)
    compile_for_proxy(model, steps, settings)
    targets = keras.utils.to_categorical(data.y_train, data.num_classes)
    history = model.fit(
        data.x_train.astype("float32"),
        targets,
        batch_size=settings.batch_size,
        epochs=settings.epochs,
        shuffle=True,
        verbose=verbose,
        callbacks=list(callbacks),
    )
    val_accuracy, val_loss = evaluate_accuracy(
        model, data.x_val.astype("float32"), data.y_val
    )
    metrics = {
        "val_accuracy": float(val_accuracy),
        "val_loss": float(val_loss),
        "accuracy": float(history.history["accuracy"][-1]),
        "train_seconds": float(time.perf_counter() - start),
    }
    return model, metrics
