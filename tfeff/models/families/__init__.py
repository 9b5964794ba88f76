"""Family modules: arch strings and scaling tables, registered on import."""

from tfeff.models.families import dicenet  # noqa: F401
from tfeff.models.families import efficientnet  # noqa: F401
from tfeff.models.families import espnet  # noqa: F401
from tfeff.models.families import espnetv2  # noqa: F401
from tfeff.models.families import ghostnet  # noqa: F401
from tfeff.models.families import mixnet  # noqa: F401
from tfeff.models.families import mobilenetv2  # noqa: F401
from tfeff.models.families import shufflenetv2  # noqa: F401
