"""The recipes end to end on toy data: two short epochs beat chance, the
run directory holds what it promises, configs are strict, and a run killed
with SIGKILL resumes to the same number of epochs."""

import glob
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
from PIL import Image

pytest.importorskip("albumentations")
pytest.importorskip("pycocotools")

from tests.harness import can_mount_tmpfs  # noqa: E402
from tfeff.data.cityscapes import to_train_ids  # noqa: E402
from tfeff.data.toy import make_toy  # noqa: E402
from tfeff.train.schedules import cyclic_lr_per_epoch  # noqa: E402
from tfeff.train.schedules import hybrid_lr_per_epoch  # noqa: E402

ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
RUN_FILES = (
    "config.yaml", "arch.txt", "history.csv", "history.json", "history.png",
    "model.keras", "evaluation.json", "checkpoints/last.keras", "checkpoints/best.keras",
)  # fmt: skip
# The published recipes are tuned for hundreds of epochs at batch 2048 or
# 192; a two-epoch toy run needs a short-run learning rate, no warm-up, no
# weight EMA (0.9999 averages over ~10k steps) and PyTorch-like batch norm
# momentum so the moving statistics catch up within a few dozen steps.
SHORT_RUN = [
    "--set", "warmup_epochs=0", "--set", "ema_momentum=0",
    "--set", "batch_norm_momentum=0.9",
]  # fmt: skip


def _recipe(name):
    spec = importlib.util.spec_from_file_location(
        f"recipe_{name}", os.path.join(ROOT, "recipes", f"{name}.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    make_toy("imagenet", str(root / "imagenet"))
    make_toy("cityscapes", str(root / "cityscapes"))
    make_toy("coco", str(root / "coco"), images=(192, 16))
    return root


def _evaluation(out):
    for name in RUN_FILES:
        assert os.path.isfile(os.path.join(out, name)), name
    assert os.listdir(os.path.join(out, "logs"))  # TensorBoard
    with open(os.path.join(out, "history.json")) as f:
        assert [row["epoch"] for row in json.load(f)] == [0, 1]
    with open(os.path.join(out, "evaluation.json")) as f:
        return json.load(f)


def _loads_after_import_tfeff(path):
    # A fresh process, as a user's: the saved compile config names tfeff's
    # losses, metrics and schedules, which `import tfeff` must register.
    code = (
        "import sys, keras, tfeff; m = keras.saving.load_model(sys.argv[1]); "
        "print(type(m.optimizer._learning_rate).__name__, m.loss)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, path], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_imagenet_recipe_two_epochs_beat_chance(toy, tmp_path):
    out = str(tmp_path / "run")
    argv = [
        "--model", "test_efficientnet", "--data-dir", str(toy / "imagenet"),
        "--out", out, "--epochs", "2", "--image-size", "64", "--batch-size", "8",
        *SHORT_RUN, "--set", "learning_rate=0.1", "--set", "crop_scale_min=0.25",
    ]  # fmt: skip
    assert _recipe("imagenet").main(argv) == 0
    report = _evaluation(out)
    print(f"\nimagenet toy, 2 epochs: accuracy {report['accuracy']:.3f}")
    assert report["accuracy"] > 0.25 + 0.1  # 4 classes
    with open(os.path.join(out, "arch.txt")) as f:
        assert f.read().startswith("stem_")
    model = keras.saving.load_model(os.path.join(out, "model.keras"))
    assert model.output_shape == (None, 4)
    assert "WarmupExponentialDecay" in _loads_after_import_tfeff(
        os.path.join(out, "model.keras")
    )


def _cityscapes_stage1(toy, tmp_path):
    out = str(tmp_path / "run")
    # ESPNet (v1) with its own recipe's optimizer (Adam, ecosystem.md §3.3).
    argv = [
        "--model", "espnet_c_p2q3", "--data-dir", str(toy / "cityscapes"),
        "--out", out, "--epochs", "2", "--image-size", "64", "--batch-size", "4",
        *SHORT_RUN, "--set", "decoder=espnet", "--set", "optimizer=adam",
        "--set", "lr_schedule=constant", "--set", "learning_rate=0.005",
    ]  # fmt: skip
    assert _recipe("cityscapes").main(argv) == 0
    report = _evaluation(out)
    # Chance: predicting the most frequent train id everywhere.
    masks = [
        to_train_ids(np.asarray(Image.open(p)))
        for p in glob.glob(str(toy / "cityscapes/gtFine/val/*/*_labelIds.png"))
    ]
    labels = np.concatenate([m.ravel() for m in masks])
    counts = np.bincount(labels[labels != 255], minlength=19)
    majority = counts.max() / counts.sum() / (counts > 0).sum()
    print(
        f"\ncityscapes toy, 2 epochs: mIoU {report['mean_iou']:.3f} (majority {majority:.3f})"
    )
    assert report["mean_iou"] > 2 * majority
    return out, majority


def test_cityscapes_recipe_two_epochs_beat_the_majority_class(toy, tmp_path):
    out, _ = _cityscapes_stage1(toy, tmp_path)
    assert "SparseCrossEntropyIgnore" in _loads_after_import_tfeff(
        os.path.join(out, "model.keras")
    )


@pytest.mark.slow
def test_cityscapes_stage2_starts_from_stage1_with_frozen_batch_norm(
    toy, tmp_path
):
    out, majority = _cityscapes_stage1(toy, tmp_path)
    # Stage 2 (two-stage resolution schedule): twice the crop, fine-tuned
    # from stage 1's best model, batch norm frozen.
    stage2 = str(tmp_path / "stage2")
    best = os.path.join(out, "checkpoints", "best.keras")
    argv = [
        "--model", "espnet_c_p2q3", "--data-dir", str(toy / "cityscapes"),
        "--out", stage2, "--epochs", "1", "--batch-size", "4",
        "--config", os.path.join(ROOT, "tfeff", "recipes", "configs", "cityscapes_stage2.yaml"),
        "--image-size", "128", *SHORT_RUN, "--set", "decoder=espnet",
        "--set", "optimizer=adam", "--set", "lr_schedule=constant",
        "--set", "learning_rate=0.0005", "--set", f"finetune={best}",
    ]  # fmt: skip
    assert _recipe("cityscapes").main(argv) == 0
    model = keras.saving.load_model(os.path.join(stage2, "model.keras"))
    assert model.input_shape == (None, 64, 128, 3)
    # Started from stage 1, batch norm frozen: its statistics and affine
    # terms are stage 1's, unchanged by a stage-2 epoch.
    stage1 = keras.saving.load_model(best)
    norms = [
        la
        for la in model.layers
        if isinstance(la, keras.layers.BatchNormalization)
    ]
    assert norms
    for layer in norms:
        for a, b in zip(
            layer.get_weights(), stage1.get_layer(layer.name).get_weights()
        ):
            np.testing.assert_array_equal(a, b)
    with open(os.path.join(stage2, "evaluation.json")) as f:
        stage2_report = json.load(f)
    print(
        f"stage 2 (64x128, frozen BN, 1 epoch): mIoU {stage2_report['mean_iou']:.3f}"
    )
    assert stage2_report["mean_iou"] > 2 * majority  # it starts from stage 1


def test_imagenet_recipe_starts_from_a_weights_file(toy, tmp_path, capsys):
    # A checkpoint of the same network with a 1000-class classifier: the
    # recipe's 4-class model gets its backbone and a new head. At a
    # learning rate of 1e-12 an epoch leaves the kernels where they were
    # loaded, so the trained model shows where it started.
    import tfeff

    keras.utils.set_random_seed(3)
    source = tfeff.create_model(
        "test_efficientnet", input_shape=(32, 32, 3), num_classes=1000
    )
    path = str(tmp_path / "start.weights.h5")
    source.save_weights(path)
    out = str(tmp_path / "run")
    argv = [
        "--model", "test_efficientnet", "--weights", path,
        "--data-dir", str(toy / "imagenet"), "--out", out, "--epochs", "1",
        "--image-size", "32", "--batch-size", "8", *SHORT_RUN,
        "--set", "learning_rate=1e-12", "--set", "weight_decay=0",
    ]  # fmt: skip
    assert _recipe("imagenet").main(argv) == 0
    trained = keras.saving.load_model(os.path.join(out, "model.keras"))
    kernels = [v for v in trained.weights if v.path.endswith("/kernel")]
    assert len(kernels) > 5
    for variable in kernels:
        if variable.path.startswith("predictions/"):
            assert variable.shape[-1] == 4  # the new head
            continue
        expected = next(v for v in source.weights if v.path == variable.path)
        np.testing.assert_allclose(
            np.asarray(variable), np.asarray(expected), atol=1e-6
        )


def test_coco_recipe_two_epochs_find_objects(toy, tmp_path):
    out = str(tmp_path / "run")
    argv = [
        "--model", "test_efficientnet", "--data-dir", str(toy / "coco"),
        "--out", out, "--epochs", "2", "--image-size", "64", "--batch-size", "8",
        *SHORT_RUN, "--set", "fusion=false", "--set", "optimizer=adam",
        "--set", "lr_schedule=constant", "--set", "learning_rate=0.01",
        "--set", "weight_decay=0",
    ]  # fmt: skip
    assert _recipe("coco").main(argv) == 0
    report = _evaluation(out)
    print(
        f"\ncoco toy, 2 epochs: AP50 {report['AP50']:.4f}, AP {report['AP']:.4f}"
    )
    # An untrained detector scores AP50 = 0 on these shapes
    # (tests/models/test_ssd.py); two epochs find some of them.
    assert report["AP50"] > 0
    assert set(report) == {"AP", "AP50", "AP75", "APs", "APm", "APl"}


def test_config_precedence_and_strict_keys(toy, tmp_path, capsys):
    from tfeff.train.config import resolve_config

    defaults = {
        "epochs": 350,
        "learning_rate": 0.016,
        "ema": True,
        "model": "b0",
    }
    override = tmp_path / "my.yaml"
    override.write_text("epochs: 10\nlearning_rate: 0.1\n")
    config = resolve_config(
        defaults,
        config_file=override,
        flags={"epochs": 2, "model": None},
        set_options=["learning_rate=1", "ema=false"],
    )
    assert config == {
        "epochs": 2,
        "learning_rate": 1.0,
        "ema": False,
        "model": "b0",
    }
    with pytest.raises(ValueError, match=r"unknown config keys \['epochz'\]"):
        resolve_config(defaults, set_options=["epochz=3"])
    with pytest.raises(ValueError, match="`epochs` must be a int"):
        resolve_config(defaults, set_options=["epochs=many"])
    (tmp_path / "bad.yaml").write_text("lr: [1,\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        resolve_config(defaults, config_file=tmp_path / "bad.yaml")
    # On the command line: exit 2 with the message, before any training.
    recipe = _recipe("imagenet")
    for argv, message in (
        (["--set", "learning_rat=0.1"], "unknown config keys ['learning_rat']"),
        (["--set", "epochs=2.5"], "`epochs` must be a int"),
    ):
        with pytest.raises(SystemExit) as info:
            recipe.main(
                [
                    "--data-dir",
                    str(toy / "imagenet"),
                    "--out",
                    str(tmp_path / "x"),
                    *argv,
                ]
            )
        assert info.value.code == 2
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        recipe.main(
            ["--data-dir", str(tmp_path / "none"), "--out", str(tmp_path / "x")]
        )
    assert "not a directory" in capsys.readouterr().err


def test_edgenets_schedules_match_the_reference_values():
    # ecosystem.md §3.2, reproduced from EdgeNets utilities/lr_scheduler.py.
    assert cyclic_lr_per_epoch(11, 0.1).tolist() == [
        0.1, 0.5, 0.4, 0.3, 0.2, 0.1, 0.5, 0.4, 0.3, 0.2, 0.1,
    ]  # fmt: skip
    assert cyclic_lr_per_epoch(53, 0.1, steps=[51])[51:].tolist() == [0.25, 0.2]
    hybrid = hybrid_lr_per_epoch(120, 0.1, 61)
    assert hybrid[61] == pytest.approx(0.098333) and hybrid[
        119
    ] == pytest.approx(0.001667)
    segmentation = hybrid_lr_per_epoch(100, 0.009, 61)
    assert segmentation.max() == pytest.approx(0.045)
    assert segmentation[61] == pytest.approx(0.008775)
    assert segmentation[99] == pytest.approx(0.000225)


# 51 s on CI: slow, so that the default run stays under 15 minutes; the
# kill tests of the backup itself (tests/train/test_backup.py) run by default.
@pytest.mark.slow
def test_sigkill_mid_run_resumes_to_the_same_epochs(toy, tmp_path):
    out = str(tmp_path / "run")
    args = [
        sys.executable, os.path.join(ROOT, "recipes", "imagenet.py"),
        "--model", "test_efficientnet", "--data-dir", str(toy / "imagenet"),
        "--out", out, "--epochs", "4", "--image-size", "48", "--batch-size", "2",
        *SHORT_RUN, "--set", "learning_rate=0.05",
    ]  # fmt: skip
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    history = os.path.join(out, "history.json")
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        if os.path.isfile(history):
            with open(history) as f:
                if len(json.load(f)) >= 2:
                    break
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be killed"
    time.sleep(0.5)  # into the third epoch (64 steps of ~20 ms each)
    process.send_signal(signal.SIGKILL)
    process.wait()
    with open(history) as f:
        before = json.load(f)
    assert 2 <= len(before) < 4
    best = keras.saving.load_model(
        os.path.join(out, "checkpoints", "best.keras")
    )
    assert best.output_shape == (None, 4)  # nothing written is half-written
    resumed = subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    # Epochs already done are not run again.
    assert "Epoch 1/4" not in resumed.stdout
    assert "Epoch 4/4" in resumed.stdout
    with open(history) as f:
        after = json.load(f)
    assert [row["epoch"] for row in after] == [0, 1, 2, 3]
    for row in before[: len(before) - 1]:  # the last one may be repeated
        assert row in after
    _ = [os.path.join(out, n) for n in RUN_FILES]


def _free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow  # 32 s of two training processes; run with --run-slow.
def test_two_workers_on_loopback_train_one_model(toy, tmp_path):
    """--strategy multi_worker with TF_CONFIG (README): two processes, one
    model; the chief writes the run directory, the other worker only its
    own backup."""
    out = str(tmp_path / "run")
    cluster = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
    args = [
        sys.executable, os.path.join(ROOT, "recipes", "imagenet.py"),
        "--model", "test_efficientnet", "--data-dir", str(toy / "imagenet"),
        "--out", out, "--epochs", "1", "--image-size", "48", "--batch-size", "8",
        "--strategy", "multi_worker", *SHORT_RUN, "--set", "learning_rate=0.1",
    ]  # fmt: skip
    processes = []
    for index in range(2):
        tf_config = {
            "cluster": {"worker": cluster},
            "task": {"type": "worker", "index": index},
        }
        env = dict(
            os.environ,
            TF_CONFIG=json.dumps(tf_config),
            TF_CPP_MIN_LOG_LEVEL="3",
            PYTHONUNBUFFERED="1",
        )
        processes.append(
            subprocess.Popen(
                args,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    # A worker that fails leaves the other waiting on a collective: stop
    # both as soon as one ends badly.
    deadline = time.time() + 600
    while time.time() < deadline and any(p.poll() is None for p in processes):
        if any(p.poll() not in (None, 0) for p in processes):
            break
        time.sleep(0.5)
    for process in processes:
        if process.poll() is None:
            process.kill()
    outputs = [p.communicate()[0] for p in processes]
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output[-3000:]
    for name in (
        "config.yaml",
        "history.json",
        "model.keras",
        "evaluation.json",
    ):
        assert os.path.isfile(os.path.join(out, name)), name
    assert os.path.isdir(os.path.join(out, "backup"))
    assert os.path.isdir(os.path.join(out, "workers", "worker-1", "backup"))
    assert not os.path.exists(os.path.join(out, "workers", "worker-0"))
    # Both workers evaluated the same synchronized model.
    reports = [
        line
        for o in outputs
        for line in o.splitlines()
        if line.startswith("evaluation:")
    ]
    assert len(reports) == 2 and reports[0] == reports[1]


# --- bad values at the boundary (issue 20, items 5 and 6) -------------------

# Each was trained on (or failed deep inside TensorFlow) before: `--epochs
# -1` saved an untrained model.keras as if finished, `--batch-size 0`
# raised ZeroDivisionError, `-8` a TensorFlow shape error.
BAD_VALUES = [
    (["--epochs", "-1"], "`epochs` (the number of epochs) must be in [1, inf)"),
    (["--epochs", "0"], "Received: epochs=0"),
    (["--batch-size", "0"], "`batch_size` (the global batch size)"),
    (["--batch-size", "-8"], "Received: batch_size=-8"),
    (["--image-size", "0"], "Received: image_size=0"),
    (["--set", "learning_rate=-1"], "`learning_rate` (the learning rate) must be in (0.0, inf)"),
    (["--set", "learning_rate=.nan"], "Received: learning_rate=nan"),
    (["--set", "label_smoothing=2.0"], "`label_smoothing` (label smoothing) must be in [0.0, 1.0)"),
    (["--set", "ema_momentum=1.5"], "Received: ema_momentum=1.5"),
    (["--set", "dropout_rate=1.5"], "`dropout_rate` must be in [0, 1), or -1"),
    (["--set", "drop_path_rate=-0.1"], "Received: drop_path_rate=-0.1"),
    (["--set", "weight_decay=-1e-5"], "Received: weight_decay=-1e-05"),
    (["--set", "crop_scale_min=0"], "Received: crop_scale_min=0"),
    (["--set", "lr_schedule=cosine"], "`lr_schedule` must be one of ('efficientnet', 'hybrid', 'constant')"),
    (["--set", "optimizer=lamb"], "Received: optimizer='lamb'"),
    (["--model", "efficientnet_b9"], "Unknown variant 'efficientnet_b9'"),
    (["--model", "test_efficientnet", "--weights", "imagenet"], "No ImageNet weights"),
    (["--weights", "nowhere.weights.h5"], "an existing weights file. Received: weights='nowhere.weights.h5'"),
]  # fmt: skip


@pytest.mark.parametrize(
    "argv, message", BAD_VALUES, ids=[" ".join(a) for a, _ in BAD_VALUES]
)
def test_a_bad_value_is_one_line_and_exit_2_before_any_work(
    toy, tmp_path, capsys, argv, message
):
    out = tmp_path / "never"
    with pytest.raises(SystemExit) as info:
        _recipe("imagenet").main(
            ["--data-dir", str(toy / "imagenet"), "--out", str(out), *argv]
        )
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and err.startswith("imagenet.py: error: ")
    assert not out.exists()  # refused before the run folder was made


def test_an_unwritable_out_is_refused_before_any_model(toy, tmp_path, capsys):
    (tmp_path / "a_file").write_text("x")
    for out, message in (
        (tmp_path / "a_file", "--out must be a folder, but"),
        (tmp_path / "a_file" / "run", "is not a writable folder"),
    ):
        with pytest.raises(SystemExit) as info:
            _recipe("imagenet").main(
                ["--data-dir", str(toy / "imagenet"), "--out", str(out)]
            )
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert message in err and str(out) in err and err.count("\n") == 1


def test_traceback_flag_shows_the_whole_error(toy, tmp_path):
    with pytest.raises(ValueError, match="Received: epochs=-1"):
        _recipe("imagenet").main(
            [
                "--data-dir", str(toy / "imagenet"), "--out", str(tmp_path),
                "--epochs", "-1", "--traceback",
            ]
        )  # fmt: skip


def test_segmentation_and_detection_recipes_check_their_own_keys(
    toy, tmp_path, capsys
):
    for name, argv, message in (
        ("cityscapes", ["--set", "decoder=unet"], "`decoder` must be one of"),
        ("cityscapes", ["--set", "scale_min=0.9"], "must not exceed `scale_max`"),
        ("coco", ["--set", "iou_threshold=1.0"], "Received: iou_threshold=1.0"),
        ("coco", ["--set", "max_boxes=0"], "Received: max_boxes=0"),
        ("coco", ["--set", "finetune=nowhere.keras"], "`finetune` is not a file"),
        ("coco", ["--weights", __file__, "--set", f"finetune={__file__}"], "`weights` and `finetune` both"),
    ):  # fmt: skip
        with pytest.raises(SystemExit) as info:
            _recipe(name).main(
                [
                    "--data-dir",
                    str(toy / name),
                    "--out",
                    str(tmp_path / "x"),
                    *argv,
                ]
            )
        assert info.value.code == 2
        assert message in capsys.readouterr().err


@pytest.mark.slow  # ~70 s: two recipe processes; run with --run-slow.
@pytest.mark.skipif(not can_mount_tmpfs(), reason="cannot mount a tmpfs")
def test_a_recipe_out_of_disk_says_so_and_the_rerun_finishes(toy, tmp_path):
    # The reproduction: a 30 MB filesystem holds the run's two
    # checkpoints (12 MB each) but not the backup beside them. Before: a
    # segmentation fault in HDF5, then every rerun failed inside h5py.
    small = tmp_path / "small"
    small.mkdir()
    run = (
        f"{sys.executable} {ROOT}/recipes/imagenet.py --model mobilenetv2_050 "
        f"--data-dir {toy / 'imagenet'} --out {small}/r --epochs 2 "
        "--image-size 32 --batch-size 8"
    )
    shell = (
        f"mount -t tmpfs -o size=30m tmpfs {small} && "
        f"{{ {run} 2>{tmp_path}/first.err; echo first=$?; }} && "
        f"mount -o remount,size=200m {small} && {run}"
    )
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", shell],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    first = (tmp_path / "first.err").read_text()
    assert "first=2" in done.stdout, first[-3000:]
    last = first.strip().splitlines()[-1]
    assert last.startswith("imagenet.py: error: No space left on the device")
    assert "Traceback" not in first
    assert done.returncode == 0, done.stderr[-3000:]
    assert "evaluation: {" in done.stdout
