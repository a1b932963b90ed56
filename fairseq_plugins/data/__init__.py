"""Readers (one per file format, validating) and fairseq datasets."""
from . import lear_dataset, lear_formats, lear_inputs, wikipedia
from .luke_entity_vocab import EntityVocab
from .vocab_dictionary import VocabDictionary, load_dictionary, read_vocab

__all__ = ["EntityVocab", "VocabDictionary", "load_dictionary", "read_vocab", "wikipedia"]
