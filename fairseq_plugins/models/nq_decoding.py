"""From reader outputs to NQ answers: ensemble averaging, candidate ranking and span decoding.

Following the first-place post-processing: the probabilities of several checkpoints (which must
build the same instances: same vocabulary and lengths) are averaged with weights; the long answer
is the candidate whose window has the highest ``1 - p(no answer)`` (its ``long_answer_score``),
``short_answers_score`` is ``1 - p(no answer) - p(long only)``, YES/NO is answered when
``max(p(yes), p(no)) > p(short)``, else the best start/end pair inside that window
(start <= end, at most ``max_answer_tokens`` apart) maps back to document words.
"""
import argparse
from dataclasses import dataclass
from typing import Dict, List, Sequence

import torch
from fairseq import checkpoint_utils

from ..data.nq_dataset import NqReaderDataset
from ..data.nq_inputs import LONG_ONLY, NO, NO_ANSWER, SHORT, YES
from ..errors import InputError
from ..metrics.nq_eval import NqPrediction


def reader_arguments(description: str, output_help: str) -> argparse.ArgumentParser:
    """The flags that the predict and mining commands share."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", nargs="+", required=True)
    parser.add_argument("--weights", type=float, nargs="+", help="ensemble weights (default: equal)")
    parser.add_argument("--input", nargs="+", required=True, help="simplified-NQ .jsonl / .jsonl.gz / .json rows")
    parser.add_argument("--output", required=True, help=output_help)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--vocab", help="vocab.txt (default: the training run's)")
    parser.add_argument("--cpu", action="store_true", help="run on CPU even when a GPU is present")
    return parser


def load_readers_for(args):
    """(models on their device, weights, task, device) for the parsed :func:`reader_arguments`."""
    weights = args.weights or [1.0] * len(args.checkpoint)
    if len(weights) != len(args.checkpoint):
        raise InputError(None, f"{len(weights)} weights for {len(args.checkpoint)} checkpoints", field="--weights")
    models, task = load_readers(args.checkpoint, args.vocab)
    device = "cuda" if torch.cuda.is_available() and not args.cpu else "cpu"
    return [m.to(device) for m in models], weights, task, device


def load_readers(checkpoints: Sequence[str], vocab: str = None):
    """Models (in eval mode) and the task of the first checkpoint; all must build the same instances."""
    overrides = {"vocab": vocab} if vocab else {}
    models, task, first_key = [], None, None
    for path in checkpoints:
        (model,), cfg, this_task = checkpoint_utils.load_model_ensemble_and_task([path], arg_overrides=overrides)
        key = [cfg.task.get(k) for k in ("max_length", "max_query_length", "doc_stride")]
        key.append(len(this_task.source_dictionary))
        if task is None:
            task, first_key = this_task, key
        elif key != first_key:
            raise InputError(path, f"builds other instances (max length, query length, stride, vocabulary size "
                                   f"{key}) than {checkpoints[0]} ({first_key}); an ensemble needs the same")
        models.append(model.eval())
    return models, task


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
    start = output.start.masked_fill(~inside, float("-inf"))
    end = output.end.masked_fill(~inside, float("-inf"))
    scores = start[:, None] + end[None, :]
    positions = torch.arange(len(words))
    width = positions[None, :] - positions[:, None]
    scores = scores.masked_fill((width < 0) | (width >= max_answer_tokens), float("-inf"))
    flat = int(scores.argmax())
    i, j = divmod(flat, len(words))
    return (i, j) if torch.isfinite(scores[i, j]) else None


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
    dataset = NqReaderDataset(flat, models[0].encoder.dictionary.pad())
    outputs = []
    with torch.inference_mode():
        for lo in range(0, len(flat), batch_size):
            outputs.extend(ensemble_outputs(models, weights, dataset.collater(list(range(lo, min(
                lo + batch_size, len(flat))))), device))
    lo = 0
    for example, instances in chunk:
        yield example, instances, outputs[lo:lo + len(instances)]
        lo += len(instances)
