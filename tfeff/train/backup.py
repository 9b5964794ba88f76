"""A training backup that a kill or a full disk cannot break.

`keras.callbacks.BackupAndRestore` writes `latest.weights.h5` in place
through HDF5: killed (or out of disk) while it writes, the only backup is
half a file and every rerun fails inside h5py; a full disk even ends the
run with a segmentation fault inside HDF5. `AtomicBackupAndRestore` keeps
its interface (it is a subclass: same arguments, same resume semantics)
and changes how the state reaches the disk:

    backup/
        state.json                 which files hold the last two states
        epoch-0004.weights.h5      the newest complete state
        epoch-0003.weights.h5      the one before it

- The weights (model and optimizer) are serialised in memory and written
  to a temporary name, flushed and renamed; only then does `state.json`
  (itself written the same way) point at them, with their size and
  SHA-256. A kill at any point leaves the previous state complete and
  named; a full disk is a one-line `OSError` naming the file, the size
  and the free space, after which the rerun resumes from the last state.
- On resume the newest state is checked (present, same size and hash,
  loads) before it is used; a damaged one is reported in one line and
  the previous one is used. Backups written by Keras' own callback
  (`latest.weights.h5`, `training_metadata.json`, `.bkp`) are read too.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import errno
import hashlib
import io
import json
import os
import re
import sys

import keras

from tfeff.files import atomic_write_bytes
from tfeff.files import atomic_write_json
from tfeff.files import free_bytes
from tfeff.files import is_disk_full

STATE_FILE = "state.json"
STATE_FORMAT = "tfeff-training-backup"
STATE_VERSION = 1
_STATE_NAME = re.compile(r"^epoch-(\d+)(?:-batch-(\d+))?\.weights\.h5$")


class BackupError(OSError):
    """A backup that could not be written or that cannot be resumed."""

    def __str__(self):
        return self.strerror or super().__str__()


def weights_bytes(model):
    """The model's (and its optimizer's) variables as `.weights.h5` bytes,
    built in memory: HDF5 never writes to the disk itself, so a failed
    write is Python's `OSError`, not a crash inside the C library."""
    # Keras' own `.weights.h5` writer, pointed at a buffer: the same
    # layout `model.load_weights` reads (keras.src is the only place that
    # offers it for a buffer; `save_weights` takes a path only).
    from keras.src.saving import saving_lib

    buffer = io.BytesIO()
    store = saving_lib.H5IOStore(buffer, mode="w")
    try:
        saving_lib._save_state(
            model,
            weights_store=store,
            assets_store=None,
            inner_path="",
            visited_saveables=set(),
        )
    finally:
        store.close()
    return buffer.getvalue()


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _megabytes(count):
    return f"{count / 1e6:.1f} MB"


def _say(message):
    print(message, file=sys.stderr, flush=True)


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore` whose backups survive a kill
    during the write and a full disk (see the module docstring).

    Args: those of `keras.callbacks.BackupAndRestore`. `double_checkpoint`
    is always on: the previous state is what a damaged newest one falls
    back to.
    """

    def __init__(
        self,
        backup_dir,
        save_freq="epoch",
        double_checkpoint=True,
        delete_checkpoint=False,
    ):
        super().__init__(
            backup_dir,
            save_freq=save_freq,
            double_checkpoint=True,
            delete_checkpoint=delete_checkpoint,
        )
        self.state_path = os.path.join(backup_dir, STATE_FILE)
        self.restored = None  # the state resumed from, for reports/tests
        # The newest complete state this run knows of: the next write's
        # "previous", so that a resume from the older of two states keeps
        # that one until a newer state is complete.
        self._newest = None

    # -- writing ---------------------------------------------------------

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        epoch, batch = self._current_epoch, self._last_batch_seen
        name = f"epoch-{epoch:04d}.weights.h5"
        if self.save_freq != "epoch":
            name = f"epoch-{epoch:04d}-batch-{batch:06d}.weights.h5"
        path = os.path.join(self.backup_dir, name)
        data = weights_bytes(self.model)
        try:
            atomic_write_bytes(path, data)
            current = {
                "epoch": epoch,
                "batch": batch,
                "file": name,
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            previous = self._newest
            if previous and previous["file"] == name:
                previous = None  # the same state written again
            state = {
                "format": STATE_FORMAT,
                "version": STATE_VERSION,
                "current": current,
                "previous": previous,
            }
            atomic_write_json(self.state_path, state)
            self._newest = current
        except OSError as error:
            kept = (
                f"The last complete backup (epoch {self._newest['epoch']}) "
                "is kept"
                if self._newest
                else "No backup of this run was complete yet"
            )
            if is_disk_full(error):
                free = free_bytes(self.backup_dir)
                raise BackupError(
                    error.errno,
                    f"No space left on the device for the training backup "
                    f"{path!r} ({_megabytes(len(data))} needed"
                    + (f", {_megabytes(free)} free" if free is not None else "")
                    + f"). {kept}: free some space and rerun the same "
                    "command to resume.",
                ) from error
            raise BackupError(
                error.errno,
                f"Could not write the training backup {path!r}: "
                f"{error.strerror or error}. {kept}; rerun the same command "
                "to resume.",
            ) from error
        self._remove_unreferenced(state)

    def _remove_unreferenced(self, state):
        keep = {STATE_FILE}
        for entry in (state.get("current"), state.get("previous")):
            if entry:
                keep.add(entry["file"])
        for name in os.listdir(self.backup_dir):
            stray = name.startswith(".") and name.endswith(".partial")
            old = _STATE_NAME.match(name) or name in (
                "latest.weights.h5",
                "latest.weights.h5.bkp",
                "training_metadata.json",
                "training_metadata.json.bkp",
            )
            if (old or stray) and name not in keep:
                try:
                    os.remove(os.path.join(self.backup_dir, name))
                except OSError:
                    pass  # a leftover costs disk, not correctness

    # -- reading ---------------------------------------------------------

    def _read_state(self):
        """`state.json` as a dict; {} if absent; BackupError if damaged
        beyond use (then the epoch files are scanned instead)."""
        if not os.path.isfile(self.state_path):
            return {}
        try:
            with open(self.state_path) as file:
                state = json.load(file)
            if not isinstance(state, dict) or state.get("format") != (
                STATE_FORMAT
            ):
                raise ValueError(f"not a {STATE_FORMAT} file")
            return state
        except (OSError, ValueError) as error:
            raise BackupError(
                errno.EIO,
                f"The training backup index {self.state_path!r} is "
                f"unreadable ({error})",
            ) from None

    def _candidates(self):
        """States to try, newest first: (description, path, epoch, batch,
        expected (bytes, sha256) or None)."""
        candidates = []
        try:
            state = self._read_state()
        except BackupError as error:
            _say(f"{error.strerror}; looking for the backup files themselves.")
            state = None
        if state:
            for key in ("current", "previous"):
                entry = state.get(key)
                if entry:
                    candidates.append(
                        (
                            entry["file"],
                            os.path.join(self.backup_dir, entry["file"]),
                            int(entry["epoch"]),
                            int(entry.get("batch", 0)),
                            (int(entry["bytes"]), entry["sha256"]),
                        )
                    )
            return candidates
        if os.path.isdir(self.backup_dir):
            found = []
            for name in os.listdir(self.backup_dir):
                match = _STATE_NAME.match(name)
                if match:
                    found.append((int(match[1]), int(match[2] or 0), name))
            for epoch, batch, name in sorted(found, reverse=True):
                path = os.path.join(self.backup_dir, name)
                candidates.append((name, path, epoch, batch, None))
        candidates.extend(self._keras_candidates())
        return candidates

    def _keras_candidates(self):
        # Backups of keras.callbacks.BackupAndRestore (runs started before
        # this callback): latest.weights.h5 + training_metadata.json, and
        # the `.bkp` copies of the state before.
        candidates = []
        for suffix in ("", ".bkp"):
            weights = self._weights_path + suffix
            metadata = self._training_metadata_path + suffix
            if not os.path.isfile(weights):
                continue
            try:
                with open(metadata) as file:
                    meta = json.load(file)
                epoch, batch = int(meta["epoch"]), int(meta.get("batch", 0))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # weights without their epoch cannot resume
            candidates.append(
                (os.path.basename(weights), weights, epoch, batch, None)
            )
        return candidates

    def _check(self, path, expected):
        if not os.path.isfile(path):
            raise BackupError(errno.ENOENT, "the file is missing")
        if expected is not None:
            size, digest = expected
            actual = os.path.getsize(path)
            if actual != size:
                raise BackupError(
                    errno.EIO, f"{actual:,} bytes where {size:,} were written"
                )
            if _sha256(path) != digest:
                raise BackupError(errno.EIO, "its SHA-256 does not match")

    def on_train_begin(self, logs=None):
        if not self.model.built:
            # Keras' message, for the same mistake.
            return super().on_train_begin(logs)
        candidates = self._candidates()
        if not candidates:
            return
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        failures = []
        for name, path, epoch, batch, expected in candidates:
            try:
                self._check(path, expected)
                self.model.load_weights(path)
            except Exception as error:  # h5py raises OSError/RuntimeError/…
                reason = getattr(error, "strerror", None) or str(error)
                failures.append(f"{name}: {reason.splitlines()[0]}")
                continue
            if failures:
                _say(
                    "Training backup damaged, not used: "
                    + "; ".join(failures)
                    + f". Resuming from {name} (epoch {epoch}) instead."
                )
            self.model._initial_epoch = epoch
            self._current_epoch = epoch
            self.restored = {"file": name, "epoch": epoch, "batch": batch}
            size, digest = expected or (os.path.getsize(path), _sha256(path))
            self._newest = {**self.restored, "bytes": size, "sha256": digest}
            return
        raise BackupError(
            errno.EIO,
            f"No usable training backup in {self.backup_dir!r}: "
            + "; ".join(failures)
            + ". Delete that folder to start the run again from scratch.",
        )
