"""AtomicBackupAndRestore: a kill or a full disk during the backup never
leaves a run that cannot resume (issue 20, item 1: Keras' callback wrote
`latest.weights.h5` in place, and a kill or ENOSPC there made every rerun
fail inside h5py, or crashed HDF5 outright)."""

import errno
import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from tests.harness import can_mount_tmpfs
from tfeff.train import backup as backup_module
from tfeff.train.backup import AtomicBackupAndRestore
from tfeff.train.backup import BackupError

X = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
Y = (X.sum(axis=1, keepdims=True) > 0).astype("float32")


def _model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8), keras.layers.Dense(1)]
    )
    model.compile(keras.optimizers.Adam(0.01), "mse")
    return model


def _fit(directory, epochs, extra=()):
    model = _model()
    callback = AtomicBackupAndRestore(str(directory))
    history = model.fit(
        X, Y, epochs=epochs, batch_size=8, verbose=0,
        callbacks=[*extra, callback],
    )  # fmt: skip
    return model, callback, history


def _state(directory):
    with open(os.path.join(directory, "state.json")) as f:
        return json.load(f)


def test_resumes_where_it_stopped_and_keeps_two_states(tmp_path):
    _fit(tmp_path, 3)
    state = _state(tmp_path)
    assert state["current"]["epoch"] == 3
    assert state["previous"]["epoch"] == 2
    assert sorted(os.listdir(tmp_path)) == [
        "epoch-0002.weights.h5", "epoch-0003.weights.h5", "state.json",
    ]  # fmt: skip
    model, callback, history = _fit(tmp_path, 5)
    assert callback.restored["epoch"] == 3
    assert len(history.history["loss"]) == 2  # epochs 4 and 5 only
    # Resumed and uninterrupted runs end with the same weights.
    reference, _, _ = _fit(tmp_path / "straight", 5)
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: open(path, "r+b").truncate(1000),
        lambda path: open(path, "wb").write(b"not hdf5"),
        os.remove,
    ],
    ids=["truncated", "overwritten", "deleted"],
)
def test_a_damaged_newest_state_falls_back_to_the_previous(
    tmp_path, capfd, damage
):
    _fit(tmp_path, 3)
    damage(str(tmp_path / "epoch-0003.weights.h5"))
    _, callback, history = _fit(tmp_path, 4)
    assert callback.restored == {
        "file": "epoch-0002.weights.h5", "epoch": 2, "batch": 0,
    }  # fmt: skip
    assert len(history.history["loss"]) == 2
    err = capfd.readouterr().err
    assert "Training backup damaged, not used: epoch-0003.weights.h5" in err
    assert "Resuming from epoch-0002.weights.h5 (epoch 2)" in err
    # The state resumed from stays until a newer one is complete.
    assert _state(tmp_path)["previous"]["file"] == "epoch-0003.weights.h5"
    assert _state(tmp_path)["current"]["epoch"] == 4


def test_an_unreadable_index_is_reported_and_the_files_used(tmp_path, capfd):
    _fit(tmp_path, 2)
    (tmp_path / "state.json").write_text("{half")
    _, callback, _ = _fit(tmp_path, 3)
    assert callback.restored["epoch"] == 2
    assert "state.json" in capfd.readouterr().err


def test_no_usable_state_is_an_error_naming_each_file(tmp_path):
    _fit(tmp_path, 2)
    for name in ("epoch-0001.weights.h5", "epoch-0002.weights.h5"):
        (tmp_path / name).write_bytes(b"x")
    with pytest.raises(BackupError) as raised:
        _fit(tmp_path, 3)
    message = str(raised.value)
    assert str(tmp_path) in message
    assert "epoch-0002.weights.h5: 1 bytes where" in message
    assert "epoch-0001.weights.h5" in message
    assert "Delete that folder" in message


def test_a_full_disk_is_one_clear_error_and_the_rerun_resumes(
    tmp_path, monkeypatch
):
    _fit(tmp_path, 2)
    real = backup_module.atomic_write_bytes

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(backup_module, "atomic_write_bytes", full)
    with pytest.raises(BackupError) as raised:
        _fit(tmp_path, 4)
    message = str(raised.value)
    assert message.startswith("No space left on the device for the")
    assert "epoch-0003.weights.h5" in message and "MB needed" in message
    assert "rerun the same command" in message
    monkeypatch.setattr(backup_module, "atomic_write_bytes", real)
    _, callback, history = _fit(tmp_path, 4)
    assert callback.restored["epoch"] == 2
    assert len(history.history["loss"]) == 2


def test_backups_of_keras_own_callback_are_resumed(tmp_path):
    model = _model()
    model.fit(
        X, Y, epochs=2, batch_size=8, verbose=0,
        callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path),
                   double_checkpoint=True, delete_checkpoint=False)],
    )  # fmt: skip
    assert (tmp_path / "latest.weights.h5").is_file()
    _, callback, history = _fit(tmp_path, 3)
    assert callback.restored["file"] == "latest.weights.h5"
    assert callback.restored["epoch"] == 2
    assert len(history.history["loss"]) == 1
    assert "latest.weights.h5" in os.listdir(tmp_path)  # kept as previous


KILLED_WHILE_WRITING = """
import os, signal, sys
sys.path.insert(0, {root!r})
from tests.train import test_backup as t
from tfeff.train import backup

where = sys.argv[2]
real_bytes, real_json = backup.atomic_write_bytes, backup.atomic_write_json
calls = {{"n": 0}}

def die_after_half(path, data):
    # The real protocol's temporary file, half written, then SIGKILL.
    import tempfile
    handle, temporary = tempfile.mkstemp(
        dir=os.path.dirname(path), prefix=".", suffix=".partial")
    os.write(handle, data[: len(data) // 2])
    os.fsync(handle)
    os.kill(os.getpid(), signal.SIGKILL)

def bytes_hook(path, data):
    calls["n"] += 1
    if where == "weights" and calls["n"] == 3:
        die_after_half(path, data)
    return real_bytes(path, data)

def json_hook(path, obj, **kw):
    if where == "index" and calls["n"] == 3:
        die_after_half(path, b'{{"format": "tfeff-tr')
    return real_json(path, obj, **kw)

backup.atomic_write_bytes, backup.atomic_write_json = bytes_hook, json_hook
t._fit(sys.argv[1], 5)
"""


@pytest.mark.parametrize("where", ["weights", "index"])
def test_a_kill_during_the_backup_write_keeps_the_last_state(tmp_path, where):
    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(KILLED_WHILE_WRITING.format(root=root)))
    directory = tmp_path / "backup"
    done = subprocess.run(
        [sys.executable, str(script), str(directory), where],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == -9, done.stderr[-2000:]
    # Killed while writing the third epoch's state: its temporary file is
    # there, the index still names epochs 2 and 1.
    assert any(n.endswith(".partial") for n in os.listdir(directory))
    assert _state(directory)["current"]["epoch"] == 2
    _, callback, history = _fit(directory, 5)
    assert callback.restored["epoch"] == 2
    assert len(history.history["loss"]) == 3
    assert not any(n.endswith(".partial") for n in os.listdir(directory))


FULL_DISK = """
import sys
sys.path.insert(0, {root!r})
import keras
from tests.train import test_backup as t
from tfeff.train.backup import AtomicBackupAndRestore, BackupError

def model():
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(256),
                          keras.layers.Dense(64), keras.layers.Dense(1)])
    m.compile(keras.optimizers.Adam(0.01), "mse")
    return m

t._model = model
try:
    _, callback, history = t._fit(sys.argv[1], 4)
except BackupError as error:
    print(error, file=sys.stderr)
    sys.exit(2)
print("restored", callback.restored, "epochs", len(history.history["loss"]))
"""


@pytest.mark.slow  # 12 s, two processes; the simulated ENOSPC above is fast
@pytest.mark.skipif(not can_mount_tmpfs(), reason="cannot mount a tmpfs")
def test_a_real_full_disk_then_more_space_resumes(tmp_path):
    # Each state is ~0.2 MB (weights and Adam's two moments); a 0.5 MB
    # tmpfs holds two, and the third cannot be written beside them.
    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    script = tmp_path / "full.py"
    script.write_text(FULL_DISK.format(root=root))
    mount = tmp_path / "small"
    mount.mkdir()
    py, d = sys.executable, f"{mount}/backup"
    shell = (
        f"mount -t tmpfs -o size=500k tmpfs {mount} && "
        f"{{ {py} {script} {d}; echo rc=$?; }} && "
        f"mount -o remount,size=8m {mount} && {py} {script} {d}"
    )
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", shell],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "rc=2" in done.stdout
    assert "No space left on the device for the training backup" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr and "Segmentation" not in (
        done.stderr
    )
    assert "restored {'file': 'epoch-0002.weights.h5', 'epoch': 2" in (
        done.stdout
    )
    assert "epochs 2" in done.stdout
