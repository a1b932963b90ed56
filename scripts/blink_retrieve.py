#!/usr/bin/env python
"""Retrieve the top-k entities of every mention with a BLINK biencoder; report recall@k.

    python scripts/blink_retrieve.py --checkpoint ckpt/checkpoint_best.pt --kb kb.jsonl \
        --mentions data/train.jsonl data/valid.jsonl data/test.jsonl \
        --encoded-kb enc/ --index flat --restrict-to-world --top-k 64 --out-dir top64/

The KB is encoded once into ``--encoded-kb`` (memory-mapped, resumable: rerun after an
interruption and it continues). For each mentions file, ``--out-dir`` gets a file of the same
name with every kept mention plus ``candidates`` (entity ids, best first) and ``scores`` —
the crossencoder's input, and with ``--hard-negatives`` the biencoder's mined negatives —
and ``recall.json`` holds recall@k per world and overall. ``--pretrained-encoder converted/
model.pt --vocab vocab.txt`` instead of ``--checkpoint`` measures the untrained start.
"""
import argparse
import json
import logging
import os
import sys

from fairseq_plugins.data.blink_formats import KnowledgeBase, SkipCounts, read_mentions, write_jsonl
from fairseq_plugins.errors import InputError
from fairseq_plugins.metrics.recall import DEFAULT_KS, gold_rank, recall_by_world
from fairseq_plugins.retrieval.blink_models import add_retrieval_arguments, encode_mentions, retrieval_from_args


def format_recall(name, table, ks):
    lines = [f"{name}: recall@k " + " ".join(f"@{k}" for k in ks)]
    for world, row in table.items():
        lines.append(f"  {world:<24} n={row['n']:<6} " + " ".join(f"{100 * row['recall'][k]:.2f}" for k in ks))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_retrieval_arguments(parser)
    parser.add_argument("--mentions", nargs="+", required=True, help="mention jsonl files")
    parser.add_argument("--out-dir", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        task, model, encoded, index = retrieval_from_args(args)
        kb = KnowledgeBase(args.kb)
        ks = [k for k in DEFAULT_KS if k <= args.top_k] or [args.top_k]
        report = {}
        for path in args.mentions:
            counts = SkipCounts()
            mentions = read_mentions(path, kb, counts)
            queries = encode_mentions(task, model, [m.context_left for m in mentions], [m.mention for m in mentions],
                                      [m.context_right for m in mentions], args.batch_size)
            if args.restrict_to_world:
                scores, rows = index.search(queries, [m.world for m in mentions], args.top_k)
            else:
                scores, rows = index.search(queries, args.top_k)
            records, ranks = [], []
            for m, s, r in zip(mentions, scores, rows):
                candidates = [encoded.ids[i] for i in r if i >= 0]
                ranks.append(gold_rank(candidates, m.label_id))
                record = {k: v for k, v in vars(m).items() if k not in ("line", "candidates")}
                records.append({**record, "candidates": candidates, "scores": [round(float(x), 5) for x in s[:len(candidates)]]})
            name = os.path.basename(path)
            write_jsonl(os.path.join(args.out_dir, name), records)
            table = recall_by_world(ranks, [m.world for m in mentions], ks)
            report[name] = {"skipped": dict(counts.skipped), "recall": table}
            print(format_recall(name, table, ks))
            print("  " + counts.report(path))
        with open(os.path.join(args.out_dir, "recall.json"), "w") as f:
            json.dump(report, f, indent=1)
    except InputError as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
