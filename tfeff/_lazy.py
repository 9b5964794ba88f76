"""Packages whose names import on first use.

`import tfeff` has to stay cheap: the notation, the cost model and the
variant registry are pure Python, and `tfeff-profile` or `--help` should
answer without starting TensorFlow. A package lists what it exports and
where each name lives; the module behind a name is imported when the name
is first read. Names whose module needs Keras import it through
`quiet_keras_import`, so TensorFlow's start-up lines stay hidden however the
first Keras-using name is reached.

Stdlib only.
"""

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import sys

from tfeff._console import keras_start_captured
from tfeff._console import quiet_keras_import
from tfeff._console import verbose

# Modules that import neither Keras nor TensorFlow.
PURE_MODULES = frozenset(
    {
        "tfeff.spec",
        "tfeff.models.registry",
        "tfeff.models.compound",
        "tfeff.profile.budget",
        "tfeff.profile.cost",
    }
)


def lazy_exports(module_globals, exports):
    """A module `__getattr__` and `__dir__` for a package.

    Args:
        module_globals: dict. The package's `globals()`.
        exports: dict. Exported name → the module that defines it
            (`"tfeff.models.builder"`), `(module, attribute)` for a name
            exported under another name, or the submodule itself
            (`"applications": "tfeff.applications"`).

    Returns:
        (`__getattr__`, `__dir__`), to assign at module level.
    """
    package = module_globals["__name__"]

    def __getattr__(name):
        try:
            source = exports[name]
        except KeyError:
            raise AttributeError(
                f"module {package!r} has no attribute {name!r}"
            ) from None
        source, attribute = (
            source if isinstance(source, tuple) else (source, name)
        )
        if source not in PURE_MODULES:
            quiet_keras_import()
        module = importlib.import_module(source)
        value = (
            module
            if source == f"{package}.{name}"
            else getattr(module, attribute)
        )
        module_globals[name] = value  # Later reads skip this function.
        if source not in PURE_MODULES:
            register_serializables()
        return value

    def __dir__():
        return sorted(set(module_globals) | set(exports))

    return __getattr__, __dir__


# The modules that register tfeff's Keras-serializable classes (layers,
# losses, metrics, schedules, models): a `.keras` file tfeff wrote names
# them, and Keras finds only registered classes.
SERIALIZABLE_MODULES = (
    "tfeff.blocks.ops",
    "tfeff.layers.blocks",
    "tfeff.models.builder",
    "tfeff.models.segmentation",
    "tfeff.models.ssd.losses",
    "tfeff.models.ssd.model",
    "tfeff.quantize.layers",
    "tfeff.quantize.qat",
    "tfeff.train.losses",
    "tfeff.train.metrics",
    "tfeff.train.schedules",
    "tfeff.export.detection",
)


class _Registration:
    done = False


def _initialising(ignore):
    return [
        name
        for name, module in list(sys.modules.items())
        if name.startswith("tfeff.")
        and name not in ignore
        and getattr(getattr(module, "__spec__", None), "_initializing", False)
    ]


def register_serializables(*, ignore=()):
    """Imports every module that registers Keras-serializable classes, once
    Keras is loaded, so that `keras.saving.load_model` reads tfeff's files.

    Called when a Keras-using name is first read through a lazy package
    and at the end of each Keras-using package's `__init__` (`ignore` its
    own name). It waits while another tfeff module is half imported (the
    imports here could meet it half done); the next call does the work.
    """
    # A None entry is an import made to fail (tests/test_layering.py).
    if _Registration.done or sys.modules.get("keras") is None:
        return
    if _initialising(set(ignore)):
        return
    _Registration.done = True  # First: the imports below call back here.
    for name in SERIALIZABLE_MODULES:
        importlib.import_module(name)


class _KerasLoader(importlib.abc.Loader):
    """Runs Keras' own loader with TensorFlow's start-up lines hidden, then
    registers tfeff's classes (a user's `import keras` after `import
    tfeff`)."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        quiet = (
            contextlib.nullcontext() if verbose() else keras_start_captured()
        )
        with quiet:
            self.loader.exec_module(module)
        register_serializables()

    def __getattr__(self, name):
        # get_source, get_resource_reader, ...: Keras' own loader's.
        return getattr(self.loader, name)


class _KerasFinder(importlib.abc.MetaPathFinder):
    """Finds `keras` once, for `_KerasLoader`; then leaves `sys.meta_path`."""

    def find_spec(self, name, path=None, target=None):
        if name != "keras":
            return None
        sys.meta_path[:] = [f for f in sys.meta_path if f is not self]
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _KerasLoader(spec.loader)
        return spec


def after_keras_import():
    """What `import tfeff` arranges: tfeff's Keras classes are registered as
    soon as Keras is loaded, by whoever loads it, so `keras.saving.
    load_model` reads tfeff's files after `import tfeff` as it always did.

    Keras already loaded: registers now. Not yet: a one-shot finder wraps
    Keras' loader (TensorFlow's start-up lines hidden unless
    `TFEFF_VERBOSE=1`, as `quiet_keras_import` does).
    """
    if "keras" in sys.modules:
        register_serializables()
    elif not any(isinstance(f, _KerasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _KerasFinder())
