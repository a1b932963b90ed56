"""SQuAD-format questions -> ``[CLS] question [SEP] context window [SEP]`` model inputs.

RoBERTa-family vocabularies (``<s>`` ... ``</s>``: RoBERTa, XLM-R, LUKE) read a pair as
``<s> question </s></s> context window </s>`` with one token type (:func:`roberta_pair_layout`).

A context longer than one window is cut into windows ``doc_stride`` tokens apart (BERT's
SQuAD recipe); the question keeps at most ``max_query_length`` tokens. Answers are character
spans, mapped to tokens through the tokenizer's character offsets
(:meth:`~fairseq_plugins.tokenization.VocabTokenizer.encode_with_offsets`: the first token ending
after the answer start, the last token starting before its end), never by searching for the
string, and each window keeps its tokens' offsets so that a predicted span maps back to the
exact context text. A token seen by several windows belongs, for decoding, to the window where
it has the most context on both sides (BERT's "max context" rule).

Targets: the first answer's first and last token when the window holds the whole answer; else
position 0 (``[CLS]``), which is also the target of unanswerable (SQuAD 2.0) questions. The
``answer_type`` target is that of the ``nq_reader`` head (``short`` or ``no answer``), so the NQ
model pre-trains on the same windows. An answer with no token at all (whitespace the tokenizer
drops) cannot be a target: its windows are ignored (``-1``) and counted.
"""
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np

from ..errors import InputError
from .answer_types import IGNORE, NO_ANSWER, SHORT
from .squad_format import SquadExample

__all__ = ["QaWindow", "WindowStats", "PAIR_LAYOUTS", "roberta_pair_layout", "window_starts", "answer_token_span",
           "max_context_mask", "build_qa_windows", "context_offsets"]

PAIR_LAYOUTS = ("auto", "bert", "roberta")


@dataclass
class QaWindow:
    example: int  # index of the question in its list
    tokens: np.ndarray  # [CLS] question [SEP] context window [SEP] (RoBERTa: <s> question </s></s> window </s>)
    segment_start: int  # position of the first context token (token type 1 from here)
    first_context_token: int  # index of the window's first token among all the context's tokens
    question_tokens: int  # question tokens kept: positions 1..question_tokens
    offsets: np.ndarray  # [n, 2] character offsets (end exclusive) of the n context tokens
    max_context: np.ndarray  # [n] bool: this window is the token's best-context window
    answer_type: int  # SHORT (answer inside), NO_ANSWER, or IGNORE
    start: int  # target positions (inclusive); 0 = [CLS]
    end: int


@dataclass
class WindowStats:
    questions: int = 0
    windows: int = 0
    windowed_questions: int = 0  # contexts longer than one window
    truncated_questions: int = 0  # questions cut to max_query_length
    cut_answers: int = 0  # answers no single window holds whole (every window targets [CLS])
    unaligned_answers: int = 0  # answers covering no token (windows ignored)

    def report(self, name: str) -> str:
        return (f"{name}: {self.questions} questions in {self.windows} windows; {self.windowed_questions} contexts "
                f"windowed, {self.truncated_questions} questions cut to the query length, {self.cut_answers} "
                f"answers no window holds whole, {self.unaligned_answers} answers on no token (ignored)")


def roberta_pair_layout(dictionary, layout: str = "auto") -> bool:
    """Whether pairs read ``<s> q </s></s> c </s>`` with one token type (``layout`` "roberta") or
    ``[CLS] q [SEP] c [SEP]`` with types 0/1 ("bert"). "auto": RoBERTa's when the vocabulary's
    begin-of-sequence token is ``<s>`` (RoBERTa, XLM-R, BART, LUKE all separate pairs with
    ``</s></s>``), BERT's otherwise (``[CLS]``: BERT, ALBERT, UER's models)."""
    if layout not in PAIR_LAYOUTS:
        raise InputError(None, f"unknown pair layout {layout!r}; expected one of {', '.join(PAIR_LAYOUTS)}",
                         field="pair_layout")
    if layout != "auto":
        return layout == "roberta"
    return dictionary[dictionary.bos()] == "<s>"


def window_starts(length: int, width: int, stride: int) -> List[int]:
    """First token of each window: ``stride`` apart (at most ``width``), the last reaching the end."""
    stride = min(stride, width)
    starts = [0]
    while starts[-1] + width < length:
        starts.append(starts[-1] + stride)
    return starts


def answer_token_span(offsets: np.ndarray, start_char: int, end_char: int):
    """(first, last) token index covering characters ``[start_char, end_char)``, or None if no token does."""
    if len(offsets) == 0:
        return None
    first = int(np.searchsorted(offsets[:, 1], start_char, side="right"))  # first token ending after start
    last = int(np.searchsorted(offsets[:, 0], end_char, side="left")) - 1  # last token starting before end
    if first >= len(offsets) or last < first:
        return None
    return first, last


def max_context_mask(window_lo: int, window_hi: int, starts: Sequence[int], width: int, length: int) -> np.ndarray:
    """For tokens ``window_lo..window_hi-1``: whether this window gives them the most context.

    A token's context in a window is min(tokens to its left, tokens to its right) + 0.01 x window
    length; ties go to the earlier window (BERT's ``_check_is_max_context``)."""
    tokens = np.arange(window_lo, window_hi)
    best = np.full(len(tokens), -1.0)
    owner = np.full(len(tokens), -1)
    for lo in starts:
        hi = min(lo + width, length)
        inside = (tokens >= lo) & (tokens < hi)
        score = np.minimum(tokens - lo, hi - 1 - tokens) + 0.01 * (hi - lo)
        better = inside & (score > best)
        best[better], owner[better] = score[better], lo
    return owner == window_lo


def build_qa_windows(examples: Sequence[SquadExample], tokenizer, max_length: int = 384,
                     max_query_length: int = 64, doc_stride: int = 128,
                     pair_layout: str = "auto") -> Tuple[List[QaWindow], WindowStats]:
    """Windows of every question (in order; see the module docstring) and the counts to report.

    ``pair_layout``: see :func:`roberta_pair_layout` (RoBERTa's adds a second separator)."""
    dictionary = tokenizer.dictionary
    cls, sep = dictionary.bos(), dictionary.eos()
    separators = [sep, sep] if roberta_pair_layout(dictionary, pair_layout) else [sep]
    if max_length < max_query_length + len(separators) + 3:
        raise InputError(None, f"max length {max_length} leaves no room for a context after a question of "
                               f"{max_query_length} tokens", field="max_length")
    contexts: Dict[int, Tuple[List[int], np.ndarray]] = {}
    new = {}
    for e in examples:
        if e.paragraph not in contexts and e.paragraph not in new:
            new[e.paragraph] = e.context
    for paragraph, (ids, offsets) in zip(new, tokenizer.encode_with_offsets(list(new.values()))):
        contexts[paragraph] = (ids, np.asarray(offsets, dtype=np.int64).reshape(-1, 2))
    questions = tokenizer.encode_batch([e.question for e in examples])
    stats = WindowStats(questions=len(examples))
    windows = []
    for index, (example, question) in enumerate(zip(examples, questions)):
        stats.truncated_questions += len(question) > max_query_length
        kept = question[:max_query_length]
        prefix = [cls, *kept, *separators]
        width = max_length - len(prefix) - 1
        ids, offsets = contexts[example.paragraph]
        span, kind = None, NO_ANSWER
        if example.answers:
            answer = example.answers[0]
            span = answer_token_span(offsets, answer.start, answer.end)
            kind = SHORT if span is not None else IGNORE
            stats.unaligned_answers += span is None
        starts = window_starts(len(ids), width, doc_stride)
        stats.windowed_questions += len(starts) > 1
        held = False
        for lo in starts:
            hi = min(lo + width, len(ids))
            answer_type, start, end = NO_ANSWER, 0, 0
            if kind == IGNORE:
                answer_type, start, end = IGNORE, IGNORE, IGNORE
            elif span is not None and lo <= span[0] and span[1] < hi:
                answer_type, start, end = SHORT, len(prefix) + span[0] - lo, len(prefix) + span[1] - lo
                held = True
            tokens = np.array([*prefix, *ids[lo:hi], sep], dtype=np.int64)
            windows.append(QaWindow(index, tokens, len(prefix), lo, len(kept), offsets[lo:hi],
                                    max_context_mask(lo, hi, starts, width, len(ids)), answer_type, start, end))
        stats.cut_answers += span is not None and not held
    stats.windows = len(windows)
    return windows, stats


def context_offsets(windows: Sequence[QaWindow]) -> np.ndarray:
    """The character offsets of all the context's tokens, joined from the windows of one question
    (they cover the context, in order), so that users of the windows need not tokenize it again."""
    pieces, covered = [np.zeros((0, 2), dtype=np.int64)], 0
    for window in windows:
        if window.first_context_token > covered:
            raise ValueError(f"windows skip context tokens {covered}..{window.first_context_token - 1}: "
                             "not the windows of one question")
        end = window.first_context_token + len(window.offsets)
        if end > covered:
            pieces.append(window.offsets[covered - window.first_context_token:])
            covered = end
    return np.concatenate(pieces)
