"""A fairseq ``Dictionary`` whose ids are exactly those of the original vocabulary.

fairseq's ``Dictionary`` puts ``<s> <pad> </s> <unk>`` at ids 0-3 and shifts every
other token, so the rows of a converted embedding matrix would mean other tokens.
Here every token keeps its original id and the special roles point at the
vocabulary's own entries (``[CLS] [PAD] [SEP] [UNK]`` for BERT, ``<s> <pad> </s>
<unk>`` for RoBERTa). fairseq's names for those roles, and ``<mask>``, are aliases,
so fairseq code that asks for ``add_symbol("<mask>")`` gets ``[MASK]`` instead of
a new row.
"""
from __future__ import annotations

import logging
import os
from typing import Iterable, List

from fairseq.data import Dictionary

from .json_files import read_json_object
from .text_files import text_lines
from ..errors import InputError

logger = logging.getLogger(__name__)

# Role -> spellings, first match wins. The fairseq spelling of each role becomes an alias.
# GPT-2's one special token, <|endoftext|>, plays bos, eos and unk (it has no padding token).
ROLE_SPELLINGS = {
    "bos": ("[CLS]", "<s>", "<cls>", "<|endoftext|>"),
    "pad": ("[PAD]", "<pad>"),
    "eos": ("[SEP]", "</s>", "<sep>", "<|endoftext|>"),
    "unk": ("[UNK]", "<unk>", "<|endoftext|>"),
    "mask": ("[MASK]", "<mask>"),
}
FAIRSEQ_SPELLING = {"bos": "<s>", "pad": "<pad>", "eos": "</s>", "unk": "<unk>", "mask": "<mask>"}


class VocabDictionary(Dictionary):
    """Dictionary over an ordered token list; see the module docstring."""

    def __init__(self, tokens: Iterable[str], counts: Iterable[int] = None, source: str = "<memory>"):
        super().__init__(add_special_symbols=False)
        self.source = source
        tokens = list(tokens)
        counts = list(counts) if counts is not None else [0] * len(tokens)
        for i, token in enumerate(tokens):
            if not token or any(c in token for c in " \t\r\n"):
                raise InputError(source, f"token {token!r} is empty or holds a space, tab or newline",
                                 line=i + 1, field="token")
            if token in self.indices:
                raise InputError(source, f"token {token!r} repeats the entry at id {self.indices[token]}",
                                 line=i + 1, field="token")
            self.symbols.append(token)
            self.indices[token] = i
            self.count.append(counts[i])
        self.nspecial = 0
        self.aliases = {}
        for role in ("bos", "pad", "eos", "unk"):
            index = self._find_role(role)
            if index is None:
                spelling = FAIRSEQ_SPELLING[role]
                index = Dictionary.add_symbol(self, spelling, n=0)
                logger.warning("%s has no %s token; appended %s at id %d", source, role, spelling, index)
            setattr(self, f"{role}_index", index)
            setattr(self, f"{role}_word", self.symbols[index])
        mask = self._find_role("mask")
        if mask is not None:
            self.aliases[FAIRSEQ_SPELLING["mask"]] = mask

    def _find_role(self, role):
        for spelling in ROLE_SPELLINGS[role]:
            if spelling in self.indices:
                index = self.indices[spelling]
                self.aliases.setdefault(FAIRSEQ_SPELLING[role], index)
                return index
        return None

    def mask(self):
        """Index of the mask token, or None when the vocabulary has none."""
        return self.index(FAIRSEQ_SPELLING["mask"]) if self.has_mask() else None

    def has_mask(self):
        return FAIRSEQ_SPELLING["mask"] in self.indices or FAIRSEQ_SPELLING["mask"] in self.aliases

    def index(self, sym):
        if sym in self.indices:
            return self.indices[sym]
        return self.aliases.get(sym, self.unk_index)

    def add_symbol(self, word, n=1, overwrite=False):
        if word not in self.indices and word in self.aliases:
            return self.aliases[word]
        return super().add_symbol(word, n=n, overwrite=overwrite)

    def save(self, f):
        """Every entry, specials included, as ``token count`` lines (fairseq's dict.txt format)."""
        if isinstance(f, (str, os.PathLike)):
            with open(f, "w", encoding="utf-8") as fd:
                return super().save(fd)
        return super().save(f)

    @classmethod
    def load(cls, f, add_special_symbols=True):  # signature of Dictionary.load
        return cls(*read_vocab(f), source=os.fspath(f))


def read_vocab(path):
    """Tokens (and counts) in id order from vocab.txt, dict.txt, a JSON vocab or a sentencepiece model."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(path, "vocabulary file not found")
    if path.endswith(".model"):
        import sentencepiece

        try:
            sp = sentencepiece.SentencePieceProcessor(model_file=path)
        except (RuntimeError, OSError) as e:
            raise InputError(path, f"not a sentencepiece model ({e})")
        return [sp.id_to_piece(i) for i in range(sp.get_piece_size())], None
    if path.endswith(".json"):
        return _read_json_vocab(path), None
    return _read_text_vocab(path)


def _read_json_vocab(path) -> List[str]:
    mapping = read_json_object(path, "a vocabulary mapping token -> id")
    if not mapping:
        raise InputError(path, "expected a non-empty JSON object mapping token -> id")
    tokens = [None] * len(mapping)
    for token, index in mapping.items():
        if not isinstance(index, int) or not 0 <= index < len(mapping):
            raise InputError(path, f"id {index!r} is not an integer in [0, {len(mapping)})", field=repr(token))
        if tokens[index] is not None:
            raise InputError(path, f"id {index} is given to both {tokens[index]!r} and {token!r}", field=repr(token))
        tokens[index] = token
    return tokens


def _read_text_vocab(path):
    """One entry a line: ``token``, ``token count`` (fairseq dict.txt) or ``piece<TAB>score`` (sentencepiece)."""
    tokens, counts = [], []
    for number, entry in text_lines(path, "vocabulary file"):
        line = entry
        if line.endswith(" #fairseq:overwrite"):
            line = line[: -len(" #fairseq:overwrite")]
        count = 0
        if "\t" in line:
            line = line.split("\t", 1)[0]
        elif " " in line:
            line, _, count_text = line.rpartition(" ")
            try:
                count = int(count_text)
            except ValueError:
                raise InputError(path, f"expected 'token' or 'token count', got {entry!r}",
                                 line=number, field="count")
        if not line:
            raise InputError(path, "empty token", line=number, field="token")
        tokens.append(line)
        counts.append(count)
    if not tokens:
        raise InputError(path, "vocabulary is empty")
    return tokens, counts


def lists_padding(path) -> bool:
    """True when a dictionary file spells out a padding entry (fairseq's own dict.txt never does)."""
    path = os.fspath(path)
    if path.endswith((".json", ".model")):
        return True
    pads = set(ROLE_SPELLINGS["pad"])
    with open(path, encoding="utf-8", errors="replace") as f:
        return any(line.split("\t")[0].split(" ")[0].strip() in pads for line in f)


def load_dictionary(path) -> Dictionary:
    """A VocabDictionary for an original vocabulary, fairseq's Dictionary for anything else (labels)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(path, "dictionary file not found")
    if lists_padding(path):
        return VocabDictionary.load(path)
    _read_text_vocab(path)  # names the line of a bad byte or entry; fairseq's loader would not
    try:
        return Dictionary.load(path)
    except (ValueError, RuntimeError) as e:
        raise InputError(path, f"not a fairseq dictionary ('token count' a line): {e}")
