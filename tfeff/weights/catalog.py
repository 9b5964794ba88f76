"""Catalog of pretrained weight files, keyed `"<variant>.<tag>"` as in timm."""

import dataclasses

# keras.applications EfficientNet files: BASE_WEIGHTS_PATH + name + ".h5" or
# "_notop.h5", with the md5 hashes of keras/src/applications/efficientnet.py
# WEIGHTS_HASHES (keras-team/keras @ 3422977a; ../shared/reference/
# ecosystem.md §1).
KERAS_BASE_URL = "https://storage.googleapis.com/keras-applications/"
KERAS_EFFICIENTNET_MD5 = {
    "b0": (
        "902e53a9f72be733fc0bcb005b3ebbac",
        "50bc09e76180e00e4465e1a485ddc09d",
    ),
    "b1": (
        "1d254153d4ab51201f1646940f018540",
        "74c4e6b3e1f6a1eea24c589628592432",
    ),
    "b2": (
        "b15cce36ff4dcbd00b6dd88e7857a6ad",
        "111f8e2ac8aa800a7a99e3239f7bfb39",
    ),
    "b3": (
        "ffd1fdc53d0ce67064dc6a9c7960ede0",
        "af6d107764bb5b1abb91932881670226",
    ),
    "b4": (
        "18c95ad55216b8f92d7e70b3a046e2fc",
        "ebc24e6d6c33eaebbd558eafbeedf1ba",
    ),
    "b5": (
        "ace28f2a6363774853a83a0b21b9421a",
        "38879255a25d3c92d5e44e04ae6cec6f",
    ),
    "b6": (
        "165f6e37dce68623721b423839de8be5",
        "9ecce42647a20130c1f39a5d4cb75743",
    ),
    "b7": (
        "8c03f828fec3ef71311cd463b6759d99",
        "cbcfe4450ddf6f3ad90b1b398090fe4a",
    ),
}


@dataclasses.dataclass(frozen=True)
class PretrainedWeights:
    """One downloadable weights file.

    Attributes:
        variant: str. Registered variant name.
        tag: str. What the file holds (`"keras_in1k"`, `"keras_in1k_notop"`).
        url: str. Download address (`https://` or `file://`).
        file_hash: str. Hash of the file (`hash_algorithm`).
        hash_algorithm: str. `"md5"` for the keras.applications files, whose
            published hashes are md5; `"sha256"` for files we publish.
        format: str. `"keras_h5"` (keras.applications layout), `"keras"`,
            `"keras_weights"`, `"safetensors"` or `"pth"`.
        include_top: bool. Whether the file holds the classifier.
        dataset: str.
        num_classes: int.
        input_size: int.
        crop_fraction: float.
        interpolation: str.
        mean, std: per-channel statistics of [0, 1] pixels.
        top1: float or None. Only if measured by us.
        recipe: str or None.
        arch: str or None. Arch string the weights were trained on; None
            means "the variant's resolved arch".
        license: str.
        stores_std_as_variance: bool. keras.applications files store the
            ImageNet std in the normalization layer's variance slot and add
            a `Rescaling(1/sqrt(std))` when they load them
            (tensorflow/tensorflow#49930); the loader folds that in.
    """

    variant: str
    tag: str
    url: str
    file_hash: str
    hash_algorithm: str = "sha256"
    format: str = "keras_h5"
    include_top: bool = True
    dataset: str = "imagenet-1k"
    num_classes: int = 1000
    input_size: int = 224
    crop_fraction: float = 0.875
    interpolation: str = "bicubic"
    mean: tuple = (0.485, 0.456, 0.406)
    std: tuple = (0.229, 0.224, 0.225)
    top1: float = None
    recipe: str = None
    arch: str = None
    license: str = "Apache-2.0"
    stores_std_as_variance: bool = False

    @property
    def key(self):
        return f"{self.variant}.{self.tag}"

    @property
    def file_name(self):
        return self.url.rsplit("/", 1)[-1]


_CATALOG = {}


def register_weights(weights):
    """Adds a `PretrainedWeights` entry; a duplicate key raises `KeyError`."""
    if weights.key in _CATALOG:
        raise KeyError(f"Weights {weights.key!r} are already registered.")
    _CATALOG[weights.key] = weights
    return weights


def list_weights(variant=None):
    """Keys of catalogued weights, optionally for one variant."""
    return sorted(
        key
        for key, w in _CATALOG.items()
        if variant is None or w.variant == variant
    )


def get_weights(key):
    """The `PretrainedWeights` registered as `key`."""
    try:
        return _CATALOG[key]
    except KeyError:
        raise ValueError(
            f"No pretrained weights {key!r}. Known: {list_weights()}"
        ) from None


def no_imagenet_weights_error(variant):
    """The error for `weights="imagenet"` where none are published."""
    return ValueError(
        f"No ImageNet weights are published for variant {variant!r} "
        "(tfeff fetches the official keras.applications files for "
        "efficientnet_b0..b7). Train it, or load a checkpoint from a path: "
        "weights='/path/to/model.keras' (or .weights.h5, a keras .h5, a "
        "PyTorch .safetensors/.pth)."
    )


def find_weights(variant, *, include_top):
    """The ImageNet entry for `variant`, or None when there is none."""
    tag = "keras_in1k" if include_top else "keras_in1k_notop"
    return _CATALOG.get(f"{variant}.{tag}")


_RESOLUTIONS = {
    "b0": 224,
    "b1": 240,
    "b2": 260,
    "b3": 300,
    "b4": 380,
    "b5": 456,
    "b6": 528,
    "b7": 600,
}
for _size, (_top, _notop) in KERAS_EFFICIENTNET_MD5.items():
    for _include_top, _hash, _suffix in (
        (True, _top, ""),
        (False, _notop, "_notop"),
    ):
        register_weights(
            PretrainedWeights(
                variant=f"efficientnet_{_size}",
                tag="keras_in1k" + _suffix,
                url=f"{KERAS_BASE_URL}efficientnet{_size}{_suffix}.h5",
                file_hash=_hash,
                hash_algorithm="md5",
                format="keras_h5",
                include_top=_include_top,
                input_size=_RESOLUTIONS[_size],
                recipe="tensorflow/tpu efficientnet (AutoAugment), via keras.applications",
                stores_std_as_variance=True,
            )
        )
