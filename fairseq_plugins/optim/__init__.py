"""Registered optimizers."""
from . import lear_adam  # noqa: F401
