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
            `"keras_weights"`, `"safetensors"`, `"pth"` or `"mxnet_params"`.
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
        source: str or None. For PyTorch checkpoints, the reference that
            wrote the file (`tfeff.weights.list_sources()`); it fixes the
            layout and the numerics the model is built with.
        hash_source: str. Where `file_hash` was read, or why there is none.
        default: bool. The entry `weights="imagenet"` loads (others by
            `weights="imagenet:<tag>"`).
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
    source: str = None
    hash_source: str = ""
    default: bool = False

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


def no_imagenet_weights_error(variant, tag=None):
    """The error for `weights="imagenet"` where none are published."""
    tags = sorted(w.tag for w in _CATALOG.values() if w.variant == variant)
    if tag is not None and tags:
        return ValueError(
            f"No ImageNet weights tagged {tag!r} for variant {variant!r}; "
            f"its tags: {tags} (weights='imagenet:<tag>')."
        )
    known = sorted({w.variant for w in _CATALOG.values()})
    return ValueError(
        f"No ImageNet weights are published for variant {variant!r}"
        + (f" under weights='imagenet' (its tags: {tags})" if tags else "")
        + f". Variants with weights: {known}. Train it, or load a "
        "checkpoint from a path: weights='/path/to/model.keras' (or "
        ".weights.h5, a keras .h5, a PyTorch .safetensors/.pth with "
        "source='<library>:<model>')."
    )


def parse_imagenet_tag(weights):
    """`"imagenet"` → None, `"imagenet:<tag>"` → tag; else not ImageNet."""
    if not isinstance(weights, str):
        return False, None
    if weights == "imagenet":
        return True, None
    if weights.startswith("imagenet:"):
        return True, weights[len("imagenet:") :]
    return False, None


def find_weights(variant, *, include_top, tag=None):
    """The ImageNet entry for `variant` (its default, or `tag`), or None."""
    if tag is not None:
        entry = _CATALOG.get(f"{variant}.{tag}")
        if entry is not None and entry.format == "keras_h5":
            if entry.include_top != include_top:
                suffix = "" if include_top else "_notop"
                entry = _CATALOG.get(
                    f"{variant}.{tag.replace('_notop', '')}{suffix}"
                )
        return entry
    for entry in _CATALOG.values():
        if entry.variant != variant or not entry.default:
            continue
        if entry.format == "keras_h5" and entry.include_top != include_top:
            continue
        return entry
    return None


def pretrained_variants():
    """Variants with a default ImageNet entry (`weights="imagenet"`)."""
    return sorted({w.variant for w in _CATALOG.values() if w.default})


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
                hash_source="md5 of keras/src/applications/efficientnet.py WEIGHTS_HASHES",
                default=True,
            )
        )

# timm checkpoints on the Hugging Face Hub (`timm/<model>.<tag>`,
# model.safetensors). Evaluation transform: timm 1.0.31's pretrained_cfg;
# top-1: timm results/results-imagenet.csv (@ 0173a139). The Hub lists each
# file's sha256 on its page, which cannot be read from where this catalog
# was written, so no hash is pinned (the download is not hash-checked).
TIMM_HUB = "https://huggingface.co/timm/"
TIMM_NO_HASH = (
    "none pinned: the Hub's sha256 (on the file's page) was not readable "
    "where this entry was written"
)
# (variant, tag, timm model.tag, input size, crop, interpolation, mean/std
# [0.5 = Lite's], top-1, default for weights="imagenet").
_TIMM = (
    ("efficientnet_b0", "ra_in1k", "efficientnet_b0.ra_in1k", 224, 0.875, "bicubic", None, 77.694, False),
    ("efficientnet_lite0", "in1k", "tf_efficientnet_lite0.in1k", 224, 0.875, "bicubic", 0.5, 74.830, True),
    ("efficientnet_lite1", "in1k", "tf_efficientnet_lite1.in1k", 240, 0.882, "bicubic", 0.5, 76.644, True),
    ("efficientnet_lite2", "in1k", "tf_efficientnet_lite2.in1k", 260, 0.890, "bicubic", 0.5, 77.464, True),
    ("efficientnet_lite3", "in1k", "tf_efficientnet_lite3.in1k", 300, 0.904, "bilinear", 0.5, 79.808, True),
    ("efficientnet_lite0", "ra_in1k", "efficientnet_lite0.ra_in1k", 224, 0.875, "bicubic", None, 75.480, False),
    ("mixnet_s", "in1k", "tf_mixnet_s.in1k", 224, 0.875, "bicubic", None, 75.652, True),
    ("mixnet_m", "in1k", "tf_mixnet_m.in1k", 224, 0.875, "bicubic", None, 76.954, True),
    ("mixnet_l", "in1k", "tf_mixnet_l.in1k", 224, 0.875, "bicubic", None, 78.776, True),
    ("mixnet_s", "ft_in1k", "mixnet_s.ft_in1k", 224, 0.875, "bicubic", None, 75.994, False),
    ("mixnet_m", "ft_in1k", "mixnet_m.ft_in1k", 224, 0.875, "bicubic", None, 77.258, False),
    ("mixnet_l", "ft_in1k", "mixnet_l.ft_in1k", 224, 0.875, "bicubic", None, 78.966, False),
    ("ghostnet_100", "in1k", "ghostnet_100.in1k", 224, 0.875, "bicubic", None, 73.982, True),
    ("mobilenetv2_050", "lamb_in1k", "mobilenetv2_050.lamb_in1k", 224, 0.875, "bicubic", None, 65.950, False),
    ("mobilenetv2_100", "ra_in1k", "mobilenetv2_100.ra_in1k", 224, 0.875, "bicubic", None, 72.976, False),
    ("mobilenetv2_140", "ra_in1k", "mobilenetv2_140.ra_in1k", 224, 0.875, "bicubic", None, 76.520, False),
)  # fmt: skip
for (
    _variant,
    _tag,
    _timm,
    _size,
    _crop,
    _interp,
    _half,
    _top1,
    _default,
) in _TIMM:
    _stats = (
        ((0.5,) * 3, (0.5,) * 3)
        if _half
        else ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    )
    register_weights(
        PretrainedWeights(
            variant=_variant,
            tag=_tag,
            url=f"{TIMM_HUB}{_timm}/resolve/main/model.safetensors",
            file_hash=None,
            format="safetensors",
            input_size=_size,
            crop_fraction=_crop,
            interpolation=_interp,
            mean=_stats[0],
            std=_stats[1],
            top1=_top1,
            recipe=f"timm {_timm}",
            source="timm:" + _timm.split(".")[0],
            hash_source=TIMM_NO_HASH,
            default=_default,
        )
    )

# torchvision's ShuffleNetV2 (torchvision/models/shufflenetv2.py v0.29,
# IMAGENET1K_V1): the file name ends in the first hex digits of its sha256,
# which torchvision checks; so do we. Top-1: the weights' meta (acc@1);
# transform: resize 256 (232 for 1.5x/2.0x) bilinear, crop 224.
TORCHVISION = "https://download.pytorch.org/models/"
_TORCHVISION = (
    ("shufflenetv2_050", "x0_5", "shufflenetv2_x0.5-f707e7126e.pth", 60.552, 224 / 256),
    ("shufflenetv2_100", "x1_0", "shufflenetv2_x1-5666bf0f80.pth", 69.362, 224 / 256),
    ("shufflenetv2_150", "x1_5", "shufflenetv2_x1_5-3c479a10.pth", 72.996, 224 / 232),
    ("shufflenetv2_200", "x2_0", "shufflenetv2_x2_0-8be3c8ee.pth", 76.23, 224 / 232),
)  # fmt: skip
for _variant, _width, _file, _top1, _crop in _TORCHVISION:
    register_weights(
        PretrainedWeights(
            variant=_variant,
            tag="tv_in1k",
            url=TORCHVISION + _file,
            file_hash=_file.rsplit("-", 1)[1].split(".")[0],
            format="pth",
            crop_fraction=_crop,
            interpolation="bilinear",
            top1=_top1,
            recipe="torchvision references/classification (IMAGENET1K_V1)",
            license="BSD-3-Clause",
            source=f"torchvision:shufflenet_v2_{_width}",
            hash_source="sha256 prefix in the file name (torchvision's check)",
            default=True,
        )
    )

# EdgeNets' ESPNetv2 ImageNet files (sacmehta/EdgeNets @ 2b232d3f,
# model/classification/model_zoo/README.md): fetched at that commit, checked
# against the git blob ids of that commit's tree (the publisher's own
# record of the bytes; `hash_algorithm="git-blob-sha1"`). Top-1 from the
# model zoo README; evaluation: resize to 256 (224 / 0.875), centre crop 224,
# ImageNet mean/std (EdgeNets data_loader/classification/imagenet.py).
EDGENETS = (
    "https://raw.githubusercontent.com/sacmehta/EdgeNets/"
    "2b232d3f7fb60658755dad1ebca0ffc895cc795e/model/classification/model_zoo/"
)
EDGENETS_LICENSE = (
    "MIT (LICENSE added in bb1a414 and removed in 2b232d3, the same day; "
    "no license file at the pinned commit)"
)
_ESPNETV2 = (
    ("espnetv2_050", "0.5", "12249b9cf29a722a5efe0ee73002b67854b410cf", 57.68),
    ("espnetv2_100", "1.0", "78c1bad0c94004d8328578e7cd5db8ab764bf8fd", 66.09),
    ("espnetv2_125", "1.25", "96e4554599ea2099e84f14908036a640ab39598b", 67.95),
    ("espnetv2_150", "1.5", "a33e1727856bc929cc00ef497df2befcc575f4d9", 69.17),
    ("espnetv2_200", "2.0", "2ff6a4b97c21f24816826fd9917215b38351d337", 72.06),
)
# EdgeNets' DiCENet ImageNet files (same commit and checks as ESPNetv2's);
# top-1 from the model zoo README.
_DICENET = (
    ("dicenet_020", "0.2", "3aef33270050bbdd615202ef75b2f0e3572d99e0", 46.19),
    ("dicenet_050", "0.5", "19ffdcf76edfecfacda2c660c65a92bf51ad8585", 54.04),
    ("dicenet_075", "0.75", "ef733ea648be1aebd797151584bc35f78a7126a4", 62.80),
    ("dicenet_100", "1.0", "74d7ddbd750cdaca9ce0715f7d3adf4ff2ec3512", 66.45),
    ("dicenet_125", "1.25", "caf009640383cc223f4b6dab875dfa2b4dd6ead5", 67.77),
    ("dicenet_150", "1.5", "5a069320668d8a044b9a730a06d270b8d6aee599", 69.51),
    ("dicenet_175", "1.75", "ce62b251a5983ac427d8744fd556293f0f2a1aff", 70.26),
    ("dicenet_200", "2.0", "15585f79434ccde52feecc4f7c3fefacfc8dba18", 70.99),
)
for _folder, _table in (("espnetv2", _ESPNETV2), ("dicenet", _DICENET)):
    for _variant, _scale, _blob, _top1 in _table:
        register_weights(
            PretrainedWeights(
                variant=_variant,
                tag="edgenets_in1k",
                url=f"{EDGENETS}{_folder}/{_folder}_s_{_scale}_imagenet_224x224.pth",
                file_hash=_blob,
                hash_algorithm="git-blob-sha1",
                format="pth",
                interpolation="bilinear",
                top1=_top1,
                recipe="EdgeNets main.py (SGD, cyclic learning rate)",
                license=EDGENETS_LICENSE,
                source=f"edgenets:{_variant}",
                hash_source="git blob id in sacmehta/EdgeNets @ 2b232d3f",
                default=True,
            )
        )

# EdgeNets' ShuffleNetV2 0.5x (PReLU; same commit and checks), top-1 from
# the model zoo README.
register_weights(
    PretrainedWeights(
        variant="shufflenetv2_prelu_050",
        tag="edgenets_in1k",
        url=f"{EDGENETS}shufflenetv2/shufflenetv2_s_0.5_imagenet_224x224.pth",
        file_hash="c53f87618478b8e81d98d3489783146f7cb80031",
        hash_algorithm="git-blob-sha1",
        format="pth",
        interpolation="bilinear",
        top1=59.69,
        recipe="EdgeNets main.py (SGD, cyclic learning rate)",
        license=EDGENETS_LICENSE,
        source="edgenets:shufflenetv2_050",
        hash_source="git blob id in sacmehta/EdgeNets @ 2b232d3f",
        default=True,
    )
)

# IGCV3-D: the MXNet checkpoint homles11/IGCV3 releases in models/ ("IGCV3
# pretrained model is released in `models` folder", README.md @ 83aba2f3),
# checked against the git blob id of that commit's tree. The README gives
# 70.6 (before retraining) and 72.2 (after) top-1 without saying which the
# file is, so no top-1 is recorded. Inputs: RGB 0-255 minus the ImageNet
# mean, no std (common/data.py); validation images resized to 256 and
# centre-cropped to 224 (`min_random_scale = 0.533` of 480-pixel records),
# ImageRecordIter's bilinear resize.
register_weights(
    PretrainedWeights(
        variant="igcv3_d",
        tag="igcv3_in1k",
        url=(
            "https://raw.githubusercontent.com/homles11/IGCV3/"
            "83aba2f34702836cc1b82350163909034cd9b553/models/igcv3-0000.params"
        ),
        file_hash="c4b0a995619676b526f41669d0fbff8886a79943",
        hash_algorithm="git-blob-sha1",
        format="mxnet_params",
        interpolation="bilinear",
        mean=(123.68 / 255.0, 116.779 / 255.0, 103.939 / 255.0),
        std=(1.0 / 255.0,) * 3,
        top1=None,
        recipe="homles11/IGCV3 train_imagenet.py (MXNet; 480 epochs)",
        license=(
            "none stated (no license file at 83aba2f3; detection/LICENSE "
            "covers only that folder)"
        ),
        source="mxnet:igcv3",
        hash_source="git blob id in homles11/IGCV3 @ 83aba2f3",
        default=True,
    )
)

# keras.applications MobileNetV2 (keras/src/applications/mobilenet_v2.py):
# BASE_WEIGHT_PATH + "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_
# {alpha}_{rows}[_no_top].h5". Keras loads them without a hash, and none is
# published; inputs are x / 127.5 - 1 (mean = std = 0.5 of [0, 1] pixels).
# Top-1 and the evaluation crop: tensorflow/models research/slim/nets/
# mobilenet/README.md (the checkpoints these files were converted from;
# slim evaluates a 0.875 central crop, bilinear).
KERAS_MOBILENETV2 = (
    "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
    "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_"
)
_KERAS_MOBILENETV2 = (
    ("mobilenetv2_035", 0.35, 60.3),
    ("mobilenetv2_050", 0.5, 65.4),
    ("mobilenetv2_075", 0.75, 69.8),
    ("mobilenetv2_100", 1.0, 71.8),
    ("mobilenetv2_130", 1.3, 74.4),
    ("mobilenetv2_140", 1.4, 75.0),
)
for _variant, _alpha, _top1 in _KERAS_MOBILENETV2:
    for _include_top, _suffix in ((True, ""), (False, "_no_top")):
        register_weights(
            PretrainedWeights(
                variant=_variant,
                tag="keras_in1k" + ("" if _include_top else "_notop"),
                url=f"{KERAS_MOBILENETV2}{float(_alpha)}_224{_suffix}.h5",
                file_hash=None,
                format="keras_h5",
                include_top=_include_top,
                interpolation="bilinear",
                mean=(0.5,) * 3,
                std=(0.5,) * 3,
                top1=_top1,
                recipe="tensorflow/models slim mobilenet_v2, via keras.applications",
                hash_source=(
                    "none published: keras.applications loads these files "
                    "without a hash (mobilenet_v2.py get_file)"
                ),
                default=True,
            )
        )
