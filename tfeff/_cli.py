"""What every tfeff command line shares: a library error is one line on
stderr and exit status 2 (`--traceback` shows the rest), and an output
folder is checked for writing before any model is built."""

import contextlib
import os
import tempfile


class MissingPackageError(ImportError):
    """An optional package a feature needs is not installed; the message
    says which and what to `pip install`."""


# Errors that are the user's to fix (a value, a file, a full disk, an
# optional package), said in one line. Anything else is a bug of ours and
# keeps its traceback.
USER_ERRORS = (ValueError, TypeError, OSError, MissingPackageError)


def add_traceback_flag(parser):
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="on an error, show the whole Python traceback, not one line",
    )
    return parser


def one_line(error):
    """The error's message on one line (the first line when a library
    wrote several), with its type when the message alone is unclear."""
    text = str(error).strip()
    if isinstance(error, OSError) and error.filename and not text:
        text = f"{error.strerror}: {error.filename!r}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    if isinstance(error, KeyError):
        text = f"KeyError: {text}"
    return text


@contextlib.contextmanager
def errors_as_one_line(parser, args=None):
    """Inside the block, a `ValueError`, `TypeError` or `OSError` ends the
    program with `prog: error: message` and status 2, unless the user
    asked for `--traceback`; Ctrl-C ends it with one line and status 130."""
    try:
        yield
    except USER_ERRORS as error:
        if getattr(args, "traceback", False):
            raise
        parser.exit(2, f"{parser.prog}: error: {one_line(error)}\n")
    except KeyboardInterrupt:
        if getattr(args, "traceback", False):
            raise
        parser.exit(130, f"{parser.prog}: interrupted\n")


def check_output_folder(path, argument="--out"):
    """Proves that `path` is, or can be made, a writable folder, by writing
    and removing a file in it or in its nearest existing parent (nothing
    is created): a ValueError naming the argument and the path, before any
    work, rather than an OSError after the model is built."""
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise ValueError(f"{argument} must be a folder. Received: {path!r}")
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(
            f"{argument} must be a folder, but {path!r} is a file."
        )
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        parent = os.path.dirname(existing)
        if parent == existing:
            break
        existing = parent
    try:
        if not os.path.isdir(existing):
            raise NotADirectoryError(
                0, f"{existing!r} is not a folder", existing
            )
        handle, probe = tempfile.mkstemp(dir=existing, prefix=".write-check-")
        os.close(handle)
        os.remove(probe)
    except OSError as error:
        raise ValueError(
            f"{argument} {path!r} is not a writable folder: "
            f"{error.strerror or error}"
        ) from None
    return path
