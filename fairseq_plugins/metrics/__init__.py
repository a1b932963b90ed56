"""metrics."""
from . import span_f1  # noqa: F401
from . import typing_f1  # noqa: F401
from . import classification, ranking  # noqa: F401
