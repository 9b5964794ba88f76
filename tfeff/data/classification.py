"""Small image-classification data sets as numpy arrays, for proxy tasks.

`load_dataset("digits" | "cifar10" | "folder:PATH", resolution)` returns an
`ImageDataset` of uint8 RGB images in [0, 255] (what tfeff models take with
their in-model preprocessing) resized to `resolution`, split into train and
validation parts.

- `digits`: scikit-learn's bundled handwritten digits (1,797 8x8 images, 16
  grey levels, 10 classes), installed with scikit-learn, so no download.
  Upsampled bilinearly and replicated to 3 channels.
- `cifar10`: `keras.datasets.cifar10` (downloads once on a connected machine);
  its test split is the validation part.
- `folder:PATH`: one sub-folder per class holding images (jpg, png, bmp,
  gif, webp), class names sorted; a stratified validation split.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import dataclasses
import os

import numpy as np
from PIL import Image

from tfeff._cli import MissingPackageError
from tfeff.data.names import DATASETS  # noqa: F401  (re-exported)
from tfeff.data.names import check_dataset_name

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")


@dataclasses.dataclass(frozen=True)
class ImageDataset:
    """Images as uint8 `(n, resolution, resolution, 3)`, labels as int32."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    class_names: tuple
    skipped: tuple = ()  # files that could not be read (folder: only)

    @property
    def num_classes(self):
        return len(self.class_names)

    @property
    def resolution(self):
        return int(self.x_train.shape[1])

    def describe(self):
        skipped = ""
        if self.skipped:
            skipped = f" ({len(self.skipped)} unreadable files skipped)"
        return (
            f"{self.name}: {len(self.x_train)} train / {len(self.x_val)} "
            f"validation images at {self.resolution}x{self.resolution}, "
            f"{self.num_classes} classes{skipped}"
        )


def _check_resolution(resolution):
    if isinstance(resolution, bool) or not isinstance(resolution, int):
        raise TypeError(
            f"`resolution` must be an int. Received: resolution={resolution!r}"
        )
    if resolution < 8:
        raise ValueError(
            f"`resolution` must be >= 8. Received: resolution={resolution}"
        )


def resize_images(images, resolution):
    """Bilinear resize of uint8 `(n, h, w[, c])` images to RGB squares."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.shape[1:3] == (resolution, resolution):
        out = images
    else:
        out = np.stack(
            [
                np.asarray(
                    Image.fromarray(
                        image[..., 0] if image.shape[-1] == 1 else image
                    ).resize((resolution, resolution), Image.BILINEAR)
                )
                for image in images
            ]
        )
        if out.ndim == 3:
            out = out[..., None]
    if out.shape[-1] == 1:
        out = np.repeat(out, 3, axis=-1)
    return out.astype(np.uint8)


def stratified_split(labels, validation_fraction, seed):
    """Indices (train, val): each class split by `validation_fraction`."""
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(
            "`validation_fraction` must be in (0, 1). Received: "
            f"validation_fraction={validation_fraction!r}"
        )
    rng = np.random.default_rng(seed)
    train, val = [], []
    for label in np.unique(labels):
        indices = np.flatnonzero(labels == label)
        rng.shuffle(indices)
        # At least one of each class on both sides when it has 2 or more.
        count = max(1, int(round(len(indices) * validation_fraction)))
        count = min(count, max(1, len(indices) - 1))
        val.extend(indices[:count])
        train.extend(indices[count:])
    train, val = np.array(sorted(train)), np.array(sorted(val))
    return rng.permutation(train), val


def load_digits(resolution=32, validation_fraction=0.2, seed=0):
    """scikit-learn's handwritten digits, upsampled to `resolution`."""
    _check_resolution(resolution)
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError as error:
        raise MissingPackageError(
            "The embedded `digits` data set ships with scikit-learn: "
            "pip install 'tfeff[search]'"
        ) from error
    bunch = sklearn_digits()
    # 16 grey levels (0..16) -> [0, 255].
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    labels = bunch.target.astype(np.int32)
    images = resize_images(images, resolution)
    train, val = stratified_split(labels, validation_fraction, seed)
    return ImageDataset(
        "digits",
        images[train],
        labels[train],
        images[val],
        labels[val],
        tuple(str(i) for i in range(10)),
    )


def load_cifar10(resolution=32):
    """CIFAR-10 through `keras.datasets` (downloaded once, then cached)."""
    _check_resolution(resolution)
    import keras

    (x_train, y_train), (x_val, y_val) = keras.datasets.cifar10.load_data()
    names = (
        "airplane", "automobile", "bird", "cat", "deer",
        "dog", "frog", "horse", "ship", "truck",
    )  # fmt: skip
    return ImageDataset(
        "cifar10",
        resize_images(x_train, resolution),
        y_train.reshape(-1).astype(np.int32),
        resize_images(x_val, resolution),
        y_val.reshape(-1).astype(np.int32),
        names,
    )


def _load_image(path, resolution):
    """uint8 RGB at `resolution`; `UnreadableImage` naming a bad file."""
    from tfeff.data.images import open_rgb

    image = Image.fromarray(open_rgb(path))
    return np.asarray(
        image.resize((resolution, resolution), Image.BILINEAR), np.uint8
    )


def load_image_folder(
    path, resolution=32, validation_fraction=0.2, seed=0, *, errors=None
):
    """A class-per-folder tree: `path/<class name>/<image>`.

    Files that cannot be opened or decoded are skipped, named once on
    stderr and listed in `errors` (a `tfeff.data.images.DecodeErrors`;
    one is made if None). A class needs at least 2 readable images (one
    for training, one for validation): fewer is a ValueError naming the
    class and its counts, as is a folder of fewer than 2 classes.
    """
    from tfeff.data.images import DecodeErrors
    from tfeff.data.images import UnreadableImage

    _check_resolution(resolution)
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(
            "`validation_fraction` must be in (0, 1). Received: "
            f"validation_fraction={validation_fraction!r}"
        )
    if not os.path.isdir(path):
        raise ValueError(
            f"The image folder does not exist or is not a directory. "
            f"Received: path={path!r}"
        )
    errors = DecodeErrors() if errors is None else errors
    classes = sorted(
        entry
        for entry in os.listdir(path)
        if os.path.isdir(os.path.join(path, entry))
        and not entry.startswith(".")
    )
    if len(classes) < 2:
        raise ValueError(
            "An image folder needs at least 2 class sub-folders. "
            f"Received: path={path!r} with classes {classes}"
        )
    images, labels, too_few = [], [], []
    for label, name in enumerate(classes):
        folder = os.path.join(path, name)
        found = sorted(
            entry
            for entry in os.listdir(folder)
            if entry.lower().endswith(IMAGE_EXTENSIONS)
            and not entry.startswith(".")
        )
        if not found:
            raise ValueError(
                f"Class folder {folder!r} holds no images "
                f"(extensions {', '.join(IMAGE_EXTENSIONS)})."
            )
        readable = 0
        for entry in found:
            file = os.path.join(folder, entry)
            try:
                images.append(_load_image(file, resolution))
            except UnreadableImage as error:
                errors.add(file, str(error).split(": ", 1)[-1])
                continue
            labels.append(label)
            readable += 1
        if readable < 2:
            too_few.append(f"{name!r} {readable} of {len(found)}")
    if too_few:
        raise ValueError(
            "Each class of an image folder needs at least 2 readable images "
            "(one for training, one for validation). Readable images: "
            + ", ".join(too_few)
            + f" (in {path!r})."
        )
    labels = np.array(labels, dtype=np.int32)
    images = np.stack(images)
    train, val = stratified_split(labels, validation_fraction, seed)
    return ImageDataset(
        f"folder:{path}",
        images[train],
        labels[train],
        images[val],
        labels[val],
        tuple(classes),
        skipped=tuple(errors.sources),
    )


def load_dataset(name, resolution=32, seed=0):
    """`digits`, `cifar10` or `folder:PATH` as an `ImageDataset`.

    Example:

    >>> data = load_dataset("digits", resolution=16)
    >>> data.x_train.shape[1:], data.num_classes
    ((16, 16, 3), 10)
    """
    check_dataset_name(name)
    if name == "digits":
        return load_digits(resolution, seed=seed)
    if name == "cifar10":
        return load_cifar10(resolution)
    return load_image_folder(name[len("folder:") :], resolution, seed=seed)
