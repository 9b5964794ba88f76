"""TensorFlow's own console output, kept out of the user's way.

TensorFlow and LiteRT write to the process's stderr from C++: a dozen
`I0000`/`E0000` lines when TensorFlow is imported (oneDNN, "failed call to
cuInit", CPU features) and, for every TFLite conversion, lines such as
`fully_quantize: 0, ...`, `NodeDef mentions attribute
use_unbounded_threadpool` and absl's "Please consider providing the
trackable_obj". Some are written before absl's logging is initialized, so
`TF_CPP_MIN_LOG_LEVEL` does not stop them; only the file descriptor can.

`native_output_captured()` points fd 2 at a temporary file for the length of
a block and drops what was written there, unless the block raises: then the
captured text is written to stderr after all, since it usually says why.
`TFEFF_VERBOSE=1` in the environment turns all of this off; a CLI's
`--verbose` turns off what can still be turned off once TensorFlow runs
(the captures and the Python loggers; TensorFlow reads its C++ log level
once, at start-up).

Stdlib only: `tfeff/__init__.py` uses it before TensorFlow is imported.
"""

import contextlib
import logging
import os
import sys
import tempfile

VERBOSE_ENV = "TFEFF_VERBOSE"


def verbose():
    """Whether TensorFlow's own logging is wanted (`TFEFF_VERBOSE=1`)."""
    return os.environ.get(VERBOSE_ENV, "").strip() not in ("", "0")


def set_verbose(on):
    """`--verbose` of a CLI: show TensorFlow's logs from here on."""
    if on:
        os.environ[VERBOSE_ENV] = "1"
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
    else:
        os.environ.pop(VERBOSE_ENV, None)
    _set_python_loggers(on)


def _set_python_loggers(on):
    level = logging.NOTSET if on else logging.ERROR
    # absl's "Please consider providing the trackable_obj", TensorFlow's
    # AutoGraph notes: Python loggers, silenced by level.
    for name in ("absl", "tensorflow"):
        logging.getLogger(name).setLevel(level)


def _stderr_fd():
    try:
        return sys.__stderr__.fileno()
    except (AttributeError, OSError, ValueError):
        return None  # No real stderr (embedded interpreters).


@contextlib.contextmanager
def native_output_captured():
    """Drops what C++ code writes to stderr in the block, unless it raises.

    Python's own `sys.stderr` is flushed first and keeps working (it is the
    same descriptor, so text written through it in the block is captured
    too and shown on failure). Nested uses capture once.
    """
    fd = _stderr_fd()
    if verbose() or fd is None or getattr(_state, "depth", 0):
        _state.depth = getattr(_state, "depth", 0) + 1
        try:
            yield
        finally:
            _state.depth -= 1
        return
    _set_python_loggers(False)
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), fd)
        _state.depth = 1
        failed = True
        try:
            yield
            failed = False
        finally:
            _state.depth = 0
            sys.stderr.flush()
            os.dup2(saved, fd)
            os.close(saved)
            if failed:
                sink.seek(0)
                text = sink.read().decode("utf-8", "replace")
                if text.strip():
                    sys.stderr.write(text)
                    sys.stderr.flush()


class _State:
    depth = 0


_state = _State()


def quiet_keras_import():
    """Imports Keras (and so its backend, TensorFlow by default) with the
    backend's start-up lines captured (see above).

    A no-op when Keras is already imported or `TFEFF_VERBOSE=1`.
    """
    if "keras" in sys.modules or verbose():
        return
    with keras_start_captured():
        import keras  # noqa: F401


@contextlib.contextmanager
def keras_start_captured():
    """Captures the backend's start-up lines around code that imports Keras
    (`quiet_keras_import`, and the loader `import tfeff` puts in front of a
    user's own `import keras`)."""
    # Read once, when TensorFlow starts: 3 also hides the ERROR-level notes
    # it logs while running (every `fit` logged "NodeDef mentions attribute
    # use_unbounded_threadpool"); real errors still raise exceptions.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with native_output_captured():
        yield
        keras = sys.modules.get("keras")
        if keras is not None and keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            # Device discovery ("failed call to cuInit" on a host without a
            # GPU) happens at the first op otherwise, outside this capture.
            tf.config.list_physical_devices()
