"""UER-py's pre-training instances, built from tokenized documents at preprocessing time.

A sentence is a 2 x n int array: token ids and word-start flags (1 = first token of a word, which
whole-word masking keeps together). Per target (UER's ``--target`` of preprocess.py):
- ``bert``/``albert``: ``[CLS] A [SEP] B [SEP]`` from a document's consecutive sentences, filled up
  to ``seq_length`` (shorter with ``short_seq_prob``), label 1 when B is a random other document's
  text (NSP) or when A and B are swapped (SOP);
- ``mlm``: ``[CLS] piece [SEP]`` slices of each document, or with ``full_sentences`` of the
  documents concatenated (RoBERTa);
- ``lm``/``bilm``: ``[CLS] doc [SEP]`` cut into ``seq_length + 1`` token windows (the task shifts);
- ``cls``: ``[CLS] text [SEP]`` with the line's label.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from .uer_masking import MaskingConfig, mask_tokens

Sentence = np.ndarray  # 2 x n: ids, word starts


@dataclass
class Instance:
    tokens: np.ndarray
    word_starts: np.ndarray
    label: int = -1
    target: Optional[np.ndarray] = None  # static masking: original ids at masked positions, pad elsewhere


@dataclass
class InstanceConfig:
    target: str
    seq_length: int
    cls_idx: int
    sep_idx: int
    short_seq_prob: float = 0.1
    full_sentences: bool = False
    dup_factor: int = 1
    masking: Optional[MaskingConfig] = None  # set for static masking


def _special(idx: int) -> Sentence:
    return np.array([[idx], [1]], dtype=np.int64)


def _join(*parts: Sentence) -> Sentence:
    return np.concatenate(parts, axis=1) if parts else np.zeros((2, 0), dtype=np.int64)


def _truncate_pair(a: Sentence, b: Sentence, limit: int, rng: np.random.RandomState):
    """Drop tokens from the longer side, at its front or back at random, until both fit (BERT)."""
    while a.shape[1] + b.shape[1] > limit:
        longer = 0 if a.shape[1] > b.shape[1] else 1
        side = (a, b)[longer]
        side = side[:, 1:] if rng.random_sample() < 0.5 else side[:, :-1]
        a, b = (side, b) if longer == 0 else (a, side)
    return a, b


def pair_instances(doc: Sequence[Sentence], docs: Sequence[Sequence[Sentence]], doc_index: int,
                   cfg: InstanceConfig, rng: np.random.RandomState) -> List[Instance]:
    """Sentence pairs from one document; ``docs`` (with ``doc_index`` = this one) supplies random B for NSP."""
    limit = cfg.seq_length - 3
    target_length = rng.randint(2, limit + 1) if rng.random_sample() < cfg.short_seq_prob else limit
    out, chunk, length, i = [], [], 0, 0
    while i < len(doc):
        chunk.append(doc[i])
        length += doc[i].shape[1]
        if i == len(doc) - 1 or length >= target_length:
            a_end = rng.randint(1, len(chunk)) if len(chunk) >= 2 else 1
            a = _join(*chunk[:a_end])
            if cfg.target == "bert" and (len(chunk) == 1 or rng.random_sample() < 0.5) and len(docs) > 1:
                label = 1
                other = doc_index
                for _ in range(10):
                    other = rng.randint(len(docs))
                    if other != doc_index:
                        break
                random_doc = docs[other]
                start = rng.randint(len(random_doc))
                pieces, b_length = [], 0
                for sentence in random_doc[start:]:
                    pieces.append(sentence)
                    b_length += sentence.shape[1]
                    if b_length >= target_length - a.shape[1]:
                        break
                b = _join(*pieces)
                i -= len(chunk) - a_end  # the unused sentences start the next chunk
            else:
                b = _join(*chunk[a_end:])
                label = 0
                if cfg.target == "albert" and rng.random_sample() < 0.5:
                    a, b, label = b, a, 1
            a, b = _truncate_pair(a, b, limit, rng)
            if a.shape[1] and b.shape[1]:
                out.append(_instance(_join(_special(cfg.cls_idx), a, _special(cfg.sep_idx), b,
                                           _special(cfg.sep_idx)), label))
            chunk, length = [], 0
        i += 1
    return out


def _instance(tokens: Sentence, label: int = -1) -> Instance:
    return Instance(tokens=tokens[0], word_starts=tokens[1].astype(np.uint8), label=label)


def _windows(stream: Sentence, size: int, min_size: int) -> List[Sentence]:
    return [stream[:, s:s + size] for s in range(0, stream.shape[1], size) if stream[:, s:s + size].shape[1] >= min_size]


def document_instances(docs: Sequence[Sequence[Sentence]], cfg: InstanceConfig,
                       rng: np.random.RandomState, labels: Sequence[int] = ()) -> List[Instance]:
    """Instances of every target from a buffer of documents (a document = a list of sentences)."""
    cls, sep = _special(cfg.cls_idx), _special(cfg.sep_idx)
    out: List[Instance] = []
    if cfg.target in ("bert", "albert"):
        for i, doc in enumerate(docs):
            out.extend(pair_instances(doc, docs, i, cfg, rng))
    elif cfg.target == "mlm":
        if cfg.full_sentences:
            stream = _join(*(_join(*doc, sep) for doc in docs))
            out = [_instance(_join(cls, w)) for w in _windows(stream, cfg.seq_length - 1, 1)]
        else:
            for doc in docs:
                out.extend(_instance(_join(cls, w, sep)) for w in _windows(_join(*doc), cfg.seq_length - 2, 1))
    elif cfg.target in ("lm", "bilm"):
        for doc in docs:
            out.extend(_instance(w) for w in _windows(_join(cls, *doc, sep), cfg.seq_length + 1, 2))
    elif cfg.target == "cls":
        for doc, label in zip(docs, labels):
            out.append(_instance(_join(cls, _join(*doc)[:, : cfg.seq_length - 2], sep), label))
    else:
        raise ValueError(f"unknown target {cfg.target!r}")
    if cfg.masking is not None:
        for instance in out:
            instance.tokens, instance.target = mask_tokens(instance.tokens, cfg.masking, rng, instance.word_starts)
    return out
