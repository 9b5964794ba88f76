"""Reading image files that may be bad: every reader's one way to open a
file, decode it to 8-bit RGB, and skip (name once, count) what it cannot.

Decoding: 8- and 16-bit, grey, grey+alpha, palette, RGB, RGBA and CMYK
files all come out as uint8 RGB `(h, w, 3)`; 16-bit samples are scaled to
8 bits (x / 257, rounded), alpha is dropped (as Keras' and OpenCV's
readers do), and a camera's EXIF orientation is applied.
"""

import sys
import threading

import numpy as np


class DecodeErrors:
    """Thread-safe record of the files that could not be read or decoded
    (skipped). Counts files, not reads: a bad file met again in the next
    epoch is not counted again. Each file is named once on stderr when it
    is first skipped (the first `named` of them; the rest are counted)."""

    def __init__(self, named=10, say=True):
        self._lock = threading.Lock()
        self._sources = {}
        self.named = named
        self.say = say

    @property
    def count(self):
        return len(self._sources)

    @property
    def sources(self):
        """The skipped files, in the order they were met."""
        with self._lock:
            return list(self._sources)

    @property
    def examples(self):
        with self._lock:
            return [f"{s}: {e}" for s, e in list(self._sources.items())[:10]]

    def add(self, source, error):
        source = str(source)
        with self._lock:
            if source in self._sources:
                return
            self._sources[source] = str(error)
            number = len(self._sources)
        if self.say and number <= self.named:
            print(f"skipped {source}: {error}", file=sys.stderr, flush=True)
            if number == self.named:
                print(
                    "(further unreadable files are counted, not named)",
                    file=sys.stderr,
                    flush=True,
                )

    def report(self):
        """One line for the end of an epoch or run."""
        if not self.count:
            return "0 images skipped"
        shown = "; ".join(self.examples[:3])
        files = "file was" if self.count == 1 else "files were"
        return (
            f"{self.count} image {files} skipped, unreadable or not "
            f"decodable ({shown})"
        )


def read_bytes(path, errors):
    """The file's bytes, or None when it cannot be opened (a dangling
    link, no permission, a folder, an I/O error), counted in `errors`."""
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        errors.add(path, error.strerror or error)
        return None


def to_rgb_array(image):
    """A PIL image as uint8 RGB `(h, w, 3)` (see the module docstring)."""
    from PIL import ImageOps

    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit grey (PNG, TIFF). Pillow's convert("RGB") clips these to
        # 255 instead of scaling them.
        values = np.asarray(image, dtype=np.float64)
        grey = np.clip(np.round(values / 257.0), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=-1)
    if image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        grey = np.clip(np.round(values), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=-1)
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


class UnreadableImage(ValueError):
    """A file that cannot be opened or decoded as an image; names it."""


def open_rgb(path):
    """The image file at `path` as uint8 RGB; `UnreadableImage` naming the
    file and the reason when it cannot be opened or fully decoded (a
    truncated JPEG is refused, not padded with grey)."""
    from PIL import Image
    from PIL import UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            return to_rgb_array(image)
    except UnidentifiedImageError:
        raise UnreadableImage(f"{path}: not an image file") from None
    except (OSError, SyntaxError, ValueError) as error:
        # Pillow: OSError("image file is truncated ..."), SyntaxError for
        # a broken PNG chunk, ValueError for bad sizes.
        reason = getattr(error, "strerror", None) or str(error)
        if "truncated" in reason.lower():
            reason = f"the file is truncated ({reason})"
        raise UnreadableImage(f"{path}: {reason}") from None
