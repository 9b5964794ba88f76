"""Pretrained weights: catalog, readers and loaders."""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

from tfeff._lazy import register_serializables
from tfeff.weights.catalog import PretrainedWeights
from tfeff.weights.catalog import get_weights
from tfeff.weights.catalog import list_weights
from tfeff.weights.catalog import register_weights
from tfeff.weights.converters import CheckpointSource
from tfeff.weights.converters import get_source
from tfeff.weights.converters import list_sources
from tfeff.weights.loader import assign_named_weights
from tfeff.weights.loader import download
from tfeff.weights.loader import load
from tfeff.weights.loader import load_file
from tfeff.weights.loader import load_pretrained
from tfeff.weights.transform import EvalTransform
from tfeff.weights.transform import eval_transform

__all__ = [
    "CheckpointSource",
    "EvalTransform",
    "eval_transform",
    "PretrainedWeights",
    "get_source",
    "list_sources",
    "assign_named_weights",
    "download",
    "get_weights",
    "list_weights",
    "load",
    "load_file",
    "load_pretrained",
    "register_weights",
]

register_serializables(ignore=(__name__,))
