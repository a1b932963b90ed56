"""Readers (one per file format, validating) and fairseq datasets."""
from . import wikipedia
from .vocab_dictionary import VocabDictionary, load_dictionary, read_vocab

__all__ = ["VocabDictionary", "load_dictionary", "read_vocab", "wikipedia"]
