"""Start/end scores -> answer spans: the n-best decoding shared by extractive QA and the NQ reader.

:func:`top_spans` finds the best ``(start, end)`` pairs of one sequence (start <= end, at most
``max_answer_length`` tokens, starts and ends restricted by masks). :func:`nbest_answers` runs it
over all windows of one question and maps the spans back to context text through each window's
character offsets (a start is taken only in the window where its token has the most context,
BERT's rule), keeps the ``n_best`` distinct texts and turns their scores into probabilities.
For SQuAD 2.0, :func:`null_score` is BERT's no-answer score (the lowest ``start[CLS] + end[CLS]``
over the windows) and :func:`no_answer_probability` compares it with the best span, so that one
threshold on a probability decides, as the official evaluation's no-answer probabilities do.
"""
import math
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import torch

__all__ = ["top_spans", "SpanAnswer", "QaPrediction", "nbest_answers", "null_score", "no_answer_probability",
           "predict_answer"]


def top_spans(start: torch.Tensor, end: torch.Tensor, allowed_start: torch.Tensor, allowed_end: torch.Tensor,
              max_answer_length: int, n_best: int = 1) -> List[Tuple[float, int, int]]:
    """Up to ``n_best`` ``(start[i] + end[j], i, j)``, best first, with i <= j < i + max_answer_length.

    ``start``/``end`` are [T] scores in any additive unit (logits or log-probabilities);
    ``allowed_start``/``allowed_end`` are [T] booleans."""
    length = start.size(0)
    scores = (start.float().masked_fill(~allowed_start, float("-inf"))[:, None]
              + end.float().masked_fill(~allowed_end, float("-inf"))[None, :])
    positions = torch.arange(length)
    width = positions[None, :] - positions[:, None]
    scores = scores.masked_fill((width < 0) | (width >= max_answer_length), float("-inf")).view(-1)
    values, flat = scores.topk(min(n_best, scores.numel()))
    return [(float(v), int(f) // length, int(f) % length) for v, f in zip(values, flat) if math.isfinite(v)]


@dataclass
class SpanAnswer:
    text: str
    start_char: int
    end_char: int  # exclusive
    score: float
    window: int  # index among the question's windows
    probability: float = 0.0  # softmax of the scores over the n-best


@dataclass
class QaPrediction:
    qid: str
    text: str  # "" = no answer
    no_answer_probability: Optional[float] = None  # None for tasks without unanswerable questions
    nbest: List[SpanAnswer] = field(default_factory=list)

    def nbest_json(self) -> List[dict]:
        return [{"text": a.text, "probability": round(a.probability, 6), "score": round(a.score, 4),
                 "start": a.start_char, "end": a.end_char} for a in self.nbest]


def nbest_answers(context: str, windows: Sequence, starts: Sequence[torch.Tensor], ends: Sequence[torch.Tensor],
                  n_best: int = 20, max_answer_length: int = 30) -> List[SpanAnswer]:
    """The ``n_best`` distinct answer texts of one question over all its windows, best first.

    ``windows`` are :class:`~fairseq_plugins.data.squad_windows.QaWindow` (``segment_start``,
    ``offsets``, ``max_context``); ``starts[w]``/``ends[w]`` are window ``w``'s [T] scores."""
    found = []
    for w, (window, start, end) in enumerate(zip(windows, starts, ends)):
        first, count = window.segment_start, len(window.offsets)
        allowed_start = torch.zeros(start.size(0), dtype=torch.bool)
        allowed_end = allowed_start.clone()
        allowed_start[first:first + count] = torch.as_tensor(window.max_context, dtype=torch.bool)
        allowed_end[first:first + count] = True
        for score, i, j in top_spans(start, end, allowed_start, allowed_end, max_answer_length, n_best):
            a, b = int(window.offsets[i - first][0]), int(window.offsets[j - first][1])
            found.append(SpanAnswer(context[a:b], a, b, score, w))
    found.sort(key=lambda x: -x.score)
    out, texts = [], set()
    for answer in found:
        if answer.text and answer.text not in texts:
            texts.add(answer.text)
            out.append(answer)
        if len(out) == n_best:
            break
    if out:
        probabilities = torch.tensor([a.score for a in out]).softmax(0).tolist()
        for answer, p in zip(out, probabilities):
            answer.probability = p
    return out


def null_score(starts: Sequence[torch.Tensor], ends: Sequence[torch.Tensor]) -> float:
    """BERT's SQuAD 2.0 no-answer score: the lowest ``start[0] + end[0]`` ([CLS]) over the windows."""
    return min(float(s[0]) + float(e[0]) for s, e in zip(starts, ends))


def no_answer_probability(null: float, nbest: Sequence[SpanAnswer]) -> float:
    """``sigmoid(null score - best span score)``: 0.5 where BERT's default threshold (difference 0) lies."""
    if not nbest:
        return 1.0
    return 1.0 / (1.0 + math.exp(-max(min(null - nbest[0].score, 50.0), -50.0)))


def predict_answer(qid: str, nbest: List[SpanAnswer], no_answer_prob: Optional[float] = None,
                   threshold: float = 0.5) -> QaPrediction:
    """The answer text: the best span, or "" when ``no_answer_prob`` exceeds ``threshold`` or no span exists."""
    text = nbest[0].text if nbest else ""
    if no_answer_prob is not None and no_answer_prob > threshold:
        text = ""
    return QaPrediction(qid, text, no_answer_prob, list(nbest))
