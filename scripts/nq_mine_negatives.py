#!/usr/bin/env python
"""Hard-negative mining for stage 2 of the NQ reader: score every non-gold candidate with a checkpoint.

    python scripts/nq_mine_negatives.py --checkpoint stage1/checkpoint_last.pt \
        --input data/train.jsonl.gz --output data/negatives.jsonl

Writes one line per row, ``{"example_id", "candidates": [...], "p_answer": [...]}`` with
``p_answer = 1 - p(no answer)`` (best window), the first-place solution's distribution_dict.
``fairseq-train --task nq_reader --negative-distributions data/negatives.jsonl`` then draws each
row's negative in proportion to it. Several checkpoints are averaged like ``nq_predict.py``.
"""
import json
import logging
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    sys.path.insert(0, REPO)
    from fairseq_plugins.data.nq_format import ReadStats, read_nq
    from fairseq_plugins.models.nq_decoding import candidate_probabilities, score_rows
    from fairseq_plugins.models.reader_checkpoints import load_readers_for, reader_arguments

    args = reader_arguments(__doc__, "jsonl of candidate distributions").parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s | %(levelname)s | %(name)s | %(message)s")
    models, weights, task, device = load_readers_for(args, "nq_reader")

    def negatives(example):
        gold = example.gold
        return [c for c in range(len(example.candidates)) if gold is None or c != gold.candidate]

    stats, builder = ReadStats(), task.builder()
    rows = (example for path in args.input for example in read_nq(path, stats))
    with open(args.output, "w", encoding="utf-8") as out:
        for example, instances, outputs in score_rows(builder, models, weights, rows, negatives, args.batch_size,
                                                      device):
            scores = candidate_probabilities(instances, outputs)
            out.write(json.dumps({"example_id": example.example_id, "candidates": list(scores),
                                  "p_answer": [round(p, 6) for p in scores.values()]}) + "\n")
    logging.info("%s; %s -> %s", stats.report(" ".join(args.input)), builder.stats.report("mining"), args.output)


if __name__ == "__main__":
    main()
