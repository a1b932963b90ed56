#!/usr/bin/env python
"""Predict and score ReCoRD with a ``luke_record`` checkpoint (no training: the seed's ``--no-train``).

    python scripts/predict_luke_record.py --checkpoint checkpoints/checkpoint_best.pt \
        --input record/dev.json --output dev.predictions.json [--vocab-dir converted/] [--data record/]

Writes ``{question id: answer text}`` (the candidate with the highest logit over all windows of
the question, as LUKE's ``predictions.json``) and, when the file has answers, prints the official
ReCoRD exact match and F1 over all its questions (a question without candidates scores 0).
"""
import argparse
import json
import logging
import sys

import torch
from fairseq import utils
from tqdm import tqdm

from fairseq_plugins.criterions.luke_record import best_per_window, candidate_logits
from fairseq_plugins.errors import InputError
from fairseq_plugins.luke_prediction import add_checkpoint_args, batches, format_table, load_for_prediction
from fairseq_plugins.metrics.squad import squad_v1_scores


def predict(task, model, path, batch_size=8):
    """(predictions {qid: text}, golds {qid: [texts]}, number of questions) for ``path``."""
    dataset = task.build_dataset(path, keep_empty=True)
    best, order = {}, [int(i) for i in dataset.ordered_indices()]
    cuda = next(model.parameters()).is_cuda
    steps = tqdm(batches(dataset, batch_size, order), total=-(-len(order) // batch_size), desc="windows",
                 unit="batch", disable=None)
    for start, sample in zip(range(0, len(order), batch_size), steps):
        indices = order[start:start + batch_size]
        logits = candidate_logits(model, utils.move_to_cuda(sample) if cuda else sample).cpu()
        for index, (question, logit, _, _, slot) in zip(indices, best_per_window(logits, sample)):
            if slot >= 0 and (question not in best or logit > best[question][0]):
                best[question] = (logit, dataset.texts[index][slot])
    predictions = {dataset.questions[q][0]: text for q, (_, text) in sorted(best.items())}
    golds = {qid: answers for qid, answers in dataset.questions if answers}
    return predictions, golds, len(dataset.questions)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_checkpoint_args(parser)
    parser.add_argument("--input", required=True, help="ReCoRD file (.json release or .jsonl SuperGLUE)")
    parser.add_argument("--output", required=True, help="predictions json: {question id: answer text}")
    parser.add_argument("--cpu", action="store_true", help="run on the CPU even when a GPU is present")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        task, model = load_for_prediction(args)
        if torch.cuda.is_available() and not args.cpu:
            model = model.cuda()
        predictions, golds, total = predict(task, model, args.input, args.batch_size)
    except InputError as e:
        sys.exit(f"error: {e}")
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump(predictions, f, ensure_ascii=False, indent=1)
    print(f"wrote {args.output}: {len(predictions)} predictions for {total} questions "
          f"({total - len(predictions)} without candidates)")
    if golds:
        scores = squad_v1_scores(golds, predictions)
        print(format_table(["ReCoRD", "exact_match", "f1", "questions", "without prediction"],
                           [(args.input, scores["exact_match"], scores["f1"], scores["total"], scores["missing"])]))


if __name__ == "__main__":
    main()
