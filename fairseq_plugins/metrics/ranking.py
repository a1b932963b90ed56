"""Ranking metrics of DBQA (answer-sentence selection): reciprocal rank and average precision per question.

Candidates are ranked by descending score. Ties are broken in the answers' favour, as UER-py's
``run_dbqa.py`` does (it takes the first position holding a correct answer's score). A question
without any correct candidate has no defined rank; callers count and skip it (UER-py would score it
``1 / (candidates + 1)``).
"""
from typing import Optional, Sequence

__all__ = ["ranked_relevance", "reciprocal_rank", "average_precision"]


def ranked_relevance(scores: Sequence[float], relevant: Sequence[bool]) -> list:
    """Relevance flags in rank order (descending score; on equal scores relevant first)."""
    if len(scores) != len(relevant):
        raise ValueError(f"{len(scores)} scores for {len(relevant)} relevance flags")
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], not relevant[i]))
    return [bool(relevant[i]) for i in order]


def reciprocal_rank(scores: Sequence[float], relevant: Sequence[bool]) -> Optional[float]:
    """``1 / rank`` of the best-ranked relevant candidate; None when none is relevant."""
    ranked = ranked_relevance(scores, relevant)
    return 1.0 / (ranked.index(True) + 1) if any(ranked) else None


def average_precision(scores: Sequence[float], relevant: Sequence[bool]) -> Optional[float]:
    """Mean of precision@k over the ranks k of the relevant candidates; None when none is relevant."""
    hits, total = 0, 0.0
    for k, is_relevant in enumerate(ranked_relevance(scores, relevant), start=1):
        if is_relevant:
            hits += 1
            total += hits / k
    return total / hits if hits else None
