"""Counting a corpus's tokens into a new vocabulary, as UER-py's ``build_vocab.py`` does.

The tokenizers of :mod:`fairseq_plugins.tokenization` map text to the ids of an existing vocabulary,
which a vocabulary being built does not have yet, so the splitting here needs none: ``char``
(every non-space character), ``space`` (whitespace-separated), ``bert`` (BERT's basic tokenization:
clean-up, CJK characters and punctuation split off, optional lower-casing; no WordPiece) and
``word`` (jieba's word segmentation). The vocabulary lists UER's reserved tokens first, then the
tokens by falling count, ties in order of first appearance, which is the same for any number of
worker processes because chunks are merged in corpus order.
"""
from collections import Counter
from typing import BinaryIO, Callable, List, Optional, Sequence

from ..tokenization import _map_chunks, _read_chunks

SPLITTERS = ("bert", "char", "space", "word")
RESERVED = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


class Splitter:
    """Vocabulary-free splitting (see the module docstring); picklable, built lazily in each process."""

    def __init__(self, kind: str, lowercase: bool = False):
        if kind not in SPLITTERS:
            raise ValueError(f"unknown splitter {kind!r}; expected one of {', '.join(SPLITTERS)}")
        self.kind, self.lowercase = kind, lowercase
        self._split: Optional[Callable[[str], List[str]]] = None

    def __getstate__(self):
        return {"kind": self.kind, "lowercase": self.lowercase, "_split": None}

    def __call__(self, text: str) -> List[str]:
        if self._split is None:
            self._split = self._build()
        return self._split(text.lower() if self.lowercase and self.kind != "bert" else text)

    def _build(self):
        if self.kind == "char":
            return lambda text: [c for c in text if not c.isspace()]
        if self.kind == "space":
            return str.split
        if self.kind == "word":
            import jieba

            jieba.setLogLevel(60)
            return lambda text: [w for w in jieba.lcut(text) if not w.isspace()]
        from tokenizers import normalizers, pre_tokenizers

        normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=self.lowercase, lowercase=self.lowercase)
        pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        return lambda text: [piece for piece, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text))]


def count_tokens(source: BinaryIO, name: str, splitter: Splitter, workers: int = 1, chunk_lines: int = 10000,
                 progress: Optional[Callable[[int], object]] = None) -> Counter:
    """Token counts of a UTF-8 corpus, in order of first appearance; ``workers`` processes count chunks,
    at most two chunks per worker in flight, so memory stays bounded."""
    total: Counter = Counter()
    for counts, lines in _map_chunks(_count_chunk, splitter, _read_chunks(source, name, chunk_lines), workers):
        total.update(counts)
        if progress is not None:
            progress(lines)
    return total


def build_vocab(counts: Counter, min_count: int = 1, max_size: Optional[int] = None,
                reserved: Sequence[str] = RESERVED) -> List[str]:
    """Reserved tokens, then tokens seen at least ``min_count`` times by falling count (at most
    ``max_size`` entries in all)."""
    tokens = list(reserved)
    seen = set(tokens)
    for token, count in sorted(counts.items(), key=lambda item: -item[1]):  # stable: ties keep first appearance
        if count < min_count or (max_size is not None and len(tokens) >= max_size):
            break
        if token not in seen:
            tokens.append(token)
            seen.add(token)
    return tokens


def _count_chunk(splitter: Splitter, texts: List[str]):
    counts: Counter = Counter()
    for text in texts:
        counts.update(splitter(text))
    return counts, len(texts)

