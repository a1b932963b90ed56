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


def format_accuracy_table(result: Dict[str, dict], title: str = "") -> str:
    """:func:`linking_accuracy`'s result as a fixed-width table (accuracies in %)."""
    head = f"  {'world':<24} {'mentions':>8} {'retrieved':>9} {'correct':>8} {'normalized':>10} {'unnormalized':>12}"
    lines = ([title] if title else []) + [head]
    worlds = [w for w in result if w not in ("macro", "micro")]
    for name in worlds + ["micro"]:
        row = result[name]
        lines.append(f"  {name:<24} {row['n']:>8} {row['retrieved']:>9} {row['correct']:>8} "
                     f"{100 * row['normalized']:>10.2f} {100 * row['unnormalized']:>12.2f}")
    macro = result["macro"]
    lines.append(f"  {f'macro ({len(worlds)} worlds)':<24} {'':>8} {'':>9} {'':>8} "
                 f"{100 * macro['normalized']:>10.2f} {100 * macro['unnormalized']:>12.2f}")
    return "\n".join(lines)
