"""Family modules: arch strings and scaling tables, registered on import."""

from tfeff.models.families import efficientnet  # noqa: F401
