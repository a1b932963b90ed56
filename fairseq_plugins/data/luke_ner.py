"""LUKE's span-enumeration NER inputs: document context, every word-aligned span as a [MASK] entity.

For each sentence the word sequence is ``<bos> left context, sentence, right context <eos>``
with document context filling ``max_seq_length`` as evenly as both sides allow. Every span of
whole words inside the sentence of at most ``max_mention_length`` subwords becomes a ``[MASK]``
entity whose positions are its subwords; its label is the gold type when a gold entity has
exactly those boundaries, else NIL (0). A sentence longer than the window is cut, and the
gold entities cut with it are counted (they stay in the F1 denominator), never dropped silently.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np
import torch
from fairseq.data import FairseqDataset

from .conll import Document
from .luke_inputs import span_positions, split_context


IGNORE = -100


@dataclass
class NerExample:
    tokens: np.ndarray        # word-piece ids with <bos>/<eos>
    spans: np.ndarray         # E x 2 (first word, last word) within the sentence
    starts: np.ndarray        # E: token index of the span's first subword
    ends: np.ndarray          # E: token index of the span's last subword
    labels: np.ndarray        # E: label id, 0 = NIL
    n_gold: int               # gold entities of the sentence (cut ones included), on its first chunk only
    sentence: int             # running sentence index over the file


@dataclass
class BuildStats:
    sentences: int = 0
    spans: int = 0
    gold: int = 0
    gold_too_long: int = 0   # longer than max_mention_length: never enumerated
    gold_truncated: int = 0  # in the part of an over-long sentence that was cut
    truncated_sentences: int = 0


def build_examples(documents: Sequence[Document], word_ids, labels: Sequence[str], bos: int, eos: int,
                   max_seq_length: int = 512, max_mention_length: int = 16, max_entity_length: int = 0,
                   path: str = "<input>"):
    """``word_ids(words) -> list of id lists`` tokenizes each word alone. Returns (examples, stats)."""
    label_ids = {label: i for i, label in enumerate(labels)}
    stats, examples = BuildStats(), []
    budget = max_seq_length - 2
    for document in documents:
        pieces = [word_ids(s.words) for s in document.sentences]
        flat = [t for sentence in pieces for word in sentence for t in word]
        offset = 0
        for sentence, sentence_pieces in zip(document.sentences, pieces):
            index = stats.sentences
            stats.sentences += 1
            starts = np.cumsum([0] + [len(p) for p in sentence_pieces])
            length = int(starts[-1])
            gold = {(s, e): label for s, e, label in sentence.entities}
            for label in gold.values():
                if label not in label_ids:
                    raise ValueError(f"{path}:{sentence.line}: unknown entity type {label!r} "
                                     f"(labels: {', '.join(labels[1:])})")
            stats.gold += len(gold)
            if length > budget:
                stats.truncated_sentences += 1
                keep_words = int(np.searchsorted(starts, budget, side="right")) - 1
                cut = [k for k in gold if k[1] >= keep_words]
                stats.gold_truncated += len(cut)
                for k in cut:
                    del gold[k]
                starts, length = starts[:keep_words + 1], int(starts[keep_words])
            sentence_start = offset
            left_room, right_room = sentence_start, len(flat) - (offset + int(starts[-1]))
            if length > budget:
                left = right = 0
            else:
                left, right = split_context(budget - length, left_room, right_room)
            window = flat[sentence_start - left:sentence_start + length + right]
            tokens = np.array([bos] + window + [eos], dtype=np.int64)
            shift = 1 + left
            spans = []
            num_words = len(starts) - 1
            for i in range(num_words):
                for j in range(i, num_words):
                    if starts[j + 1] - starts[i] > max_mention_length:
                        break
                    spans.append((i, j))
            stats.gold_too_long += sum(1 for s, e in gold if starts[e + 1] - starts[s] > max_mention_length)
            stats.spans += len(spans)
            span_array = np.array(spans, dtype=np.int64).reshape(-1, 2)
            span_labels = np.array([label_ids[gold[s]] if s in gold else 0 for s in spans], dtype=np.int64)
            first = starts[span_array[:, 0]] + shift
            last = starts[span_array[:, 1] + 1] + shift - 1
            chunk = max_entity_length or max(len(spans), 1)
            for c, k in enumerate(range(0, max(len(spans), 1), chunk)):
                examples.append(NerExample(tokens, span_array[k:k + chunk], first[k:k + chunk], last[k:k + chunk],
                                           span_labels[k:k + chunk], len(sentence.entities) if c == 0 else 0,
                                           index))
            offset += int(np.sum([len(p) for p in sentence_pieces]))
    return examples, stats


class LukeNerDataset(FairseqDataset):
    """In-memory examples, collated with word padding, [PAD] entities, -1 positions and ignored labels."""

    def __init__(self, examples: List[NerExample], pad: int, entity_pad: int, entity_mask: int,
                 max_mention_length: int, shuffle: bool = True, seed: int = 1):
        self.examples = examples
        self.pad, self.entity_pad, self.entity_mask = pad, entity_pad, entity_mask
        self.max_mention_length = max_mention_length
        self.shuffle, self.seed = shuffle, seed
        self.sizes = np.array([len(e.tokens) for e in examples], dtype=np.int64)

    def __getitem__(self, index):
        return self.examples[index]

    def __len__(self):
        return len(self.examples)

    def num_tokens(self, index):
        """Words and spans: both are sequence positions in attention (for --max-tokens)."""
        return int(self.sizes[index]) + len(self.examples[index].labels)

    def size(self, index):
        return int(self.sizes[index])

    def ordered_indices(self):
        if self.shuffle:
            return np.random.RandomState(self.seed).permutation(len(self))
        return np.arange(len(self))

    def set_epoch(self, epoch):
        self.seed += epoch

    def collater(self, samples: List[NerExample], indices: Optional[list] = None):
        if not samples:
            return {}
        batch, words = len(samples), max(len(s.tokens) for s in samples)
        entities = max(max(len(s.labels) for s in samples), 1)
        tokens = torch.full((batch, words), self.pad, dtype=torch.long)
        entity_ids = torch.full((batch, entities), self.entity_pad, dtype=torch.long)
        positions = torch.full((batch, entities, self.max_mention_length), -1, dtype=torch.long)
        starts = torch.zeros(batch, entities, dtype=torch.long)
        ends = torch.zeros(batch, entities, dtype=torch.long)
        labels = torch.full((batch, entities), IGNORE, dtype=torch.long)
        spans = torch.full((batch, entities, 2), -1, dtype=torch.long)
        for b, s in enumerate(samples):
            n = len(s.labels)
            tokens[b, :len(s.tokens)] = torch.from_numpy(s.tokens)
            entity_ids[b, :n] = self.entity_mask
            first, last = torch.from_numpy(s.starts), torch.from_numpy(s.ends)
            positions[b, :n] = span_positions(first, last, self.max_mention_length)
            starts[b, :n], ends[b, :n] = first, last
            labels[b, :n] = torch.from_numpy(s.labels)
            spans[b, :n] = torch.from_numpy(s.spans)
        return {
            "id": torch.tensor([s.sentence for s in samples]),
            "nsentences": batch,
            "ntokens": int(tokens.ne(self.pad).sum()),
            "net_input": {"src_tokens": tokens, "entity_ids": entity_ids, "entity_positions": positions},
            "entity_starts": starts, "entity_ends": ends, "spans": spans,
            "target": labels,
            "n_gold": torch.tensor([s.n_gold for s in samples]),
        }


def greedy_decode(scores: torch.Tensor, predictions: torch.Tensor, spans: torch.Tensor) -> List[int]:
    """LUKE's decode: non-NIL spans by descending score, each kept if none of its words is taken.

    ``scores``/``predictions``: E (max logit, argmax); ``spans``: E x 2 word spans. Returns kept span indices."""
    order = (predictions > 0).nonzero().flatten().tolist()
    order.sort(key=lambda k: -float(scores[k]))
    taken, kept = set(), []
    for k in order:
        words = range(int(spans[k, 0]), int(spans[k, 1]) + 1)
        if not taken.intersection(words):
            taken.update(words)
            kept.append(k)
    return kept
