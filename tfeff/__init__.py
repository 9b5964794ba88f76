"""tfeff: efficient convolutional networks for Keras 3.

Architectures are data: an arch string decodes into an `ArchSpec`, which is
scaled and costed by pure functions and built into a `keras.Model` by one
builder.
"""

__version__ = "0.1.0"

from tfeff._console import quiet_keras_import  # noqa: E402

# TensorFlow's start-up lines (oneDNN, cuInit, CPU features) are not the
# user's business; TFEFF_VERBOSE=1 shows them (tfeff/_console.py).
quiet_keras_import()

from tfeff import applications  # noqa: E402
from tfeff import data  # noqa: E402
from tfeff import layers  # noqa: E402
from tfeff import profile  # noqa: E402
from tfeff import quantize  # noqa: E402
from tfeff import spec  # noqa: E402
from tfeff import train  # noqa: E402
from tfeff import viz  # noqa: E402
from tfeff import weights  # noqa: E402
from tfeff.models import build_backbone  # noqa: E402
from tfeff.models import build_image_classifier  # noqa: E402
from tfeff.models import create_model  # noqa: E402
from tfeff.models import list_variants  # noqa: E402
from tfeff.profile import estimate_cost  # noqa: E402
from tfeff.spec import ArchSpec  # noqa: E402
from tfeff.spec import CompoundScaling  # noqa: E402
from tfeff.spec import decode_arch  # noqa: E402
from tfeff.spec import encode_arch  # noqa: E402
from tfeff.spec import scale_arch  # noqa: E402

__all__ = [
    "ArchSpec",
    "CompoundScaling",
    "applications",
    "data",
    "build_backbone",
    "build_image_classifier",
    "create_model",
    "decode_arch",
    "encode_arch",
    "estimate_cost",
    "layers",
    "list_variants",
    "profile",
    "quantize",
    "scale_arch",
    "spec",
    "train",
    "viz",
    "weights",
]
