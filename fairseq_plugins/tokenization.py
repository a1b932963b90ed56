"""Tokenizers whose tokens map back to the original vocabulary's ids.

``fairseq-preprocess --srcdict dict.txt`` turns each space-separated token into an id through
the dictionary, so a pretrained embedding matrix stays valid only if that lookup returns the id
the original tokenizer would have given. Each tokenizer here therefore lets the reference engine
(HF ``tokenizers`` for WordPiece and byte-level BPE, ``sentencepiece``) produce *ids*, and spells
them through a :class:`~fairseq_plugins.data.VocabDictionary` built from the same vocabulary;
unknown words come out as the vocabulary's own unknown token. Hence, for every text,
``dictionary.encode_line(" ".join(tokenize(text)), add_if_not_exist=False, append_eos=False)``
equals the original tokenizer's ids.

:meth:`VocabTokenizer.encode_with_offsets` also gives each token's character span in the text,
for tasks whose labels are character offsets or words (LEAR's spans, BIO tagging).

:func:`tokenize_corpus` streams a text file through a tokenizer in chunks, optionally in worker
processes, for ``scripts/tokenize_text.py``.
"""
from __future__ import annotations

import json
import logging
import multiprocessing
import os
import re
from collections import deque
from dataclasses import dataclass
from typing import BinaryIO, Callable, Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence, TextIO, Tuple

from .data.vocab_dictionary import VocabDictionary, read_vocab
from .errors import InputError

__all__ = ["KINDS", "TokenOffsets", "VocabTokenizer", "WordPieceTokenizer", "ByteBPETokenizer",
           "SentencePieceTokenizer", "CharTokenizer", "SpaceTokenizer", "build_tokenizer", "looks_uncased",
           "read_merges", "CorpusStats", "tokenize_corpus"]

logger = logging.getLogger(__name__)

KINDS = ("bert", "sentencepiece", "char", "space", "bytebpe")
# BERT's own limit: longer words become the unknown token.
MAX_WORDPIECE_CHARS = 100


class TokenOffsets(NamedTuple):
    """Ids of one text and, per id, its ``(start, end)`` character span in that text (end exclusive)."""

    ids: List[int]
    offsets: List[Tuple[int, int]]


class VocabTokenizer:
    """Common interface: subclasses produce original ids, the dictionary spells them."""

    def __init__(self, dictionary: VocabDictionary, lowercase: bool, unk_index: Optional[int] = None):
        self.dictionary = dictionary
        self.lowercase = lowercase
        self.unk_index = dictionary.unk_index if unk_index is None else unk_index

    def encode_batch(self, texts: Sequence[str]) -> List[List[int]]:
        """Original vocabulary ids for each text, without special tokens."""
        raise NotImplementedError

    def tokenize_batch(self, texts: Sequence[str]) -> List[List[str]]:
        symbols = self.dictionary.symbols
        return [[symbols[i] for i in ids] for ids in self.encode_batch(texts)]

    def tokenize(self, text: str) -> List[str]:
        return self.tokenize_batch([text])[0]

    def encode_with_offsets(self, texts: Sequence[str]) -> List[TokenOffsets]:
        """The ids of :meth:`encode_batch` with each token's character span in the original text.

        Spans index the text as given (before lower-casing or accent stripping) and cover only
        what the token stands for: surrounding whitespace is trimmed, so a token of whitespace
        alone (sentencepiece's ``▁``, byte-level ``Ġ``) has an empty span at its position. A word
        split into pieces gives consecutive spans; a character BERT reads as ``[UNK]`` keeps its span.
        """
        texts = list(texts)
        return [TokenOffsets(ids, [_trim_span(text, span) for span in offsets])
                for text, (ids, offsets) in zip(texts, self._encode_offsets(texts))]

    def _encode_offsets(self, texts: List[str]) -> List[Tuple[List[int], List[Tuple[int, int]]]]:
        raise NotImplementedError(f"{type(self).__name__} gives no character offsets")


class _EngineTokenizer(VocabTokenizer):
    """A tokenizer run by an HF ``tokenizers.Tokenizer``, which batches in Rust."""

    def __init__(self, engine, dictionary: VocabDictionary, lowercase: bool):
        super().__init__(dictionary, lowercase)
        self._engine = engine

    def encode_batch(self, texts):
        return [e.ids for e in self._engine.encode_batch_fast(list(texts), add_special_tokens=False)]

    def _encode_offsets(self, texts):
        # The engine tracks every normalisation (lower-casing, accents), so offsets are the input's.
        return [(e.ids, e.offsets) for e in self._engine.encode_batch(texts, add_special_tokens=False)]


class WordPieceTokenizer(_EngineTokenizer):
    """BERT's tokenizer: basic clean-up and punctuation/CJK splitting, then greedy WordPiece.

    Like Google's original (and unlike ``transformers``), a literal ``[MASK]`` in the text is
    ordinary text, not a special token: raw corpora should not be able to inject specials.
    """

    def __init__(self, vocab_path, lowercase: Optional[bool] = None):
        from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

        vocab_path = os.fspath(vocab_path)
        if vocab_path.endswith((".json", ".model")):
            raise InputError(vocab_path, "WordPiece reads a vocab.txt with one token a line; for a JSON "
                                         "vocabulary use bytebpe, for a .model use sentencepiece")
        tokens, dictionary = _load_vocab(vocab_path, require_unk=True)
        if lowercase is None:
            lowercase = _detect_lowercase(vocab_path, tokens)
        engine = Tokenizer(models.WordPiece(vocab={t: i for i, t in enumerate(tokens)},
                                            unk_token=dictionary.unk_word,
                                            max_input_chars_per_word=MAX_WORDPIECE_CHARS))
        engine.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                       strip_accents=lowercase, lowercase=lowercase)
        engine.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        super().__init__(engine, dictionary, lowercase)


class ByteBPETokenizer(_EngineTokenizer):
    """GPT-2/RoBERTa byte-level BPE from ``encoder.json``/``vocab.json`` and ``vocab.bpe``/``merges.txt``.

    No prefix space is added, as in fairseq's RoBERTa preprocessing and GPT-2 itself.
    """

    def __init__(self, vocab_path, merges_path, lowercase: bool = False):
        from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

        vocab_path = os.fspath(vocab_path)
        if not vocab_path.endswith(".json"):
            raise InputError(vocab_path, "byte-level BPE reads its vocabulary from a JSON token -> id map "
                                         "(encoder.json or vocab.json)")
        tokens, dictionary = _load_vocab(vocab_path, require_unk=False)
        vocab = {t: i for i, t in enumerate(tokens)}
        missing = [c for c in pre_tokenizers.ByteLevel.alphabet() if c not in vocab]
        if missing:
            # Without every byte symbol some text would be dropped silently, not mapped to an id.
            raise InputError(vocab_path, f"lacks {len(missing)} of the 256 byte symbols (e.g. {missing[:5]}); "
                                         "not a byte-level BPE vocabulary")
        engine = Tokenizer(models.BPE(vocab=vocab, merges=read_merges(merges_path, vocab, vocab_path)))
        if lowercase:
            engine.normalizer = normalizers.Lowercase()
        engine.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        super().__init__(engine, dictionary, lowercase)


class SentencePieceTokenizer(VocabTokenizer):
    """A sentencepiece model; its pieces are the vocabulary, optionally checked against a given list."""

    def __init__(self, model_path, vocab_path=None, lowercase: bool = False):
        import sentencepiece

        model_path = os.fspath(model_path)
        _require_file(model_path, "sentencepiece model")
        try:
            self._processor = sentencepiece.SentencePieceProcessor(model_file=model_path)
        except (RuntimeError, OSError) as e:
            raise InputError(model_path, f"not a sentencepiece model ({e})")
        pieces = [self._processor.id_to_piece(i) for i in range(self._processor.get_piece_size())]
        for i, piece in enumerate(pieces):
            if any(c.isspace() for c in piece):
                raise InputError(model_path, f"piece {piece!r} holds whitespace, which fairseq splits tokens on",
                                 field=f"piece {i}")
        counts = None
        if vocab_path is not None:
            vocab_path = os.fspath(vocab_path)
            tokens, counts = read_vocab(vocab_path)
            _check_vocab_starts_with_pieces(pieces, tokens, vocab_path, model_path)
            pieces = tokens  # entries past the model's pieces (e.g. an added <mask>) keep their ids
        dictionary = VocabDictionary(pieces, counts, source=vocab_path or model_path)
        super().__init__(dictionary, lowercase, unk_index=self._processor.unk_id())

    def encode_batch(self, texts):
        if self.lowercase:
            texts = [t.lower() for t in texts]
        return self._processor.encode(list(texts), out_type=int)

    def _encode_offsets(self, texts):
        lowered = [_lower_with_origin(t) if self.lowercase else (t, None) for t in texts]
        out = []
        for (text, origin), mapping in zip(lowered, self._processor.encode_as_offset_mapping([t for t, _ in lowered])):
            out.append((list(mapping["ids"]), [_to_original(span, origin) for span in mapping["offsets"]]))
        return out


class _LookupTokenizer(VocabTokenizer):
    """UER-py's vocabulary-lookup tokenizers: split the text, map each piece, unknown -> unk."""

    def __init__(self, vocab_path, lowercase: bool = False):
        tokens, dictionary = _load_vocab(os.fspath(vocab_path), require_unk=True)
        # Only the file's own tokens: VocabDictionary's aliases and appended specials are not vocabulary.
        self._ids = {t: i for i, t in enumerate(tokens)}
        super().__init__(dictionary, lowercase)

    def encode_batch(self, texts):
        get, unk = self._ids.get, self.unk_index
        out = []
        for t in texts:
            t = t.lower() if self.lowercase else t
            out.append([get(t[start:end], unk) for start, end in self._spans(t)])
        return out

    def _encode_offsets(self, texts):
        get, unk = self._ids.get, self.unk_index
        out = []
        for text in texts:
            text, origin = _lower_with_origin(text) if self.lowercase else (text, None)
            spans = list(self._spans(text))
            out.append(([get(text[s:e], unk) for s, e in spans], [_to_original(span, origin) for span in spans]))
        return out

    @staticmethod
    def _spans(text: str) -> Iterable[Tuple[int, int]]:
        """Character spans of the pieces, in order."""
        raise NotImplementedError


class CharTokenizer(_LookupTokenizer):
    """Every non-whitespace character is a token (UER-py ``char``, as used for Chinese)."""

    @staticmethod
    def _spans(text):
        return ((i, i + 1) for i, c in enumerate(text) if not c.isspace())


class SpaceTokenizer(_LookupTokenizer):
    """Whitespace-separated tokens (UER-py ``space``), for text that is already tokenized."""

    @staticmethod
    def _spans(text):
        return (m.span() for m in _NON_SPACE.finditer(text))


_NON_SPACE = re.compile(r"\S+")


def _lower_with_origin(text: str) -> Tuple[str, Optional[List[int]]]:
    """``text.lower()`` and, when that changes the length (e.g. ``İ`` becomes two characters), the
    original index of each lowered character (None: positions are unchanged)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered, None
    origin = [i for i, c in enumerate(text) for _ in c.lower()]
    if len(origin) != len(lowered):  # context-dependent lower-casing changed the length: map char by char
        lowered = "".join(c.lower() for c in text)
    return lowered, origin


def _to_original(span: Tuple[int, int], origin: Optional[List[int]]) -> Tuple[int, int]:
    """A span of the lowered text as a span of the original (see :func:`_lower_with_origin`)."""
    if origin is None:
        return span
    start, end = span
    first = origin[start] if start < len(origin) else (origin[-1] + 1 if origin else 0)
    return (first, origin[end - 1] + 1) if end > start else (first, first)


def _trim_span(text: str, span: Tuple[int, int]) -> Tuple[int, int]:
    start, end = span
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def build_tokenizer(kind: str, vocab_path, merges_path=None, spm_model_path=None,
                    lowercase: Optional[bool] = None) -> VocabTokenizer:
    """The one entry point: ``kind`` is one of :data:`KINDS`.

    ``vocab_path`` is the vocabulary whose ids are kept (vocab.txt, encoder.json/vocab.json, a
    sentencepiece ``.model``, or a dict.txt). ``merges_path`` (vocab.bpe/merges.txt) is for
    ``bytebpe`` only. ``spm_model_path`` is for ``sentencepiece`` when ``vocab_path`` is a piece
    list to check against the model rather than the model itself. ``lowercase=None`` means, for
    ``bert``: ``do_lower_case`` of a tokenizer_config.json beside the vocab, else whether the vocab
    has upper-case tokens; for the others, no lower-casing.
    """
    if kind not in KINDS:
        raise InputError(None, f"unknown tokenizer {kind!r}; expected one of {', '.join(KINDS)}", field="kind")
    if merges_path is not None and kind != "bytebpe":
        raise InputError(merges_path, f"a merges file is used by the bytebpe tokenizer only, not {kind}")
    if spm_model_path is not None and kind != "sentencepiece":
        raise InputError(spm_model_path, f"a sentencepiece model is used by the sentencepiece tokenizer only, "
                                         f"not {kind}")
    if kind == "bert":
        return WordPieceTokenizer(vocab_path, lowercase)
    lowercase = bool(lowercase)
    if kind == "bytebpe":
        if merges_path is None:
            raise InputError(vocab_path, "byte-level BPE also needs its merges file (vocab.bpe or merges.txt)")
        return ByteBPETokenizer(vocab_path, merges_path, lowercase)
    if kind == "sentencepiece":
        if spm_model_path is not None:
            return SentencePieceTokenizer(spm_model_path, vocab_path, lowercase)
        if not os.fspath(vocab_path).endswith(".model"):
            raise InputError(vocab_path, "sentencepiece needs its .model file, as the vocabulary or as the model")
        return SentencePieceTokenizer(vocab_path, None, lowercase)
    return (CharTokenizer if kind == "char" else SpaceTokenizer)(vocab_path, lowercase)


def _detect_lowercase(vocab_path: str, tokens: List[str]) -> bool:
    """``do_lower_case`` from a Hugging Face tokenizer_config.json beside the vocab, else from the tokens."""
    config = os.path.join(os.path.dirname(vocab_path), "tokenizer_config.json")
    if os.path.isfile(config):
        with open(config, encoding="utf-8") as f:
            try:
                value = json.load(f).get("do_lower_case")
            except (ValueError, AttributeError) as e:  # bad JSON or UTF-8, or not an object
                raise InputError(config, f"not a tokenizer config ({e})")
        if isinstance(value, bool):
            logger.info("%s: do_lower_case=%s", config, value)
            return value
    lowercase = looks_uncased(tokens)
    logger.info("%s: %s", vocab_path, "no upper-case tokens, so lower-casing and stripping accents"
                if lowercase else "upper-case tokens present, so keeping case and accents")
    return lowercase


def looks_uncased(tokens: Iterable[str]) -> bool:
    """True when no ordinary token changes under lower-casing, as in BERT's uncased vocabularies.

    Bracketed specials (``[CLS]``, ``<S>``) do not count.
    """
    return not any(t != t.lower() for t in tokens if not (t[:1] + t[-1:] in ("[]", "<>") and len(t) > 2))


def read_merges(path, vocab: Dict[str, int], vocab_path) -> List[Tuple[str, str]]:
    """BPE merges in priority order; GPT-2's ``#version`` first line is skipped.

    Every merge's parts and result must be in the vocabulary, or encoding would fail (GPT-2's
    encoder) or lose text (``tokenizers``) later, far from the cause.
    """
    path = os.fspath(path)
    _require_file(path, "merges file")
    merges = []
    with open(path, encoding="utf-8") as f:
        try:
            for number, line in enumerate(f, 1):
                line = line.rstrip("\r\n")
                if not line or (number == 1 and line.startswith("#version")):
                    continue
                parts = line.split(" ")
                if len(parts) != 2 or not all(parts):
                    raise InputError(path, f"expected two tokens separated by one space, got {line!r}",
                                     line=number)
                for token in (parts[0], parts[1], parts[0] + parts[1]):
                    if token not in vocab:
                        raise InputError(path, f"merge {line!r} needs {token!r}, which is not in {vocab_path}",
                                         line=number)
                merges.append((parts[0], parts[1]))
        except UnicodeDecodeError as e:
            raise InputError(path, f"not UTF-8 text ({e})")
    if not merges:
        raise InputError(path, "no merges")
    return merges


def _require_file(path: str, what: str):
    if not os.path.isfile(path):
        raise InputError(path, f"{what} not found")


def _load_vocab(path: str, require_unk: bool) -> Tuple[List[str], VocabDictionary]:
    """The file's tokens in id order and their dictionary; ``require_unk`` for tokenizers that emit unk."""
    tokens, counts = read_vocab(path)
    dictionary = VocabDictionary(tokens, counts, source=path)
    if require_unk and dictionary.unk_index >= len(tokens):
        raise InputError(path, "has no unknown token ([UNK] or <unk>), which this tokenizer maps unknown text to")
    return tokens, dictionary


def _check_vocab_starts_with_pieces(pieces: List[str], tokens: List[str], vocab_path: str, model_path: str):
    """The vocabulary must start with the model's pieces, in order, or ids would disagree."""
    for i, piece in enumerate(pieces):
        if i >= len(tokens):
            raise InputError(vocab_path, f"has {len(tokens)} entries but {model_path} has {len(pieces)} pieces")
        if tokens[i] != piece:
            raise InputError(vocab_path, f"entry {tokens[i]!r} differs from piece {i} {piece!r} of {model_path}",
                             line=i + 1, field="token")


# --------------------------------------------------------------------------- corpus streaming

@dataclass
class CorpusStats:
    lines: int = 0
    blank: int = 0
    tokens: int = 0
    unknown: int = 0
    emptied: int = 0  # non-blank lines with no tokens: they now read as document boundaries

    def add(self, other: "CorpusStats"):
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def tokenize_corpus(tokenizer: VocabTokenizer, source: BinaryIO, source_name: str, sink: TextIO,
                    workers: int = 1, chunk_lines: int = 2000,
                    progress: Optional[Callable[[int], object]] = None) -> CorpusStats:
    """Write one line of space-joined tokens per input line; blank lines stay blank.

    Lines are stripped first, as fairseq's RoBERTa encoder and UER-py do. The input is read in
    chunks of ``chunk_lines``; with ``workers > 1`` chunks are tokenized in worker processes,
    at most two per worker in flight, so memory stays bounded and order is kept.
    """
    stats = CorpusStats()
    chunks = _read_chunks(source, source_name, chunk_lines)
    for block, chunk_stats in _map_chunks(_tokenize_chunk, tokenizer, chunks, workers):
        sink.write(block)
        stats.add(chunk_stats)
        if progress is not None:
            progress(chunk_stats.lines)
    return stats


def _read_chunks(source: BinaryIO, name: str, chunk_lines: int) -> Iterator[List[str]]:
    """Decode line by line so that a bad byte is reported with its line number."""
    chunk = []
    for number, raw in enumerate(source, 1):
        try:
            chunk.append(raw.decode("utf-8").strip())
        except UnicodeDecodeError as e:
            raise InputError(name, f"not UTF-8 text ({e})", line=number)
        if len(chunk) == chunk_lines:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _map_chunks(function, state, chunks, workers):
    """``function(state, chunk)`` per chunk, in order; with ``workers > 1`` in worker processes that get
    ``state`` once, at most two chunks per worker in flight. ``function`` must be module-level (picklable)."""
    if workers <= 1:
        for chunk in chunks:
            yield function(state, chunk)
        return
    with multiprocessing.Pool(workers, initializer=_init_worker, initargs=(state,)) as pool:
        pending = deque()
        for chunk in chunks:
            pending.append(pool.apply_async(_worker_chunk, (function, chunk)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def _tokenize_chunk(tokenizer: VocabTokenizer, texts: List[str]) -> Tuple[str, CorpusStats]:
    symbols, unk = tokenizer.dictionary.symbols, tokenizer.unk_index
    stats = CorpusStats(lines=len(texts))
    out = []
    for text, ids in zip(texts, tokenizer.encode_batch(texts)):
        stats.tokens += len(ids)
        stats.unknown += ids.count(unk)
        stats.blank += not text
        stats.emptied += bool(text) and not ids
        out.append(" ".join([symbols[i] for i in ids]))
    out.append("")
    return "\n".join(out), stats


_WORKER_STATE = None  # a worker process's tokenizer (or other state of _map_chunks)


def _init_worker(state):
    global _WORKER_STATE
    # One Rust thread per worker process: the processes are the parallelism.
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    _WORKER_STATE = state


def _worker_chunk(function, texts: List[str]):
    return function(_WORKER_STATE, texts)
