"""QAT against post-training quantization on real toy data (digits).

The export issue's contract: after QAT the int8 TFLite model scores within
1 point of the QAT Keras model on held-out data, and QAT is at least as good
as post-training quantization (PTQ) of the same float model. Both figures are
printed (`pytest -s`) so the comparison can be read, not only asserted.
"""

import keras
import numpy as np
import pytest

import tfeff
from tfeff.export import TFLiteRunner
from tfeff.export import to_tflite
from tfeff.quantize import quantize_aware

pytest.importorskip("ai_edge_litert")
pytest.importorskip("sklearn")
from tfeff.data import load_digits  # noqa: E402


def _accuracy(predict, x, y):
    return float(np.mean(np.argmax(predict(x), axis=-1) == y))


# A training run (55 s on 2 cores): behind `slow` to keep the default run
# under 15 minutes; the default run checks each int8 op against its
# simulation (tests/export/test_tflite.py) instead.
@pytest.mark.slow
def test_qat_int8_matches_keras_and_is_no_worse_than_ptq(tmp_path):
    data = load_digits(resolution=32, seed=0)
    x_train = data.x_train.astype("float32")
    x_val = data.x_val.astype("float32")
    keras.utils.set_random_seed(0)
    # MBConv with squeeze-excite and swish: the graph PTQ finds hardest
    # (sigmoid gates, unbounded swish ranges), which QAT exists for.
    model = tfeff.create_model(
        "test_efficientnet", input_shape=(32, 32, 3), num_classes=10
    )
    model.compile(
        keras.optimizers.Adam(3e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x_train, data.y_train, epochs=10, batch_size=32, verbose=0)
    float_accuracy = _accuracy(
        lambda x: model.predict(x, verbose=0), x_val, data.y_val
    )

    calibration = [x_train[i : i + 32] for i in range(0, 256, 32)]
    ptq_path = to_tflite(
        model,
        tmp_path / "ptq.tflite",
        mode="int8",
        representative_data=calibration,
    )
    ptq_accuracy = _accuracy(TFLiteRunner(ptq_path), x_val, data.y_val)

    qat = quantize_aware(model, calibration)
    qat.compile(
        keras.optimizers.Adam(5e-4),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    qat.fit(x_train, data.y_train, epochs=1, batch_size=32, verbose=0)
    qat_keras_accuracy = _accuracy(
        lambda x: qat.predict(x, verbose=0), x_val, data.y_val
    )
    qat_path = to_tflite(qat, tmp_path / "qat.tflite", mode="int8")
    qat_int8_accuracy = _accuracy(TFLiteRunner(qat_path), x_val, data.y_val)

    print(
        f"\ndigits 32x32, {len(x_val)} held-out images: float "
        f"{float_accuracy:.4f}, PTQ int8 {ptq_accuracy:.4f}, QAT Keras "
        f"{qat_keras_accuracy:.4f}, QAT int8 {qat_int8_accuracy:.4f}"
    )
    assert float_accuracy > 0.8  # The float model learned the task.
    # The int8 kernels compute what the fake-quant graph simulated.
    assert abs(qat_int8_accuracy - qat_keras_accuracy) <= 0.01
    assert qat_int8_accuracy >= ptq_accuracy
