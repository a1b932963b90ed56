"""From reader outputs to NQ answers: ensemble averaging, candidate ranking and span decoding.

Following the first-place post-processing: the probabilities of several checkpoints (which must
build the same instances: same vocabulary and lengths) are averaged with weights; the long answer
is the candidate whose window has the highest ``1 - p(no answer)`` (its ``long_answer_score``),
``short_answers_score`` is ``1 - p(no answer) - p(long only)``, YES/NO is answered when
``max(p(yes), p(no)) > p(short)``, else the best start/end pair inside that window
(start <= end, at most ``max_answer_tokens`` apart) maps back to document words.
"""
from dataclasses import dataclass
from typing import Dict, List, Sequence

import torch

from ..data.squad_dataset import QaWindowDataset
from ..data.nq_inputs import LONG_ONLY, NO, NO_ANSWER, SHORT, YES
from ..metrics.nq_eval import NqPrediction
from .span_decoding import top_spans


@dataclass
class WindowOutput:
    probs: torch.Tensor  # [5] answer-type probabilities
    start: torch.Tensor  # [T] start log-probabilities (padding removed)
    end: torch.Tensor


def ensemble_outputs(models: Sequence, weights: Sequence[float], batch, device) -> List[WindowOutput]:
    """Weighted average of type probabilities and of start/end probabilities over ``models``."""
    net_input = {k: v.to(device) for k, v in batch["net_input"].items()}
    total = float(sum(weights))
    probs = start = end = 0
    for model, weight in zip(models, weights):
        out = model(**net_input)
        probs = probs + weight / total * out["answer_type"].softmax(-1)
        start = start + weight / total * out["start"].softmax(-1)
        end = end + weight / total * out["end"].softmax(-1)
    lengths = net_input["src_tokens"].ne(models[0].encoder.dictionary.pad()).sum(-1).tolist()
    return [WindowOutput(probs[b].cpu(), start[b, :n].log().cpu(), end[b, :n].log().cpu())
            for b, n in enumerate(lengths)]


def best_span(output: WindowOutput, words: torch.Tensor, max_answer_tokens: int):
    """(start position, end position) maximizing start + end log-probability over candidate tokens."""
    inside = words.ge(0)
    spans = top_spans(output.start, output.end, inside, inside, max_answer_tokens, n_best=1)
    return (spans[0][1], spans[0][2]) if spans else None


def decode_row(example_id: int, candidates: Sequence, instances: Sequence, outputs: Sequence[WindowOutput],
               max_answer_tokens: int = 30) -> NqPrediction:
    """The prediction of one row from the outputs of its instances (all its candidates' windows)."""
    if not instances:
        return NqPrediction(example_id)
    best = max(range(len(instances)), key=lambda k: 1 - float(outputs[k].probs[NO_ANSWER]))
    instance, output = instances[best], outputs[best]
    p = output.probs.tolist()
    prediction = NqPrediction(example_id, tuple(candidates[instance.candidate]), 1 - p[NO_ANSWER],
                              short_score=1 - p[NO_ANSWER] - p[LONG_ONLY])
    if max(p[YES], p[NO]) > p[SHORT]:
        prediction.yes_no = "YES" if p[YES] >= p[NO] else "NO"
        return prediction
    words = torch.from_numpy(instance.words)
    span = best_span(output, words, max_answer_tokens)
    if span is not None:
        prediction.short = frozenset({(int(words[span[0]]), int(words[span[1]]) + 1)})
    return prediction


def candidate_probabilities(instances: Sequence, outputs: Sequence[WindowOutput]) -> Dict[int, float]:
    """candidate -> best ``1 - p(no answer)`` over its windows (the mining score)."""
    scores = {}
    for instance, output in zip(instances, outputs):
        score = 1 - float(output.probs[NO_ANSWER])
        scores[instance.candidate] = max(score, scores.get(instance.candidate, 0.0))
    return scores


def score_rows(builder, models, weights, rows, select, batch_size: int, device, chunk_rows: int = 32):
    """Yield ``(example, instances, outputs)`` per row, ``select(example)`` naming the candidates read.

    Rows are processed ``chunk_rows`` at a time, so a 17 GB file streams through in bounded memory."""
    chunk = []
    for example in rows:
        chunk.append((example, builder.instances(len(chunk), example, select(example))))
        if len(chunk) == chunk_rows:
            yield from _score_chunk(chunk, models, weights, batch_size, device)
            chunk = []
    if chunk:
        yield from _score_chunk(chunk, models, weights, batch_size, device)


def _score_chunk(chunk, models, weights, batch_size, device):
    flat = [x for _, instances in chunk for x in instances]
    dataset = QaWindowDataset(flat, models[0].encoder.dictionary.pad())
    outputs = []
    with torch.inference_mode():
        for lo in range(0, len(flat), batch_size):
            outputs.extend(ensemble_outputs(models, weights, dataset.collater(list(range(lo, min(
                lo + batch_size, len(flat))))), device))
    lo = 0
    for example, instances in chunk:
        yield example, instances, outputs[lo:lo + len(instances)]
        lo += len(instances)


@dataclass
class PruneStats:
    rows: int = 0
    candidates_in: int = 0
    candidates_kept: int = 0
    emptied_rows: int = 0  # rows left without any candidate (predicted as no answer)

    def report(self, name: str) -> str:
        return (f"{name}: {self.rows} rows, {self.candidates_kept} of {self.candidates_in} candidates kept, "
                f"{self.emptied_rows} rows left without a candidate")


def prune_candidates(builder, models, rows, select, top_k: int, min_probability: float, batch_size: int, device,
                     stats: PruneStats):
    """Yield ``(example, kept candidates)``: the ``top_k`` candidates of ``select(example)`` whose
    ``1 - p(no answer)`` under ``models`` exceeds ``min_probability``, best first.

    The first-place solution's cascade: a cheap model reads every candidate so that the expensive
    ensemble reads only the survivors (bert-base kept 10 above 0.2, then bert-large 4 above 0.35)."""
    for example, instances, outputs in score_rows(builder, models, [1.0] * len(models), rows, select, batch_size,
                                                  device):
        scores = candidate_probabilities(instances, outputs)
        kept = sorted((c for c, p in scores.items() if p > min_probability), key=lambda c: -scores[c])[:top_k]
        stats.rows += 1
        stats.candidates_in += len(scores)
        stats.candidates_kept += len(kept)
        stats.emptied_rows += not kept
        yield example, kept


def pruned_rows(stages, rows, batch_size: int, device):
    """Chain :func:`prune_candidates` stages; return ``(rows, select, stats)`` for the final scoring.

    ``stages`` are ``(builder, models, top_k, min_probability)``. Rows stream through every stage
    (each keeps what the previous one kept); ``select(example)`` then names the survivors."""
    kept = {}
    select = lambda example: range(len(example.candidates))  # noqa: E731
    all_stats = []
    for builder, models, top_k, min_probability in stages:
        stats = PruneStats()
        all_stats.append(stats)
        rows = _remember(prune_candidates(builder, models, rows, select, top_k, min_probability, batch_size, device,
                                          stats), kept)
        select = lambda example: kept[example.example_id]  # noqa: E731
    return rows, select, all_stats


def _remember(pairs, kept):
    for example, candidates in pairs:
        kept[example.example_id] = candidates
        yield example
