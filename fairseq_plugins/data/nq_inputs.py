"""NQ rows -> reader instances: one ``[CLS] question [SEP] candidate [SEP]`` per long-answer candidate.

As in the Kaggle TF2-QA first-place solution, the unit is a long-answer candidate, not a window
of the whole page. HTML tags become single dedicated tokens (BERT's ``[unusedN]`` rows; the
solution added ``qw1..qw9``): the nine tags that start long answers have their own opening and
closing token, any other tag shares ``[unused0]``. Document words are word-pieced one by one, so
every token knows its document word and predictions map back to NQ token offsets. A candidate
longer than the window is cut into windows ``doc_stride`` tokens apart.

Labels: the answer type ``0`` no answer (not the gold candidate), ``1`` long answer only, ``2``
short span, ``3`` NO, ``4`` YES; start/end are the positions of the first and last token of the
first short span (inclusive), ``0`` ([CLS]) for the other types. A gold window that does not hold
the whole span is ignored (``-1`` everywhere), the solution's rule for truncated short answers.
"""
import random
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..errors import InputError
from .answer_types import IGNORE, LONG_ONLY, NO, NO_ANSWER, SHORT, YES
from .nq_format import NqExample
from .squad_windows import window_starts  # noqa: F401  (shared with SQuAD windows)

LONG_ANSWER_TAGS = ("P", "Table", "Tr", "Ul", "Ol", "Fl", "Li", "Dd", "Dt")
OTHER_TAG_SYMBOL = "[unused0]"
_TAG = re.compile(r"^</?[A-Za-z][A-Za-z0-9]*>$")


def html_tag_symbols() -> Dict[str, str]:
    """``<P>`` -> ``[unused1]`` ... ``</Dt>`` -> ``[unused18]``; see the module docstring."""
    symbols = {f"<{t}>": f"[unused{i + 1}]" for i, t in enumerate(LONG_ANSWER_TAGS)}
    symbols.update({f"</{t}>": f"[unused{i + 1 + len(LONG_ANSWER_TAGS)}]" for i, t in enumerate(LONG_ANSWER_TAGS)})
    return symbols


@dataclass
class NqInstance:
    example: int  # index of the row in its split
    candidate: int  # index into the row's long_answer_candidates
    tokens: np.ndarray  # [CLS] question [SEP] candidate window [SEP]
    words: np.ndarray  # document word of each position; -1 for question and special tokens
    segment_start: int  # first candidate position (segment 1 starts here)
    answer_type: int
    start: int
    end: int


@dataclass
class BuildStats:
    instances: int = 0
    windowed_candidates: int = 0  # candidates longer than one window
    truncated_spans: int = 0  # gold windows ignored because the short span does not fit
    skipped_rows: int = 0  # rows without a sampled candidate (see NqInstanceBuilder.sample)

    def report(self, name: str) -> str:
        return (f"{name}: {self.instances} instances; {self.windowed_candidates} candidates "
                f"windowed, {self.truncated_spans} gold windows ignored (short span cut), {self.skipped_rows} "
                f"rows with no sampled candidate")


class NqInstanceBuilder:
    def __init__(self, tokenizer, max_length: int = 384, max_query_length: int = 64, doc_stride: int = 128):
        if max_length < max_query_length + 4:
            raise InputError(None, f"max length {max_length} leaves no room for a candidate after a question of "
                                   f"{max_query_length} tokens", field="max_length")
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.max_query_length = max_query_length
        self.doc_stride = doc_stride
        dictionary = tokenizer.dictionary
        self.cls, self.sep = dictionary.bos(), dictionary.eos()
        self.tag_ids = {}
        for tag, symbol in [*html_tag_symbols().items(), ("", OTHER_TAG_SYMBOL)]:
            if symbol not in dictionary.indices:
                raise InputError(getattr(dictionary, "source", None), f"the vocabulary has no {symbol}, which "
                                 f"stands for HTML tags; use a BERT vocab.txt", field="vocab")
            self.tag_ids[tag] = dictionary.indices[symbol]
        self.stats = BuildStats()

    def encode_words(self, words: Sequence[str], first_word: int):
        """Token ids and the document word of each (words start at ``first_word``)."""
        text_positions = [i for i, w in enumerate(words) if not _TAG.match(w)]
        pieces = dict(zip(text_positions, self.tokenizer.encode_batch([words[i] for i in text_positions])))
        ids, word_of = [], []
        for i, word in enumerate(words):
            word_ids = pieces[i] if i in pieces else [self.tag_ids.get(word, self.tag_ids[""])]
            ids.extend(word_ids)
            word_of.extend([first_word + i] * len(word_ids))
        return ids, word_of

    def question_ids(self, example: NqExample) -> List[int]:
        return self.tokenizer.encode_batch([example.question])[0][:self.max_query_length]

    def instances(self, index: int, example: NqExample, candidates: Sequence[int]) -> List[NqInstance]:
        """Instances (all windows) of the given candidates of row ``index``."""
        question = self.question_ids(example)
        prefix = [self.cls, *question, self.sep]
        width = self.max_length - len(prefix) - 1
        gold = example.gold
        out = []
        for c in candidates:
            lo_word, hi_word = example.candidates[c]
            ids, word_of = self.encode_words(example.words[lo_word:hi_word], lo_word)
            answer_type, span = self._label(example, c, gold, np.asarray(word_of))
            starts = window_starts(len(ids), width, self.doc_stride)
            self.stats.windowed_candidates += len(starts) > 1
            for lo in starts:
                hi = min(lo + width, len(ids))
                kind, start, end = answer_type, 0, 0
                if span is not None:
                    if lo <= span[0] and span[1] < hi:
                        start, end = len(prefix) + span[0] - lo, len(prefix) + span[1] - lo
                    else:
                        kind, start, end = IGNORE, IGNORE, IGNORE
                        self.stats.truncated_spans += 1
                tokens = np.array([*prefix, *ids[lo:hi], self.sep], dtype=np.int64)
                words = np.full(len(tokens), -1, dtype=np.int64)
                words[len(prefix):len(prefix) + hi - lo] = word_of[lo:hi]
                out.append(NqInstance(index, c, tokens, words, len(prefix), kind, start, end))
        self.stats.instances += len(out)
        return out

    @staticmethod
    def _label(example, candidate, gold, word_of):
        """(answer type, candidate-token span of the short answer or None)."""
        if gold is None or gold.candidate != candidate:
            return NO_ANSWER, None
        if gold.yes_no != "NONE":
            return (YES if gold.yes_no == "YES" else NO), None
        if not gold.short:
            return LONG_ONLY, None
        s, e = gold.short[0]
        inside = np.nonzero((word_of >= s) & (word_of < e))[0]
        if len(inside) == 0:
            return SHORT, (len(word_of), len(word_of))  # no token of the span: never fits a window
        return SHORT, (int(inside[0]), int(inside[-1]))

    def sample(self, example: NqExample, rng: random.Random, negatives: Optional[Dict[int, float]] = None,
               negative_row_rate: float = 0.0) -> List[int]:
        """Training candidates of one row: the gold one and one negative.

        Stage 1 (``negatives`` None) draws the negative uniformly and uses only rows with a long
        answer and another candidate. Stage 2 draws it in proportion to the mined ``negatives``
        (candidate -> p(answer)) and also takes one such hard negative from a row without a long
        answer with probability ``negative_row_rate``. Rows giving nothing are counted as skipped.
        """
        gold = example.gold
        others = [c for c in range(len(example.candidates)) if gold is None or c != gold.candidate]
        picked = []
        if gold is not None and others:
            picked = [gold.candidate, self._draw(others, rng, negatives)]
        elif gold is None and others and negatives is not None and rng.random() < negative_row_rate:
            picked = [self._draw(others, rng, negatives)]
        self.stats.skipped_rows += not picked
        return picked

    @staticmethod
    def _draw(others: List[int], rng: random.Random, negatives: Optional[Dict[int, float]]) -> int:
        weights = [negatives.get(c, 0.0) for c in others] if negatives is not None else None
        if weights is None or sum(weights) <= 0:
            return rng.choice(others)
        return rng.choices(others, weights=weights)[0]
