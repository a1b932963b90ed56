"""Entity inputs of LUKE's SQuAD run: mentions found by the passage article's links, on reader windows.

LUKE (legacy ``reading_comprehension``) takes the links of the Wikipedia article a SQuAD paragraph
comes from (its ``title``), keeps anchors whose link probability reaches ``min_mention_link_prob``
and that link one target only, and marks in the question and the context the longest
word-aligned token runs whose text is such an anchor (greedy, left to right, at most
``max_mention_length`` tokens). Each mention becomes an entity: the target title, mapped through
the model's redirects, looked up in the entity vocabulary (a title it lacks is ``[UNK]``, ``[MASK]``
or dropped, counted); its positions are its tokens in the window; question mentions have token
type 0, context mentions the passage's.

Windows come from :func:`~fairseq_plugins.data.squad_windows.build_qa_windows`; mentions are
found once per context (on the character offsets of its tokens, which the windows hold) and each
window keeps those it holds whole.
"""
from __future__ import annotations

import string
import unicodedata
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
from fairseq.data import BaseWrapperDataset

from .luke_inputs import span_positions
from .wiki_link_db import mention_name, mention_tokens

Mention = Tuple[int, int, str]  # first token, last token (inclusive), target title (an entity id once looked up)


def _is_punctuation(char: str) -> bool:
    return char in string.punctuation or unicodedata.category(char).startswith("P")


def word_starts(text: str, offsets: np.ndarray) -> List[bool]:
    """Whether each token begins a word (LUKE: not a subword): after whitespace, at or after punctuation."""
    out = []
    for i, (start, end) in enumerate(offsets):
        if i == 0:
            out.append(True)
            continue
        previous_end = int(offsets[i - 1][1])
        out.append(start > previous_end or start >= len(text) or _is_punctuation(text[start])
                   or (previous_end > 0 and _is_punctuation(text[previous_end - 1])))
    return out


def detect_mentions(text: str, offsets: np.ndarray, candidates: Mapping[str, str], max_tokens: int) -> List[Mention]:
    """Greedy longest word-aligned token runs whose normalized text is a candidate anchor name."""
    if not candidates or len(offsets) == 0:
        return []
    first_words = {name.split(" ", 1)[0] for name in candidates}
    longest = max(len(name) for name in candidates)
    starts = word_starts(text, offsets)
    n, mentions, i = len(offsets), [], 0
    while i < n:
        if not starts[i]:
            i += 1
            continue
        word_end = next((k for k in range(i + 1, n) if starts[k]), n)
        head = mention_tokens(text[offsets[i][0]:offsets[word_end - 1][1]])
        found = None
        if head and head[0] in first_words:
            for j in range(min(i + max_tokens, n), i, -1):  # j: exclusive end token
                if j < n and not starts[j]:
                    continue
                begin, end = int(offsets[i][0]), int(offsets[j - 1][1])
                if end - begin > 2 * longest:
                    continue
                target = candidates.get(mention_name(text[begin:end]))
                if target is not None:
                    found = (i, j - 1, target)
                    break
        if found:
            mentions.append(found)
            i = found[1] + 1
        else:
            i += 1
    return mentions


@dataclass
class MentionStats:
    paragraphs: int = 0
    articles: set = field(default_factory=set)  # SQuAD titles seen
    articles_missing: int = 0       # paragraph titles not in the link database: no mentions
    ambiguous_names: int = 0        # anchors linking two targets in one article: left out
    mentions: int = 0               # detected in questions and contexts
    not_in_vocab: int = 0           # of which the target is not in the entity vocabulary
    window_entities: int = 0        # entities over all windows

    def summary(self) -> str:
        return (f"{self.paragraphs} paragraphs of {len(self.articles)} articles, {self.mentions} mentions "
                f"({self.not_in_vocab} with targets not in the entity vocabulary), {self.window_entities} window "
                f"entities; {self.articles_missing} titles not in the link database, {self.ambiguous_names} "
                "ambiguous anchors left out")


def attach_entities(examples: Sequence, windows: Sequence, question_mentions: Sequence[List[Mention]],
                    context_mentions: Mapping[int, List[Mention]], max_mention_length: int,
                    stats: MentionStats) -> None:
    """Set ``entity_ids``, ``entity_firsts``, ``entity_lasts`` (token positions) and ``entity_types`` on
    every window: the question's mentions that survived ``max_query_length``, then the context
    mentions the window holds whole.

    ``windows`` are :class:`~fairseq_plugins.data.squad_windows.QaWindow`; ``question_mentions``
    are per question, ``context_mentions`` per paragraph (on the context's tokens); a mention is
    ``(first token, last token, entity id)``."""
    for window in windows:
        lo = window.first_context_token
        hi = lo + len(window.offsets)
        entities = [(entity, first + 1, last + 1, 0) for first, last, entity in question_mentions[window.example]
                    if last < window.question_tokens]  # the question starts after <s>/[CLS]
        shift = window.segment_start - lo
        entities += [(entity, first + shift, last + shift, 1)
                     for first, last, entity in context_mentions[examples[window.example].paragraph]
                     if lo <= first and last < hi]
        window.entity_ids = np.array([e[0] for e in entities], dtype=np.int64)
        window.entity_firsts = np.array([e[1] for e in entities], dtype=np.int64)
        window.entity_lasts = np.array([min(e[2], e[1] + max_mention_length - 1) for e in entities],
                                       dtype=np.int64)
        window.entity_types = np.array([e[3] for e in entities], dtype=np.int64)
        stats.window_entities += len(entities)


class EntityWindowDataset(BaseWrapperDataset):
    """A reader-window dataset (:mod:`.squad_dataset`) whose batches also carry the windows' entities.

    ``passage_segment`` 0 drops the token types (models with one token type, RoBERTa's LUKE)."""

    def __init__(self, dataset, entity_pad: int, max_mention_length: int, passage_segment: int = 1):
        super().__init__(dataset)
        self.entity_pad = entity_pad
        self.max_mention_length = max_mention_length
        self.passage_segment = passage_segment

    def collater(self, samples):
        batch = self.dataset.collater(samples)
        if not batch:
            return batch
        if "qa" in batch:
            windows = [w for _, group in batch["qa"] for w in group]
        else:
            windows = [self.dataset.examples[i] for i in samples]
        count = max(1, max(len(w.entity_ids) for w in windows))
        entity_ids = torch.full((len(windows), count), self.entity_pad, dtype=torch.long)
        firsts = torch.zeros(len(windows), count, dtype=torch.long)
        lasts = torch.full((len(windows), count), -1, dtype=torch.long)
        types = torch.zeros(len(windows), count, dtype=torch.long)
        for b, w in enumerate(windows):
            n = len(w.entity_ids)
            entity_ids[b, :n] = torch.from_numpy(w.entity_ids)
            firsts[b, :n], lasts[b, :n] = torch.from_numpy(w.entity_firsts), torch.from_numpy(w.entity_lasts)
            types[b, :n] = torch.from_numpy(w.entity_types)
        width = max(1, min(self.max_mention_length, int((lasts - firsts).max()) + 1))
        net_input = batch["net_input"]
        net_input.update(entity_ids=entity_ids, entity_positions=span_positions(firsts, lasts, width))
        if self.passage_segment:
            net_input["entity_segments"] = types
        else:
            net_input.pop("segment_labels", None)
        return batch


def title_of(squad_title: str) -> str:
    """SQuAD's article titles are URL-quoted with underscores (``Beyonc%C3%A9``, ``Super_Bowl_50``)."""
    from urllib.parse import unquote

    return unquote(squad_title).replace("_", " ")


def entity_lookup(entity_vocab, model_redirects: Optional[Mapping[str, str]], unknown: str, stats: MentionStats):
    """``title -> entity id or None`` with the model's redirects and the --entity-not-in-vocab policy."""
    from .wikipedia import resolve_redirect

    cache: Dict[str, Optional[int]] = {}
    fallback = {"unk": entity_vocab.unk, "mask": entity_vocab.mask, "drop": None}[unknown]

    def lookup(title: str) -> Optional[int]:
        if title not in cache:
            resolved = resolve_redirect(title, model_redirects) if model_redirects else title
            cache[title] = entity_vocab.index(resolved) if resolved in entity_vocab else None
        found = cache[title]
        if found is None:
            stats.not_in_vocab += 1
            return fallback
        return found

    return lookup
