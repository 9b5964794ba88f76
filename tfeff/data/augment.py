"""Albumentations pipelines run inside `tf.data`, deterministic under a seed.

Each element gets its own seed from a seeded random stream zipped into the
data set (a new stream every epoch), and is decoded and transformed in a
`tf.numpy_function` by a per-thread `Compose` re-seeded with it. So the
pairing of sample and augmentation does not depend on which parallel call
runs first: the same seed gives the same batches, run after run
(ecosystem.md §6, "Pitfalls of running it inside tf.data").

Images that cannot be decoded are skipped and counted (`DecodeErrors`), not
raised mid-epoch; readers report the count at the end.

Transforms (albumentations 2.0.8):
- classification: training RandomResizedCrop(scale) + flip + colour jitter;
  evaluation resize + centre crop of `size / (size + 32)` (EfficientNet's
  crop padding of 32 pixels).
- segmentation: training random scale (0.5-2.0) + crop with padding (mask
  padded with 255, the ignore label) + flip; evaluation resize (mask
  nearest).
- detection: training colour jitter + bbox-safe random crop + flip +
  resize; evaluation resize of the whole image (SSD evaluates unpadded,
  stretched to the square input).
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import threading

import numpy as np

from tfeff._cli import MissingPackageError
from tfeff.data.images import DecodeErrors  # noqa: F401  (readers')
from tfeff.data.images import read_bytes  # noqa: F401

IGNORE_LABEL = 255
CROP_PADDING = 32  # EfficientNet preprocessing.py: centre crop size/(size+32).


def _albumentations():
    try:
        import albumentations
    except ImportError:
        raise MissingPackageError(
            "tfeff.data pipelines need albumentations: pip install "
            '"tfeff[data]" (albumentations==2.0.8, pycocotools).'
        ) from None
    return albumentations


def _check_size(value, name):
    if isinstance(value, int):
        value = (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 8 for v in value
    ):
        raise ValueError(
            f"`{name}` must be an int or (height, width) of ints >= 8. "
            f"Received: {name}={value!r}"
        )
    return value


def classification_transform(image_size, *, training, scale=(0.08, 1.0)):
    """Albumentations Compose for classification; `image_size` (h, w)."""
    A = _albumentations()
    height, width = _check_size(image_size, "image_size")
    if training:
        return A.Compose(
            [
                A.RandomResizedCrop(size=(height, width), scale=tuple(scale)),
                A.HorizontalFlip(p=0.5),
                A.ColorJitter(
                    brightness=0.4, contrast=0.4, saturation=0.4, hue=0.0, p=0.8
                ),
            ]
        )
    resize = int(
        round(min(height, width) * (1 + CROP_PADDING / min(height, width)))
    )
    return A.Compose(
        [
            A.SmallestMaxSize(max_size=resize),
            A.CenterCrop(height=height, width=width),
        ]
    )


def segmentation_transform(crop_size, *, training, scale=(0.5, 2.0)):
    """Albumentations Compose for image + mask; `crop_size` (h, w)."""
    A = _albumentations()
    cv2 = __import__("cv2")
    height, width = _check_size(crop_size, "crop_size")
    if training:
        return A.Compose(
            [
                A.RandomScale(scale_limit=(scale[0] - 1, scale[1] - 1), p=1.0),
                A.PadIfNeeded(
                    min_height=height,
                    min_width=width,
                    border_mode=cv2.BORDER_CONSTANT,
                    fill=0,
                    fill_mask=IGNORE_LABEL,
                ),
                A.RandomCrop(height=height, width=width),
                A.HorizontalFlip(p=0.5),
            ]
        )
    return A.Compose([A.Resize(height=height, width=width)])


def detection_transform(image_size, *, training):
    """Albumentations Compose for image + boxes (normalized corners, the
    `albumentations` format) + `labels`."""
    A = _albumentations()
    height, width = _check_size(image_size, "image_size")
    bbox_params = A.BboxParams(
        format="albumentations",
        label_fields=["labels"],
        min_visibility=0.3,
        clip=True,
        filter_invalid_bboxes=True,
    )
    if training:
        transforms = [
            A.ColorJitter(
                brightness=0.3, contrast=0.3, saturation=0.3, hue=0.0, p=0.8
            ),
            A.RandomSizedBBoxSafeCrop(
                height=height, width=width, erosion_rate=0.2
            ),
            A.HorizontalFlip(p=0.5),
        ]
    else:
        transforms = [A.Resize(height=height, width=width)]
    return A.Compose(transforms, bbox_params=bbox_params)


def decode_image(data, source, errors):
    """Bytes → RGB uint8 (h, w, 3), or None (counted in `errors`).

    8- and 16-bit, grey, palette and alpha images all come out as 8-bit
    RGB (OpenCV's IMREAD_COLOR: 16-bit is scaled to 8, alpha dropped)."""
    import cv2

    if data is None:
        return None
    array = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(array, cv2.IMREAD_COLOR) if array.size else None
    if image is None:
        errors.add(source, "not a decodable image")
        return None
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def decode_mask(data, source, errors):
    """PNG bytes → uint8 (h, w) ids, or None."""
    import cv2

    if data is None:
        return None
    array = np.frombuffer(data, dtype=np.uint8)
    mask = cv2.imdecode(array, cv2.IMREAD_UNCHANGED) if array.size else None
    if mask is None or mask.ndim != 2:
        errors.add(source, "not a single-channel PNG")
        return None
    return mask


class PerThreadTransform:
    """One Compose per thread (Compose's RNG is shared state), re-seeded
    with each element's seed."""

    def __init__(self, factory):
        self._factory = factory
        self._local = threading.local()

    def __call__(self, seed, **data):
        compose = getattr(self._local, "compose", None)
        if compose is None:
            compose = self._local.compose = self._factory()
        compose.set_random_seed(int(seed) % (2**32))
        return compose(**data)


def with_element_seeds(dataset, seed):
    """Zips a per-element int64 seed into `dataset` (`(seed, element)`),
    drawn afresh every epoch but the same for the same `seed`."""
    import tensorflow as tf

    seeds = tf.data.Dataset.random(
        seed=0 if seed is None else seed, rerandomize_each_iteration=True
    )
    return tf.data.Dataset.zip(seeds, dataset)


def check_training_batch(batch_size, num_examples, training):
    """Training drops incomplete batches: a batch larger than the data set
    would leave none."""
    if (
        training
        and batch_size
        and num_examples is not None
        and batch_size > num_examples
    ):
        raise ValueError(
            f"`batch_size` ({batch_size}) is larger than the {num_examples} "
            "training examples: training drops incomplete batches, so no "
            "batch would remain."
        )


# Elements per `numpy_function` call for readers whose outputs have fixed
# shapes. One call per image costs about as much as the augmentation
# itself (tf.data hands each call to Python and back): 16 per call doubled
# the ImageNet pipeline's images per second on 2 cores (RESULTS.md).
CHUNK_SIZE = 16


def over_chunk(load):
    """`load(*element) -> tuple of arrays` applied to each element of a
    chunk (`augmented_pipeline(chunk_size=...)`), the results stacked."""

    def load_chunk(*columns):
        rows = [load(*element) for element in zip(*columns)]
        return tuple(np.stack(column) for column in zip(*rows))

    return load_chunk


def augmented_pipeline(
    data,
    to_numpy,
    *,
    training,
    seed,
    batch_size,
    shuffle_buffer,
    chunk_size=None,
):
    """Shuffle (training) → per-element seeds → `to_numpy(seed, element)`
    returning `(*outputs, ok)` → drop failed elements → batch → prefetch.

    With `chunk_size`, `to_numpy` receives `chunk_size` consecutive
    elements at once (seeds and elements batched, the last chunk shorter)
    and returns them batched; the elements, their seeds and their order are
    the same as without it.
    """
    import tensorflow as tf

    if training:
        data = data.shuffle(shuffle_buffer, seed=seed)
    data = with_element_seeds(data, seed)
    if chunk_size:
        data = data.batch(chunk_size)
    data = data.map(
        to_numpy, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    if chunk_size:
        data = data.unbatch()
    data = data.filter(lambda *element: element[-1])
    data = data.map(lambda *element: element[:-1])
    if batch_size:
        data = data.batch(batch_size, drop_remainder=training)
    return data.prefetch(tf.data.AUTOTUNE)
