"""Registered optimizers."""
from . import fused_adamw, lear_adam  # noqa: F401
