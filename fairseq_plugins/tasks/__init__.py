"""Registered tasks."""
from . import vocab_masked_lm, vocab_sentence_prediction  # noqa: F401
