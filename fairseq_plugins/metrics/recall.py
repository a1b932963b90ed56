"""Recall@k of a retriever: the share of mentions whose gold entity is among the first k candidates.

Reported per world and overall (micro: over all mentions), as BLINK's ``nn_prediction`` does;
a mention whose gold was not retrieved at all counts as a miss at every k.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Dict, Hashable, Iterable, List, Optional, Sequence

DEFAULT_KS = (1, 4, 8, 16, 32, 64)


def gold_rank(candidates: Sequence[Hashable], gold: Hashable) -> Optional[int]:
    """0-based position of ``gold`` in ``candidates``, or None."""
    for i, candidate in enumerate(candidates):
        if candidate == gold:
            return i
    return None


def recall_at_k(ranks: Iterable[Optional[int]], ks: Sequence[int] = DEFAULT_KS) -> Dict[int, float]:
    ranks = list(ranks)
    if not ranks:
        raise ValueError("recall of no mentions is undefined")
    return {k: sum(r is not None and r < k for r in ranks) / len(ranks) for k in ks}


def recall_by_world(ranks: Sequence[Optional[int]], worlds: Sequence[Optional[str]],
                    ks: Sequence[int] = DEFAULT_KS) -> Dict[str, dict]:
    """``{world: {"n": count, "recall": {k: value}}}`` plus ``"overall"`` over every mention."""
    if len(ranks) != len(worlds):
        raise ValueError(f"{len(ranks)} ranks but {len(worlds)} worlds")
    grouped: Dict[str, List[Optional[int]]] = defaultdict(list)
    for rank, world in zip(ranks, worlds):
        grouped[world if world is not None else "-"].append(rank)
    result = {world: {"n": len(r), "recall": recall_at_k(r, ks)} for world, r in sorted(grouped.items())}
    result["overall"] = {"n": len(ranks), "recall": recall_at_k(ranks, ks)}
    return result
