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
import time

import numpy as np
import torch

from fairseq_plugins.data.blink_formats import KnowledgeBase, SkipCounts, read_mentions, write_jsonl
from fairseq_plugins.errors import InputError
from fairseq_plugins.metrics.recall import DEFAULT_KS, gold_rank, recall_by_world
from fairseq_plugins.retrieval import INDEX_KINDS, EncodedKB, build_index, encode_kb, pad_batch
from fairseq_plugins.retrieval.blink_models import load_blink


def encode_mentions(task, model, mentions, batch_size):
    vectors = []
    with torch.no_grad():
        for start in range(0, len(mentions), batch_size):
            batch = mentions[start:start + batch_size]
            ids = task.builder.contexts([m.context_left for m in batch], [m.mention for m in batch],
                                        [m.context_right for m in batch])
            vectors.append(model.encode_contexts(pad_batch(ids, task.dictionary.pad())).float().numpy())
    return np.concatenate(vectors)


def format_recall(name, table, ks):
    lines = [f"{name}: recall@k " + " ".join(f"@{k}" for k in ks)]
    for world, row in table.items():
        lines.append(f"  {world:<24} n={row['n']:<6} " + " ".join(f"{100 * row['recall'][k]:.2f}" for k in ks))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    model_args = parser.add_mutually_exclusive_group(required=True)
    model_args.add_argument("--checkpoint", help="trained blink_biencoder checkpoint")
    model_args.add_argument("--pretrained-encoder", help="converted encoder (model.pt), untrained biencoder")
    parser.add_argument("--vocab", help="vocabulary (default: the checkpoint's)")
    parser.add_argument("--kb", required=True, help="knowledge-base jsonl")
    parser.add_argument("--mentions", nargs="+", required=True, help="mention jsonl files")
    parser.add_argument("--encoded-kb", required=True, help="folder for the encoded KB (reused if complete)")
    parser.add_argument("--index", choices=INDEX_KINDS, default="flat")
    parser.add_argument("--ef-search", type=int, default=256, help="HNSW search breadth")
    parser.add_argument("--ivf-lists", type=int, help="IVF cells (default ~4 sqrt(N))")
    parser.add_argument("--nprobe", type=int, default=16, help="IVF cells searched per query")
    parser.add_argument("--restrict-to-world", action="store_true", help="search each mention's own world only")
    parser.add_argument("--top-k", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=128, help="encoding batch size")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        task, model = load_blink(args.checkpoint, args.pretrained_encoder, args.vocab)
        start = time.perf_counter()
        encoded = encode_kb(args.kb, args.encoded_kb, task.builder, model.encode_candidates,
                            dim=model.encode_candidates(pad_batch([[task.dictionary.bos()]], 0)).size(-1),
                            batch_size=args.batch_size, progress=not args.no_progress) or EncodedKB.open(args.encoded_kb)
        logging.info("KB encoded: %d entities (%.1f s)", len(encoded.ids), time.perf_counter() - start)
        kb = KnowledgeBase(args.kb)
        index = build_index(encoded.vectors, args.index, worlds=encoded.worlds if args.restrict_to_world else None,
                            ef_search=args.ef_search, ivf_lists=args.ivf_lists, nprobe=args.nprobe)
        ks = [k for k in DEFAULT_KS if k <= args.top_k] or [args.top_k]
        report = {}
        for path in args.mentions:
            counts = SkipCounts()
            mentions = read_mentions(path, kb, counts)
            queries = encode_mentions(task, model, mentions, args.batch_size)
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
