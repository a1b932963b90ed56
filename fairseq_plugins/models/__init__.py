"""Registered models: one encoder core plus task heads."""
from . import bert_plugin  # noqa: F401
