"""Token ids of BLINK's inputs: mention in context, candidate entity, and their concatenation.

Mention: ``[CLS] left [unused0] mention [unused1] right [SEP]`` with left and right context
balanced around the mention and any unused budget of one side given to the other (BLINK's
``get_context_representation``, without its faults: a mention longer than the budget is cut
instead of failing an assertion, and a zero left quota keeps no left context instead of all).
Candidate: ``[CLS] title [unused2] description [SEP]``, cut to its length, the same at
training and at evaluation time. The marker tokens are existing vocabulary entries (BERT's
``[unusedN]``), so pretrained embeddings need no resizing; other vocabularies name theirs.
Sequences are not padded here: fairseq's collaters pad per batch.
"""
from __future__ import annotations

import re
from itertools import islice
from typing import List, Sequence, Tuple

from ..errors import InputError
from ..tokenization import VocabTokenizer

MENTION_START, MENTION_END, TITLE_SEPARATOR = "[unused0]", "[unused1]", "[unused2]"
_WORD = re.compile(r"\S+")


def _first_words(text: str, count: int) -> str:
    """``text`` up to the end of its ``count``-th whitespace-separated word (all of it when shorter)."""
    last = None
    for last in islice(_WORD.finditer(text), count):
        pass
    return text if last is None or last.end() == len(text.rstrip()) else text[:last.end()]


class BlinkInputBuilder:
    def __init__(self, tokenizer: VocabTokenizer, max_context_length: int = 128, max_candidate_length: int = 128,
                 mention_start: str = MENTION_START, mention_end: str = MENTION_END,
                 title_separator: str = TITLE_SEPARATOR):
        self.tokenizer = tokenizer
        self.dictionary = d = tokenizer.dictionary
        self.max_context_length = max_context_length
        self.max_candidate_length = max_candidate_length
        if max_context_length < 5 or max_candidate_length < 3:
            raise ValueError("max context length must be >= 5 and max candidate length >= 3")
        markers = {"mention start": mention_start, "mention end": mention_end, "title separator": title_separator}
        for role, token in markers.items():
            if token not in d.indices:
                raise InputError(d.source, f"the {role} token {token!r} is not in the vocabulary; name an "
                                           f"existing entry (BERT vocabularies have [unused0..])")
        self.start_id, self.end_id, self.title_id = (d.indices[t] for t in markers.values())
        self.cls, self.sep = d.bos(), d.eos()

    def _encode(self, texts: Sequence[str]) -> List[List[int]]:
        return self.tokenizer.encode_batch(list(texts))

    def contexts(self, lefts: Sequence[str], mentions: Sequence[str], rights: Sequence[str]) -> List[List[int]]:
        """Mention-in-context ids for many mentions (tokenized in one batch per part)."""
        n = len(mentions)
        ids = self._encode(list(lefts) + list(mentions) + list(rights))
        return [self.context_from_ids(ids[i], ids[n + i], ids[2 * n + i]) for i in range(n)]

    def context_from_ids(self, left: List[int], mention: List[int], right: List[int]) -> List[int]:
        budget = self.max_context_length - 4  # [CLS] [SEP] and the two markers
        mention = mention[:budget]
        budget -= len(mention)
        left_quota = budget // 2
        right_quota = budget - left_quota
        if len(left) < left_quota:
            right_quota += left_quota - len(left)
        elif len(right) < right_quota:
            left_quota += right_quota - len(right)
        left = left[len(left) - left_quota:] if left_quota > 0 else []
        return [self.cls, *left, self.start_id, *mention, self.end_id, *right[:right_quota], self.sep]

    def candidates(self, titles: Sequence[str], texts: Sequence[str]) -> List[List[int]]:
        """Candidate ids. Descriptions may be whole articles of which only the first tokens are kept, so
        only their first ``keep`` whitespace-separated words are tokenized: every tokenizer here splits at
        whitespace first and a word is at least one token, so the kept prefix is the same; a text whose
        first words vanish in normalization (fewer tokens than needed) is tokenized whole instead."""
        n = len(titles)
        keep = self.max_candidate_length - 2
        heads = [_first_words(text, keep) for text in texts]
        ids = self._encode(list(titles) + heads)
        short = [i for i in range(n) if len(heads[i]) < len(texts[i]) and len(ids[n + i]) < keep]
        for i, full in zip(short, self._encode([texts[i] for i in short]) if short else []):
            ids[n + i] = full
        return [[self.cls, *([*ids[i], self.title_id, *ids[n + i]][:keep]), self.sep] for i in range(n)]

    @staticmethod
    def pair(context: List[int], candidate: List[int], max_length: int) -> Tuple[List[int], List[int]]:
        """Crossencoder input: context then candidate without its [CLS]; segment 1 for the candidate.

        The candidate is cut first, so that the mention is never lost."""
        keep = max(0, max_length - len(context))
        tail = candidate[1:][:keep]
        if tail and tail[-1] != candidate[-1]:
            tail[-1] = candidate[-1]  # keep the closing [SEP]
        tokens = (context + tail)[:max_length]
        return tokens, [0] * min(len(context), max_length) + [1] * (len(tokens) - min(len(context), max_length))
