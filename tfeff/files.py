"""Atomic file writes: a crash never leaves a half-written file under its
final name (DESIGN.md, Contracts: Persistence)."""

import contextlib
import errno
import json
import os
import shutil
import tempfile


@contextlib.contextmanager
def _replacing(path, suffix):
    """Yields `(descriptor, temporary path)` of a new file beside `path`,
    renamed onto `path` when the block ends, removed if it raises: a crash
    never leaves a half-written file under the final name."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=directory, prefix=".", suffix=suffix
    )
    try:
        yield handle, temporary
        _give_usual_mode(temporary)
        os.replace(temporary, path)
    except BaseException as error:
        if os.path.exists(temporary):
            os.remove(temporary)
        if isinstance(error, OSError) and error.errno in _DISK_FULL:
            raise DiskFullError(path, error) from error
        raise


_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def is_disk_full(error):
    """Whether an OSError is a full disk (or quota)."""
    return error.errno in _DISK_FULL


def free_bytes(directory):
    """Bytes free on the filesystem of `directory`, or None if unknown."""
    try:
        return shutil.disk_usage(directory).free
    except OSError:
        return None


class DiskFullError(OSError):
    """No space (or quota) left for a file; names it and the free space.
    The file's previous content, if any, is untouched."""

    def __init__(self, path, cause):
        free = free_bytes(os.path.dirname(os.path.abspath(path)))
        free = (
            "free space unknown"
            if free is None
            else f"{free / 1e6:.1f} MB free"
        )
        super().__init__(
            cause.errno,
            f"No space left on the device for {path!r} ({free}); nothing "
            "was written under that name",
            path,
        )

    def __str__(self):
        return self.strerror


def atomic_write_bytes(path, data):
    """Writes `data` to a temporary file beside `path`, then renames it."""
    with _replacing(path, ".partial") as (handle, _):
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())


def _give_usual_mode(path):
    # mkstemp creates 0600 files; give the final file the usual mode.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def atomic_write_text(path, text):
    """`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path, obj, indent=2):
    """`atomic_write_text` of `json.dumps(obj)`."""
    atomic_write_text(
        path, json.dumps(obj, indent=indent, sort_keys=False) + "\n"
    )


def save_figure_atomically(fig, path, **savefig_kwargs):
    """A matplotlib figure as a PNG at `path`, atomically; the figure is
    closed."""
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", **savefig_kwargs)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def save_keras_atomically(model, path, *, include_optimizer=True):
    """`model.save` to a temporary `.keras` beside `path`, then a rename.

    Args:
        model: `keras.Model`.
        path: str. The `.keras` file.
        include_optimizer: bool. False saves the architecture and weights
            alone, uncompiled: a third of the size for a model trained
            with momentum, and what a deliverable needs. (Keras 3 has no
            such switch: `clone_model` recompiles the clone and builds its
            optimizer, so the copy here is made from the config.)
    """
    if not include_optimizer and getattr(model, "optimizer", None) is not None:
        model = _uncompiled_copy(model)
    with _replacing(path, ".keras") as (handle, temporary):
        os.close(handle)  # Keras writes the file by its name.
        model.save(temporary)


def _uncompiled_copy(model):
    copy = type(model).from_config(model.get_config())
    copy.set_weights(model.get_weights())
    for attribute in ("_settings",):  # tfeff's arch and preprocessing.
        if hasattr(model, attribute):
            setattr(copy, attribute, getattr(model, attribute))
    return copy


def load_model(path, **kwargs):
    """`keras.saving.load_model` with every class tfeff registers loaded.

    A `.keras` file naming tfeff's layers, losses or schedules needs their
    modules imported first; `import tfeff` arranges that when Keras loads
    (`tfeff/_lazy.py`), and this makes sure of it. `tfeff.load_model` is
    this function.

    Args:
        path: str. A `.keras` file.
        **kwargs: passed to `keras.saving.load_model` (`compile=False`).
    """
    import tfeff._quiet  # noqa: F401  (stdlib-only module: Keras on use)

    from tfeff._lazy import register_serializables

    register_serializables()
    import keras

    return keras.saving.load_model(path, **kwargs)
