#!/usr/bin/env python
"""Predict and score CoNLL NER with a ``luke_ner`` checkpoint (no training: the seed's ``--no-train``).

    python scripts/predict_luke_ner.py --checkpoint checkpoints/checkpoint_best.pt \
        --input conll/valid.txt --output valid.pred.txt [--vocab-dir converted/] [--data conll/]

Writes ``word gold predicted`` per line (IOB2 predictions, a blank line between sentences) and
prints seqeval's entity-level micro precision / recall / F1. Spans of one sentence split over
several examples (``--max-entity-length``) are decoded together.
"""
import argparse
import sys
from collections import defaultdict

import torch

from fairseq_plugins.criterions.luke_span_ner import span_logits
from fairseq_plugins.data.conll import read_conll
from fairseq_plugins.data.luke_ner import IGNORE, greedy_decode
from fairseq_plugins.errors import InputError
from fairseq_plugins.luke_prediction import add_checkpoint_args, batches, format_table, load_for_prediction
from fairseq_plugins.metrics.seqeval import entity_f1, spans_to_iob2


def predict(task, model, path, batch_size=8):
    """Per sentence of ``path``: IOB2 tags of the greedy decode over all its spans."""
    dataset = task.build_dataset(path)
    scores, labels, spans = defaultdict(list), defaultdict(list), defaultdict(list)
    for sample in batches(dataset, batch_size):
        best, predicted = span_logits(model, sample).max(-1)
        for b, sentence in enumerate(sample["id"].tolist()):
            real = sample["target"][b].ne(IGNORE)
            scores[sentence].append(best[b][real])
            labels[sentence].append(predicted[b][real])
            spans[sentence].append(sample["spans"][b][real])
    sentences = [s for d in read_conll(path, task.cfg.tagging_scheme) for s in d.sentences]
    tags = []
    for index, sentence in enumerate(sentences):
        s, p, w = (torch.cat(x[index]) for x in (scores, labels, spans))
        kept = greedy_decode(s, p, w)
        tags.append(spans_to_iob2(len(sentence.words), [(int(w[k, 0]), int(w[k, 1]), task.labels[int(p[k])])
                                                        for k in kept]))
    return sentences, tags


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_checkpoint_args(parser)
    parser.add_argument("--input", required=True, help="CoNLL file to label (its tags are the gold)")
    parser.add_argument("--output", required=True, help="predictions: word gold predicted")
    args = parser.parse_args(argv)
    try:
        task, model = load_for_prediction(args)
        sentences, tags = predict(task, model, args.input, args.batch_size)
    except InputError as e:
        sys.exit(f"error: {e}")
    with open(args.output, "w", encoding="utf-8") as f:
        for sentence, predicted in zip(sentences, tags):
            f.writelines(f"{w} {g} {p}\n" for w, g, p in zip(sentence.words, sentence.tags, predicted))
            f.write("\n")
    counts = entity_f1([s.tags for s in sentences], tags)
    print(f"{len(sentences)} sentences, {counts.gold} gold entities, {counts.predicted} predicted: "
          f"precision {100 * counts.precision:.2f} recall {100 * counts.recall:.2f} F1 {100 * counts.f1:.2f}")
    print(format_table(["entity-level micro", "gold", "predicted", "correct", "precision %", "recall %", "F1 %"],
                       [("seqeval", counts.gold, counts.predicted, counts.true_positives, 100 * counts.precision,
                         100 * counts.recall, 100 * counts.f1)]))


if __name__ == "__main__":
    main()
