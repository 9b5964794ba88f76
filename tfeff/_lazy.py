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

import importlib
import sys

from tfeff._console import quiet_keras_import

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
    if _Registration.done or "keras" not in sys.modules:
        return
    if _initialising(set(ignore)):
        return
    _Registration.done = True  # First: the imports below call back here.
    for name in SERIALIZABLE_MODULES:
        importlib.import_module(name)
