"""tfeff: efficient convolutional networks for Keras 3.

Architectures are data: an arch string decodes into an `ArchSpec`, which is
scaled and costed by pure functions and built into a `keras.Model` by one
builder.

`import tfeff` imports neither Keras nor TensorFlow: every name below is
imported on first use (`tfeff/_lazy.py`), so the notation, the cost model
and the variant registry answer in milliseconds, and TensorFlow starts (its
start-up lines hidden; `TFEFF_VERBOSE=1` shows them) when a model is built.
"""

__version__ = "0.1.0"

from tfeff._lazy import lazy_exports  # noqa: E402

_SUBMODULES = (
    "applications",
    "blocks",
    "data",
    "export",
    "layers",
    "models",
    "nas",
    "profile",
    "quantize",
    "spec",
    "train",
    "viz",
    "weights",
)
_EXPORTS = {
    **{name: f"tfeff.{name}" for name in _SUBMODULES},
    "build_backbone": "tfeff.models.builder",
    "build_image_classifier": "tfeff.models.builder",
    "create_model": "tfeff.models.create",
    "list_variants": "tfeff.models.registry",
    "load_model": "tfeff.files",
    "estimate_cost": "tfeff.profile.cost",
    "ArchSpec": "tfeff.spec",
    "CompoundScaling": "tfeff.spec",
    "decode_arch": "tfeff.spec",
    "encode_arch": "tfeff.spec",
    "scale_arch": "tfeff.spec",
}
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)

from tfeff._lazy import after_keras_import  # noqa: E402

# A `.keras` file tfeff wrote loads with plain `keras.saving.load_model`
# after `import tfeff`, whether Keras was imported before or after it.
after_keras_import()

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
    "load_model",
    "profile",
    "quantize",
    "scale_arch",
    "spec",
    "train",
    "viz",
    "weights",
]
