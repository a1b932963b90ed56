"""metrics."""
from . import span_f1  # noqa: F401
