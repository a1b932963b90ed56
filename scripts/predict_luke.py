#!/usr/bin/env python
"""Predict and score entity typing or relation classification with a LUKE checkpoint (no training: the
seed's ``--no-train --checkpoint-file``).

    python scripts/predict_luke.py --checkpoint checkpoints/checkpoint_best.pt --input OpenEntity/test.json \
        --output test.pred.jsonl [--vocab-dir converted/] [--data OpenEntity/]

The task comes from the checkpoint (``luke_entity_typing`` or ``luke_relation_classification``; a
Hugging Face ``LukeForEntity(Pair)Classification`` converted with scripts/convert_luke_hf_to_fairseq.py
works too). Writes one JSON line per example (its line in the input, the text with the mention(s),
gold and predicted labels, every label's score: sigmoid for typing, softmax for relations) and prints
LUKE's micro precision / recall / F1 (relations without ``no_relation``). For CoNLL NER use
scripts/predict_luke_ner.py.
"""
import argparse
import sys

from fairseq_plugins.data.blink_formats import write_jsonl
from fairseq_plugins.errors import InputError
from fairseq_plugins.luke_prediction import add_checkpoint_args, batches, format_table, load_for_prediction
from fairseq_plugins.metrics.span_f1 import SpanCounts
from fairseq_plugins.metrics.typing_f1 import relation_counts, typing_counts
from fairseq_plugins.tasks.luke_entity_typing import LukeEntityTypingTask
from fairseq_plugins.tasks.luke_relation import LukeRelationTask


def describe(record) -> dict:
    """The example as a reader sees it: text and mention(s)."""
    if hasattr(record, "sent"):
        return {"text": record.sent, "mention": record.sent[record.start:record.end]}
    words = record.words
    return {"text": " ".join(words), "head": " ".join(words[slice(*record.head)]),
            "tail": " ".join(words[slice(*record.tail)])}


def predict(task, model, path, batch_size=8):
    """(one record per example, summed counts) for ``path``."""
    typing = isinstance(task, LukeEntityTypingTask)
    if not typing and not isinstance(task, LukeRelationTask):
        raise InputError(None, f"the checkpoint's task is {type(task).__name__}; this command predicts "
                               "luke_entity_typing and luke_relation_classification (NER: predict_luke_ner.py)",
                         field="task")
    records = task.read(path)
    dataset = task.build_dataset(path)
    head = model.entity_heads[task.HEAD]
    rows, totals = [], SpanCounts()
    for batch in batches(dataset, batch_size):
        _, extra = model(**batch["net_input"], features_only=True)
        logits = head(extra["entity_states"]).float()
        target = batch["target"]
        if typing:
            scores, predicted = logits.sigmoid(), logits > 0
            counts = typing_counts(predicted, target > 0.5)
        else:
            scores, predicted = logits.softmax(-1), logits.argmax(-1)
            counts = relation_counts(predicted, target)
        totals.true_positives += counts.true_positives
        totals.predicted += counts.predicted
        totals.gold += counts.gold
        for b, index in enumerate(batch["id"].tolist()):
            record = records[index]
            if typing:
                chosen = [task.labels[i] for i in predicted[b].nonzero().flatten().tolist()]
            else:
                chosen = task.labels[int(predicted[b])]
            rows.append({"line": record.line, **describe(record),
                         "gold": record.labels if typing else record.relation, "predicted": chosen,
                         "scores": {label: round(float(s), 4) for label, s in zip(task.labels, scores[b])}})
    return rows, totals


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_checkpoint_args(parser)
    parser.add_argument("--input", required=True, help="Open Entity or TACRED json to label (its labels are gold)")
    parser.add_argument("--output", required=True, help="JSON lines: text, gold, predicted, scores")
    args = parser.parse_args(argv)
    try:
        task, model = load_for_prediction(args)
        rows, counts = predict(task, model, args.input, args.batch_size)
    except InputError as e:
        sys.exit(f"error: {e}")
    write_jsonl(args.output, rows)
    print(f"{len(rows)} examples -> {args.output}")
    print(format_table(["micro", "gold", "predicted", "correct", "precision %", "recall %", "F1 %"],
                       [(type(task).__name__, counts.gold, counts.predicted, counts.true_positives,
                         100 * counts.precision, 100 * counts.recall, 100 * counts.f1)]))


if __name__ == "__main__":
    main()
