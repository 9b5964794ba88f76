"""Fine-tuning a (pretrained) tfeff model on a folder of images, through to
a deployable int8 TFLite file: what `tfeff-train` runs.

Stages, each resumable after a kill (its folder under `out/` holds an
`AtomicBackupAndRestore` backup while it trains and its `model.keras`
once done; a finished stage is skipped on a rerun):

1. `frozen/`: the new classifier alone trains on the frozen backbone
   (`freeze_epochs`), so that its random start does not wreck the
   pretrained features;
2. `finetune/`: every layer trains (`epochs`); a pretrained network at a
   tenth of the rate and with its batch norms in inference mode (a small
   data set's batch statistics would undo the backbone's), a network
   from scratch at the full rate;
3. `qat/`: quantization-aware fine-tuning (`qat_epochs`, int8 rounding
   simulated, batch norm folded);
4. export: `model_int8.tflite` (or `--export float16|float32`) with the
   class names packed in its standard metadata, checked on the validation
   split against the Keras model (`verification.json`, float and int8
   accuracy) and a confusion matrix (`confusion_matrix.png/.json`).

The run folder also gets `config.json` (the resolved settings), the class
names (`labels.txt`), the training curves of each stage
(`<stage>/history.*`) and `model.keras` (the float model).
"""

import dataclasses
import json
import os

import numpy as np

from tfeff.files import atomic_write_json
from tfeff.files import atomic_write_text
from tfeff.files import load_model
from tfeff.train.finetune_config import EXPORTS
from tfeff.train.finetune_config import STAGES
from tfeff.train.finetune_config import FinetuneConfig
from tfeff.train.finetune_config import data_folder
from tfeff.train.metrics import confusion_matrix
from tfeff.train.recipe import set_batch_norm_momentum


def _say(message):
    print(message, flush=True)


def load_data(config, resolution):
    """(train, validation) `ImageDataset`s: the tree's own `train/` and
    `val/` folders when it has both, else a stratified, seeded split."""
    from tfeff.data.classification import ImageDataset
    from tfeff.data.classification import load_image_folder

    root = data_folder(config.data)
    train_dir, val_dir = (os.path.join(root, n) for n in ("train", "val"))
    if os.path.isdir(train_dir) and os.path.isdir(val_dir):
        train = load_image_folder(train_dir, resolution, seed=config.seed)
        val = load_image_folder(val_dir, resolution, seed=config.seed)
        if train.class_names != val.class_names:
            raise ValueError(
                f"{train_dir!r} and {val_dir!r} must hold the same class "
                f"folders. Received: {list(train.class_names)} and "
                f"{list(val.class_names)}"
            )
        # Each split is used whole: training on all of train/, validating
        # on all of val/.
        return ImageDataset(
            f"folder:{root}",
            np.concatenate([train.x_train, train.x_val]),
            np.concatenate([train.y_train, train.y_val]),
            np.concatenate([val.x_train, val.x_val]),
            np.concatenate([val.y_train, val.y_val]),
            train.class_names,
            skipped=train.skipped + val.skipped,
        )
    return load_image_folder(
        root, resolution, config.validation_fraction, seed=config.seed
    )


def _augmented(x, y, batch_size, seed):
    """Training batches: random crops of 80-100% of the side, resized back,
    and horizontal flips (tf.data, on the fly)."""
    import tensorflow as tf

    size = x.shape[1]

    def augment(image, label, element_seed):
        image = tf.cast(image, tf.float32)
        scale = tf.random.stateless_uniform(
            (), element_seed, minval=0.8, maxval=1.0
        )
        side = tf.cast(tf.round(scale * size), tf.int32)
        image = tf.image.stateless_random_crop(
            image, (side, side, 3), element_seed + 1
        )
        image = tf.image.resize(image, (size, size))
        image = tf.image.stateless_random_flip_left_right(
            image, element_seed + 2
        )
        return image, label

    seeds = tf.data.Dataset.random(seed=seed).batch(2)
    data = tf.data.Dataset.from_tensor_slices((x, y))
    data = data.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    data = tf.data.Dataset.zip((data, seeds)).map(
        lambda pair, s: augment(pair[0], pair[1], s),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _fit_stage(stage, model, config, data, out, epochs, learning_rate):
    """One resumable training stage; returns the trained model."""
    import keras

    from tfeff.files import save_keras_atomically
    from tfeff.train.backup import AtomicBackupAndRestore
    from tfeff.train.runner import HistoryWriter

    folder = os.path.join(out, stage)
    done = os.path.join(folder, "model.keras")
    if os.path.isfile(done):
        _say(f"[{stage}] done before, kept")
        return load_model(done)
    os.makedirs(folder, exist_ok=True)
    keras.utils.set_random_seed(config.seed + STAGES.index(stage))
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    _say(
        f"[{stage}] {epochs} epoch{'s' if epochs != 1 else ''}, learning "
        f"rate {learning_rate:g}"
    )
    model.fit(
        _augmented(data.x_train, data.y_train, config.batch_size, config.seed),
        validation_data=(data.x_val.astype("float32"), data.y_val),
        epochs=epochs,
        shuffle=False,  # the data set shuffles itself, seeded
        verbose=2,
        callbacks=[
            HistoryWriter(folder),
            AtomicBackupAndRestore(os.path.join(folder, "backup")),
        ],
    )
    save_keras_atomically(model, done, include_optimizer=False)
    return model


def _set_backbone_trainable(model, trainable, *, batch_norm=True):
    """The classifier always trains; the rest as `trainable` says, batch
    norms only if `batch_norm` too (a frozen batch norm also runs in
    inference mode, on its moving statistics)."""
    import keras

    from tfeff.models.builder import CLASSIFIER_NAME

    for layer in model.layers:
        if layer.name == CLASSIFIER_NAME:
            continue
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = trainable and batch_norm
        else:
            layer.trainable = trainable


def accuracy(predictions, labels):
    return float(np.mean(np.argmax(predictions, -1) == labels))


def plot_confusion(matrix, class_names, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tfeff.files import save_figure_atomically

    n = len(class_names)
    size = max(4.0, 0.5 * n + 2)
    fig, axis = plt.subplots(figsize=(size, size))
    axis.imshow(matrix, cmap="Blues")
    axis.set_xticks(range(n), class_names, rotation=90, fontsize=7)
    axis.set_yticks(range(n), class_names, fontsize=7)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title, fontsize=9)
    if n <= 30:
        for i in range(n):
            for j in range(n):
                axis.text(
                    j, i, str(matrix[i, j]), ha="center", va="center",
                    fontsize=6,
                )  # fmt: skip
    fig.tight_layout()
    save_figure_atomically(fig, path, dpi=100)


def _check_same_run(config, out):
    """A rerun must be the same run: resume it; anything else would mix two
    runs in one folder."""
    path = os.path.join(out, "config.json")
    saved = None
    if os.path.isfile(path):
        with open(path) as file:
            saved = json.load(file)
    current = dataclasses.asdict(config)
    if saved is not None and saved != current:
        differ = sorted(k for k in current if saved.get(k) != current[k])
        raise ValueError(
            f"{out!r} holds another fine-tuning run (it differs in "
            f"{differ}); rerun with its settings to resume it, or choose "
            "another --out."
        )
    return path, current


def run_finetune(config):
    """Runs (or resumes) a fine-tuning run; returns its verification dict."""
    import keras

    import tfeff
    from tfeff.export.tflite import TFLiteRunner
    from tfeff.export.tflite import to_tflite
    from tfeff.files import save_keras_atomically
    from tfeff.models.registry import get_variant

    out = config.out
    os.makedirs(out, exist_ok=True)
    config_path, settings = _check_same_run(config, out)
    resolution = config.image_size or get_variant(config.model).resolution
    data = load_data(config, resolution)
    classes = list(data.class_names)
    _say(f"Data: {data.describe()}")
    weights = None if config.weights == "none" else config.weights
    keras.utils.set_random_seed(config.seed)
    model = tfeff.create_model(
        config.model,
        weights=weights,
        source=config.source or None,
        num_classes=len(classes),
        input_shape=(resolution, resolution, 3),
    )
    # Written once the data and the weights are known to be usable: a run
    # refused before any training does not claim the run folder.
    atomic_write_json(config_path, settings)
    atomic_write_text(
        os.path.join(out, "labels.txt"), "\n".join(classes) + "\n"
    )
    pretrained = weights is not None
    if not pretrained:
        # From scratch on a small folder: batch norms follow their data's
        # statistics at momentum 0.9 (PyTorch's 0.1), so that evaluation
        # after a few hundred steps does not use the initial ones (0.99
        # keeps 37% of them after 100 steps).
        set_batch_norm_momentum(model, 0.9)
    if config.freeze_epochs:
        _set_backbone_trainable(model, False)
        model = _fit_stage(
            "frozen", model, config, data, out, config.freeze_epochs,
            config.learning_rate,
        )  # fmt: skip
    # Pretrained batch norms stay frozen, in inference mode, through the
    # fine-tuning: a small data set's batch statistics would undo what the
    # backbone learned (the Keras transfer-learning guide's advice).
    _set_backbone_trainable(model, True, batch_norm=not pretrained)
    # A pretrained network fine-tunes at a tenth of the rate (with its
    # batch norms frozen, 1e-3 with Adam wrecks it within an epoch: the
    # benchmark's first try); one from scratch at the full rate.
    rate = config.learning_rate * (0.1 if pretrained else 1.0)
    model = _fit_stage(
        "finetune", model, config, data, out, config.epochs, rate
    )
    save_keras_atomically(
        model, os.path.join(out, "model.keras"), include_optimizer=False
    )
    x_val = data.x_val.astype("float32")
    float_probs = np.asarray(model.predict(x_val, verbose=0))
    result = {"float_val_accuracy": accuracy(float_probs, data.y_val)}
    final = model
    if config.export == "int8":
        from tfeff.quantize import quantize_aware

        calibration = data.x_train[:256].astype("float32")
        qat = quantize_aware(model, representative_data=calibration)
        if config.qat_epochs:
            qat = _fit_stage(
                "qat", qat, config, data, out, config.qat_epochs, rate * 0.1
            )
        final = qat
        result["qat_val_accuracy"] = accuracy(
            np.asarray(qat.predict(x_val, verbose=0)), data.y_val
        )
    path = os.path.join(out, f"model_{config.export}.tflite")
    _say(f"[export] {os.path.basename(path)}, checked on the validation set")
    to_tflite(final, path, mode=config.export, labels=classes)
    probs = TFLiteRunner(path)(x_val)
    predicted = np.argmax(probs, -1)
    result.update(
        {
            f"{config.export}_val_accuracy": accuracy(probs, data.y_val),
            "top1_agreement_with_keras": float(
                np.mean(predicted == np.argmax(float_probs, -1))
            ),
            "validation_images": int(len(x_val)),
            "classes": classes,
            "file": os.path.basename(path),
            "file_bytes": os.path.getsize(path),
            "skipped_files": list(data.skipped),
        }
    )
    matrix = np.asarray(
        confusion_matrix(data.y_val, predicted, len(classes), ignore_label=None)
    )
    atomic_write_json(
        os.path.join(out, "confusion_matrix.json"),
        {"classes": classes, "rows_true_columns_predicted": matrix.tolist()},
    )
    plot_confusion(
        matrix,
        classes,
        os.path.join(out, "confusion_matrix.png"),
        f"{config.model}, {config.export} TFLite, validation split",
    )
    if config.edgetpu:
        from tfeff.export import to_edgetpu

        report = to_edgetpu(path, os.path.join(out, "edgetpu"))
        result["edgetpu_all_mapped"] = report.all_mapped
    atomic_write_json(os.path.join(out, "verification.json"), result)
    _say(
        f"Validation accuracy: float {result['float_val_accuracy']:.4f}, "
        f"{config.export} TFLite "
        f"{result[f'{config.export}_val_accuracy']:.4f} ({path})"
    )
    return result


__all__ = ["EXPORTS", "STAGES", "FinetuneConfig", "data_folder", "run_finetune"]
