#!/usr/bin/env python
"""Score top-k files with a BLINK crossencoder; print normalized and unnormalized accuracy.

    python scripts/blink_evaluate_crossencoder.py --checkpoint crossencoder/checkpoint_best.pt \\
        --kb kb.jsonl --topk top64/valid.jsonl top64/test.jsonl --out-dir predictions/
    python scripts/blink_evaluate_crossencoder.py --predictions predictions/test.jsonl   # re-score only

Top-k files are what ``scripts/blink_retrieve.py`` writes. For each, ``--out-dir`` gets a file
of the same name: every mention with its ``candidates``, the crossencoder's ``crossencoder_scores``
and its ``prediction`` (the best candidate, null when there are none), and ``accuracy.json``.
The table shows per world and overall: normalized accuracy (over mentions whose gold entity
was retrieved), unnormalized accuracy (over all mentions), macro over every world (including
worlds at zero, which BLINK's script left out) and micro over mentions. ``--predictions``
reads such files (``label_id``, ``candidates``, ``prediction``, optional ``world``) and prints
the table without a model.
"""
import argparse
import json
import logging
import os
import sys

from fairseq_plugins.data.blink_formats import KnowledgeBase, SkipCounts, json_lines, read_mentions, write_jsonl
from fairseq_plugins.errors import InputError
from fairseq_plugins.metrics.blink_accuracy import format_accuracy_table, linking_accuracy
from fairseq_plugins.retrieval.blink_models import add_inference_device_arguments, load_blink
from fairseq_plugins.retrieval.reranking import CrossencoderReranker


def score_topk_file(reranker: CrossencoderReranker, path, kb: KnowledgeBase):
    """(prediction records, skip counts) of one top-k file."""
    counts = SkipCounts()
    mentions = read_mentions(path, kb, counts)
    for m in mentions:
        if m.candidates is None:
            raise InputError(path, "no candidates: not a top-k file of blink_retrieve.py", line=m.line,
                             field="candidates")
    scores = reranker.score([m.context_left for m in mentions], [m.mention for m in mentions],
                            [m.context_right for m in mentions], [m.candidates for m in mentions])
    records = []
    for m, s in zip(mentions, scores):
        candidates = m.candidates[:len(s)]
        record = {k: v for k, v in vars(m).items() if k not in ("line", "candidates")}
        records.append({**record, "candidates": candidates, "crossencoder_scores": [round(float(x), 5) for x in s],
                        "prediction": candidates[int(s.argmax())] if len(s) else None})
    return records, counts


def read_predictions(path):
    records = []
    for number, _, obj in json_lines(path):
        for key in ("label_id", "candidates", "prediction"):
            if key not in obj:
                raise InputError(path, "missing", line=number, field=key)
        if not isinstance(obj["candidates"], list):
            raise InputError(path, "expected a list of entity ids", line=number, field="candidates")
        records.append(obj)
    if not records:
        raise InputError(path, "no predictions")
    return records


def accuracy_of(records):
    return linking_accuracy([None if r["prediction"] is None else str(r["prediction"]) for r in records],
                            [str(r["label_id"]) for r in records],
                            [str(r["label_id"]) in map(str, r["candidates"]) for r in records],
                            [r.get("world") for r in records])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--topk", nargs="+", help="top-k jsonl files to score (needs --checkpoint)")
    source.add_argument("--predictions", nargs="+", help="prediction jsonl files to re-score (no model)")
    parser.add_argument("--checkpoint", help="blink_crossencoder checkpoint")
    parser.add_argument("--kb", help="knowledge-base jsonl (default: the checkpoint's)")
    parser.add_argument("--vocab", help="vocabulary (default: the checkpoint's)")
    parser.add_argument("--out-dir", help="folder for predictions and accuracy.json (needed with --topk)")
    parser.add_argument("--batch-size", type=int, default=8, help="mentions per crossencoder batch")
    add_inference_device_arguments(parser)
    args = parser.parse_args(argv)
    if args.topk and not (args.checkpoint and args.out_dir):
        parser.error("--topk needs --checkpoint and --out-dir")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    try:
        report = {}

        def show(path, records, counts=None):
            name = os.path.basename(path)
            report[name] = {"accuracy": accuracy_of(records)}
            print(format_accuracy_table(report[name]["accuracy"], f"{name}: crossencoder accuracy (%)"))
            if counts is not None:
                report[name]["skipped"] = dict(counts.skipped)
                print("  " + counts.report(path))

        if args.topk:
            task, model = load_blink(args.checkpoint, vocab=args.vocab, kb=args.kb, task="blink_crossencoder",
                                     device=args.device, dtype=args.dtype)
            if task.kb is None:
                raise InputError(args.checkpoint, "no knowledge base in the checkpoint; pass --kb", field="kb")
            reranker = CrossencoderReranker(task, model, task.kb, args.batch_size)
            for path in args.topk:
                records, counts = score_topk_file(reranker, path, task.kb)
                write_jsonl(os.path.join(args.out_dir, os.path.basename(path)), records)
                show(path, records, counts)
        else:
            for path in args.predictions:
                show(path, read_predictions(path))
        if args.out_dir:
            os.makedirs(args.out_dir, exist_ok=True)
            with open(os.path.join(args.out_dir, "accuracy.json"), "w") as f:
                json.dump(report, f, indent=1)
    except InputError as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
