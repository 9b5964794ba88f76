"""Builder, variant registry and families.

Names import on first use (`tfeff/_lazy.py`): the registry and the
families are pure Python, the builder needs Keras.
"""

from tfeff._lazy import lazy_exports

_SUBMODULES = (
    "builder",
    "compound",
    "create",
    "families",
    "registry",
    "segmentation",
    "ssd",
)
_EXPORTS = {
    "IMAGENET_MEAN": "tfeff.models.builder",
    "IMAGENET_STD": "tfeff.models.builder",
    "EfficientBackbone": "tfeff.models.builder",
    "ImageClassifier": "tfeff.models.builder",
    "build_backbone": "tfeff.models.builder",
    "build_features": "tfeff.models.builder",
    "build_image_classifier": "tfeff.models.builder",
    "ScaledVariant": "tfeff.models.compound",
    "compound_scale": "tfeff.models.compound",
    "create_model": "tfeff.models.create",
    "load_backbone_weights": "tfeff.models.create",
    "Published": "tfeff.models.registry",
    "Variant": "tfeff.models.registry",
    "get_variant": "tfeff.models.registry",
    "list_variants": "tfeff.models.registry",
    "register_variant": "tfeff.models.registry",
    "SemanticSegmenter": "tfeff.models.segmentation",
    "SSDDetector": "tfeff.models.ssd",
    "builder": "tfeff.models.builder",
    "compound": "tfeff.models.compound",
    "create": "tfeff.models.create",
    "families": "tfeff.models.families",
    "registry": "tfeff.models.registry",
    "segmentation": "tfeff.models.segmentation",
    "ssd": "tfeff.models.ssd",
}
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
__all__ = sorted(set(_EXPORTS) - set(_SUBMODULES))
