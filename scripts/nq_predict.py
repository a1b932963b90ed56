#!/usr/bin/env python
"""Predict Natural Questions answers with one or an ensemble of ``nq_reader`` checkpoints.

    python scripts/nq_predict.py --checkpoint ckpt/checkpoint_best.pt [more.pt --weights 0.6 0.4] \
        --input dev.jsonl.gz --output predictions.json [--kaggle-csv submission.csv] \
        [--prune cheap.pt 10 0.2 [--prune middle.pt 4 0.35]]

Every long-answer candidate of every row is read (windowed as in training), or with ``--prune``
only those a cascade of cheaper checkpoints keeps (a row left with none predicts no answer); the
answer is chosen as in the first-place post-processing (see ``fairseq_plugins.models.nq_decoding``). The output is
the official prediction json (``{"predictions": [...]}``, token offsets). When the rows carry
annotations, the official ``nq_eval`` metrics (best-threshold F1 of long and short answers, R@P)
and Kaggle's micro F1 are printed as JSON; gold needs ``--non-null-threshold`` annotators (default
2 when rows have 5 annotations, as NQ dev; 1 for single-annotation train rows).
"""
import csv
import json
import logging
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    sys.path.insert(0, REPO)
    from fairseq_plugins.data.nq_format import ReadStats, read_nq
    from fairseq_plugins.metrics.nq_eval import nq_metrics
    from fairseq_plugins.errors import InputError
    from fairseq_plugins.models.nq_decoding import decode_row, pruned_rows, score_rows
    from fairseq_plugins.models.reader_checkpoints import load_readers, load_readers_for, reader_arguments

    parser = reader_arguments(__doc__, "prediction json (official NQ format)")
    parser.add_argument("--kaggle-csv", help="also write the Kaggle submission csv")
    parser.add_argument("--max-answer-tokens", type=int, default=30, help="longest short span, in tokens")
    parser.add_argument("--non-null-threshold", type=int, help="annotators needed for a gold answer")
    parser.add_argument("--prune", nargs=3, action="append", default=[], metavar=("CHECKPOINT", "TOP_K", "MIN_P"),
                        help="candidate pruning before the ensemble, repeatable (a cascade): score the remaining "
                             "candidates with CHECKPOINT, keep the TOP_K best with p(answer) > MIN_P (the "
                             "first-place solution: --prune base.pt 10 0.2 --prune large.pt 4 0.35)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s | %(levelname)s | %(name)s | %(message)s")
    models, weights, task, device = load_readers_for(args, "nq_reader")
    stages = []
    for checkpoint, top_k, min_p in args.prune:
        try:
            top_k, min_p = int(top_k), float(min_p)
        except ValueError:
            raise InputError(None, f"expected CHECKPOINT TOP_K MIN_P, got {checkpoint} {top_k} {min_p}", field="--prune")
        prune_models, prune_task = load_readers([checkpoint], args.vocab, "nq_reader")
        stages.append((prune_task.builder(), [m.to(device) for m in prune_models], top_k, min_p))
    stats, builder = ReadStats(), task.builder()
    rows = (example for path in args.input for example in read_nq(path, stats))
    rows, select, prune_stats = pruned_rows(stages, rows, args.batch_size, device)
    predictions, gold = {}, []
    for example, instances, outputs in score_rows(builder, models, weights, rows, select, args.batch_size, device):
        predictions[example.example_id] = decode_row(example.example_id, example.candidates, instances, outputs,
                                                     args.max_answer_tokens)
        if example.annotations:
            example.words = []  # only the annotations are needed for scoring
            gold.append(example)
    for (checkpoint, _, _), pruning in zip(args.prune, prune_stats):
        logging.info(pruning.report(f"pruning with {checkpoint}"))
    logging.info("%s; %s", stats.report(" ".join(args.input)), builder.stats.report("prediction"))
    with open(args.output, "w", encoding="utf-8") as out:
        json.dump({"predictions": [p.to_json() for p in predictions.values()]}, out)
    if args.kaggle_csv:
        write_kaggle_csv(args.kaggle_csv, predictions.values())
    logging.info("%d predictions -> %s", len(predictions), args.output)
    if gold:
        threshold = args.non_null_threshold or (2 if max(len(e.annotations) for e in gold) >= 5 else 1)
        metrics = nq_metrics(gold, predictions, threshold, threshold)
        json.dump({"non_null_threshold": threshold, **metrics}, sys.stdout, indent=1)
        print()


def write_kaggle_csv(path, predictions):
    """``<id>_long`` -> ``start:end``; ``<id>_short`` -> ``start:end``, YES, NO or empty."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["example_id", "PredictionString"])
        for p in predictions:
            writer.writerow([f"{p.example_id}_long", f"{p.long[0]}:{p.long[1]}" if p.long else ""])
            short = p.yes_no if p.yes_no != "NONE" else " ".join(f"{s}:{e}" for s, e in sorted(p.short))
            writer.writerow([f"{p.example_id}_short", short])


if __name__ == "__main__":
    main()
