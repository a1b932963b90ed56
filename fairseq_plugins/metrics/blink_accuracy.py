"""Crossencoder accuracy as the Zeshel papers report it.

Normalized accuracy is over the mentions whose gold entity the retriever found (the only ones
the crossencoder can get right); unnormalized accuracy is over all mentions. Both are given
per world, macro-averaged over *every* world (BLINK's script skipped worlds at zero accuracy,
which inflates the macro figure) and micro-averaged over mentions.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Dict, Hashable, Optional, Sequence


def linking_accuracy(predictions: Sequence[Optional[Hashable]], golds: Sequence[Hashable],
                     retrieved: Sequence[bool], worlds: Sequence[Optional[str]]) -> Dict[str, dict]:
    """``{world: {...}, "macro": {...}, "micro": {...}}`` with ``normalized``/``unnormalized`` accuracy.

    A world where no gold was retrieved has normalized accuracy 0 (not undefined), so that it
    still weighs in the macro average."""
    if not len(predictions) == len(golds) == len(retrieved) == len(worlds):
        raise ValueError("predictions, golds, retrieved and worlds differ in length")
    if not golds:
        raise ValueError("accuracy of no mentions is undefined")
    counts = defaultdict(lambda: [0, 0, 0])  # mentions, retrieved, correct
    for prediction, gold, found, world in zip(predictions, golds, retrieved, worlds):
        c = counts[world if world is not None else "-"]
        c[0] += 1
        c[1] += bool(found)
        c[2] += bool(found) and prediction == gold

    def scores(n, found, correct):
        return {"n": n, "retrieved": found, "correct": correct,
                "normalized": correct / found if found else 0.0, "unnormalized": correct / n}

    result = {world: scores(*c) for world, c in sorted(counts.items())}
    per_world = list(result.values())
    result["macro"] = {key: sum(w[key] for w in per_world) / len(per_world) for key in ("normalized", "unnormalized")}
    result["micro"] = scores(*(sum(c[i] for c in counts.values()) for i in range(3)))
    return result
