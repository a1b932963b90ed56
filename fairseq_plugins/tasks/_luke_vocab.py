"""A base for LUKE fine-tuning tasks: the converted model folder's vocabularies and tokenizer, one entity head.

Underscored: a shared base the task modules import, registering nothing itself. ``--vocab-dir``
is a converted model folder: ``dict.txt``, tokenizer files (``vocab.txt`` for WordPiece,
``vocab.json`` + ``merges.txt`` for byte-level BPE) and the entity vocabulary (LUKE-lite's when absent).
"""
import os
from typing import List, Optional, Tuple

from ..data import load_dictionary
from ..data.luke_entity_vocab import MASK, EntityVocab, find_entity_vocab
from ..errors import InputError
from ..tokenization import VocabTokenizer, build_tokenizer
from ._single_dictionary import SingleDictionaryTask


def folder_tokenizer(vocab_dir) -> Tuple[VocabTokenizer, str]:
    """(tokenizer, prefix) of a converted model folder: WordPiece from ``vocab.txt`` (no prefix), else byte-level
    BPE from ``vocab.json`` + ``merges.txt`` with the prefix space LUKE puts before each word or text piece."""
    if os.path.isfile(os.path.join(vocab_dir, "vocab.txt")):
        return build_tokenizer("bert", os.path.join(vocab_dir, "vocab.txt")), ""
    if os.path.isfile(os.path.join(vocab_dir, "vocab.json")):
        return build_tokenizer("bytebpe", os.path.join(vocab_dir, "vocab.json"),
                               os.path.join(vocab_dir, "merges.txt")), " "
    raise InputError(vocab_dir, "no tokenizer files (vocab.txt, or vocab.json + merges.txt)")


class LukeVocabTask(SingleDictionaryTask):
    """Subclasses set ``HEAD`` (the entity head's name) and write ``build_head(cfg)``."""

    HEAD = ""

    def __init__(self, cfg, dictionary, entity_vocab: EntityVocab):
        super().__init__(cfg)
        self.dictionary = dictionary
        self.entity_vocab = entity_vocab
        self.tokenizer, self.prefix = folder_tokenizer(cfg.vocab_dir)

    @staticmethod
    def load_vocabs(cfg):
        """(word dictionary, entity vocabulary) of ``--vocab-dir``."""
        if not cfg.vocab_dir:
            raise InputError(None, "--vocab-dir is required (a converted model folder)", field="vocab_dir")
        dictionary = load_dictionary(os.path.join(cfg.vocab_dir, "dict.txt"))
        return dictionary, find_entity_vocab(cfg.vocab_dir) or EntityVocab.lite()

    def word_ids(self, words: List[str]) -> List[List[int]]:
        """Each word (or text piece) tokenized alone, with the tokenizer's prefix space."""
        return [self.dictionary_ids(t) for t in self.tokenizer.tokenize_batch([self.prefix + w for w in words])]

    def dictionary_ids(self, pieces):
        ids = [self.dictionary.index(p) for p in pieces]
        return ids or [self.dictionary.unk()]

    def marker(self, token: str) -> Optional[int]:
        """The id of a marker token (``<ent>``, ``<ent2>``) when the word vocabulary has it, else None."""
        return self.dictionary.indices.get(token)

    def build_head(self, cfg):
        raise NotImplementedError(f"{type(self).__name__} must build its entity head")

    def build_model(self, cfg, from_checkpoint=False):
        model = super().build_model(cfg, from_checkpoint)
        if MASK not in self.entity_vocab:
            raise InputError(self.entity_vocab.source, "no [MASK] entity")
        model.register_entity_head(self.HEAD, self.build_head(cfg))
        return model

    def max_positions(self):
        return self.cfg.max_seq_length
