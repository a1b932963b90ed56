#!/usr/bin/env python
"""Predict entities with a trained LEAR checkpoint: jsonl (or BIO tsv) in, jsonl out.

    python scripts/lear_predict.py --checkpoint checkpoints/checkpoint_best.pt \
        --input test.json --output predictions.jsonl

Each output line is ``{"text", "entities": [{"label", "text", "start_offset", "end_offset", "score"}]}``
(character offsets, end exclusive: LEAR's input format plus a score). Long texts are windowed as
in training. When the input carries gold entities, span-level micro P/R/F1 against them is
printed as JSON on stdout: character spans compared exactly, so entities cut by a window edge
count as misses. Label files and vocabulary default to the paths the checkpoint was trained
with; ``--vocab``, ``--label-map`` and ``--label-annotation`` override them.
"""
import argparse
import json
import logging
import os
import sys

import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--input", required=True, help="LEAR jsonl (entities optional) or BIO tsv")
    parser.add_argument("--output", required=True, help="jsonl of predictions")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threshold", type=float, help="flat decode threshold (default: the training run's)")
    parser.add_argument("--vocab")
    parser.add_argument("--label-map")
    parser.add_argument("--label-annotation")
    parser.add_argument("--cpu", action="store_true", help="run on CPU even when a GPU is present")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s | %(levelname)s | %(name)s | %(message)s")

    from fairseq import checkpoint_utils, utils

    utils.import_user_module(argparse.Namespace(user_dir=os.path.join(REPO, "fairseq_plugins")))
    from fairseq_plugins.data.lear_formats import read_examples
    from fairseq_plugins.metrics.span_f1 import SpanCounts
    from fairseq_plugins.models.lear_decoding import decode

    overrides = {k: v for k, v in (("vocab", args.vocab), ("label_map", args.label_map),
                                   ("label_annotation", args.label_annotation)) if v}
    models, cfg, task = checkpoint_utils.load_model_ensemble_and_task([args.checkpoint], arg_overrides=overrides)
    model = models[0].eval()
    device = "cuda" if torch.cuda.is_available() and not args.cpu else "cpu"
    model.to(device)
    threshold = args.threshold if args.threshold is not None else cfg.criterion.get("threshold", 0.5)

    examples = read_examples(args.input, task.schema.label_to_id)
    dataset = task.load_examples("predict", examples, args.input)
    predictions = [[] for _ in examples]
    with torch.inference_mode():
        for lo in range(0, len(dataset), args.batch_size):
            batch = dataset.collater(list(range(lo, min(lo + args.batch_size, len(dataset)))))
            tokens = batch["net_input"]["src_tokens"].to(device)
            rows = decode(model(tokens), batch["target"]["text_mask"].to(device), threshold)
            for window_index, row in zip(batch["id"].tolist(), rows):
                window = dataset.examples[window_index]
                text = examples[window.example].text
                for i, j, c, score in row:
                    start, end = window.offsets[i - 1][0], window.offsets[j - 1][1]
                    predictions[window.example].append(
                        {"label": task.schema.labels[c], "text": text[start:end], "start_offset": start,
                         "end_offset": end, "score": round(score, 6)})
    counts = SpanCounts()
    with open(args.output, "w", encoding="utf-8") as out:
        for example, predicted in zip(examples, predictions):
            predicted.sort(key=lambda e: (e["start_offset"], e["end_offset"], e["label"]))
            out.write(json.dumps({"text": example.text, "entities": predicted}, ensure_ascii=False) + "\n")
            counts.add({(e["start_offset"], e["end_offset"], e["label"]) for e in predicted}, example.entities)
    logging.info("%d texts, %d entities predicted -> %s", len(examples), counts.predicted, args.output)
    if counts.gold:
        json.dump({"precision": round(100 * counts.precision, 2), "recall": round(100 * counts.recall, 2),
                   "f1": round(100 * counts.f1, 2), "true_positives": counts.true_positives,
                   "predicted": counts.predicted, "gold": counts.gold}, sys.stdout)
        print()


if __name__ == "__main__":
    main()
