"""Block registry: one builder function per block kind."""

_BUILDERS = {}


def register_block(kind):
    """Registers a builder function for a block kind; duplicates are errors.

    A builder has the signature `fn(x, spec, context) -> KerasTensor`
    (`context` a `BlockContext`: name, drop-path rate, input image, output
    stride) and emits built-in Keras layers named `f"{context.name}_{part}"`.
    """

    def decorator(fn):
        if kind in _BUILDERS:
            raise KeyError(f"Block kind {kind!r} is already registered.")
        _BUILDERS[kind] = fn
        return fn

    return decorator


def get_block_builder(kind):
    """Returns the builder registered for `kind`."""
    try:
        return _BUILDERS[kind]
    except KeyError:
        raise ValueError(
            f"No builder for block kind {kind!r}. Registered: "
            f"{sorted(_BUILDERS)}"
        ) from None


def registered_kinds():
    """Names of all registered block kinds."""
    return sorted(_BUILDERS)
