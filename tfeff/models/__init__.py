"""Builder, variant registry and families."""

from tfeff.models.builder import IMAGENET_MEAN
from tfeff.models.builder import IMAGENET_STD
from tfeff.models.builder import EfficientBackbone
from tfeff.models.builder import ImageClassifier
from tfeff.models.builder import build_backbone
from tfeff.models.builder import build_features
from tfeff.models.builder import build_image_classifier
from tfeff.models.compound import ScaledVariant
from tfeff.models.compound import compound_scale
from tfeff.models.create import create_model
from tfeff.models.create import load_backbone_weights
from tfeff.models.registry import Published
from tfeff.models.registry import Variant
from tfeff.models.registry import get_variant
from tfeff.models.registry import list_variants
from tfeff.models.registry import register_variant
from tfeff.models.segmentation import SemanticSegmenter
from tfeff.models.ssd import SSDDetector

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "EfficientBackbone",
    "ImageClassifier",
    "Published",
    "SSDDetector",
    "ScaledVariant",
    "SemanticSegmenter",
    "Variant",
    "build_backbone",
    "build_features",
    "build_image_classifier",
    "compound_scale",
    "create_model",
    "load_backbone_weights",
    "get_variant",
    "list_variants",
    "register_variant",
]
