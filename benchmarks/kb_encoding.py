#!/usr/bin/env python
"""KB encoding throughput (candidates/s) of a BLINK entity tower, the slow part of retrieval on a CPU.

    python benchmarks/kb_encoding.py --pretrained-encoder enc/model.pt --vocab enc/vocab.txt \\
        --kb kb.jsonl --size 2000 --dtypes float32,bfloat16
    python benchmarks/kb_encoding.py --pretrained-encoder enc/model.pt --vocab enc/vocab.txt \\
        --text ../shared/data/wiki/lee_background.txt --size 1000      # every candidate full length

Runs the code ``blink_retrieve.py`` runs (:func:`open_encoded_kb` into a fresh folder) on the
first ``--size`` entities of ``--kb``, or on entities made from consecutive 120-word passages of
``--text`` (each fills ``--max-candidate-length``). ``--window-batches 1`` turns off the
length-sorted windows, to see what they save on a KB of mixed lengths.
"""
import argparse
import datetime
import json
import socket
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fairseq_plugins.data.blink_formats import iter_kb  # noqa: E402
from fairseq_plugins.retrieval import kb_encoding  # noqa: E402
from fairseq_plugins.retrieval.blink_models import load_blink, open_encoded_kb  # noqa: E402


def write_kb(args, path: Path) -> int:
    """The benchmark's KB at ``path``; returns its mean candidate length in tokens (as encoded)."""
    rows = []
    if args.kb:
        for entity in iter_kb(args.kb):
            if len(rows) == args.size:
                break
            rows.append({"id": entity.id, "title": entity.title, "text": entity.text})
    else:
        words = Path(args.text).read_text(encoding="utf-8").split()
        for i in range(args.size):
            start = (i * 40) % max(1, len(words) - 120)
            rows.append({"id": f"T{i}", "title": " ".join(words[start:start + 3]),
                         "text": " ".join(words[start + 3:start + 120])})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return len(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument("--checkpoint", help="trained blink_biencoder checkpoint")
    model.add_argument("--pretrained-encoder", help="converted encoder (model.pt)")
    parser.add_argument("--vocab")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--kb", help="knowledge-base jsonl: its first --size entities")
    source.add_argument("--text", help="plain text: --size full-length entities made from it")
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--max-candidate-length", type=int, default=128)
    parser.add_argument("--representation", default="mean", choices=("cls", "pooled", "mean"))
    parser.add_argument("--dtypes", type=lambda s: s.split(","), default=["float32", "bfloat16"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--window-batches", type=int, default=kb_encoding.WINDOW_BATCHES)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--out", type=Path, help="JSON result (default benchmarks/results/kb-encoding-HOST-DATE.json)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    kb_encoding.WINDOW_BATCHES = args.window_batches
    rows = []
    with tempfile.TemporaryDirectory() as work:
        kb = Path(work) / "kb.jsonl"
        size = write_kb(args, kb)
        for dtype in args.dtypes:
            task, biencoder = load_blink(args.checkpoint, args.pretrained_encoder, args.vocab,
                                         representation=None if args.checkpoint else args.representation,
                                         max_candidate_length=args.max_candidate_length, device=args.device,
                                         dtype=dtype)
            lengths = [len(t) for t in task.builder.candidates(*zip(*((e.title, e.text) for e in iter_kb(kb))))]
            wall, cpu = time.perf_counter(), time.process_time()
            open_encoded_kb(task, biencoder, str(kb), str(Path(work) / f"enc-{dtype}"), args.batch_size,
                            progress=False)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            rows.append({"dtype": dtype, "candidates": size, "mean_tokens": round(sum(lengths) / size, 1),
                         "seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
                         "candidates_per_s": round(size / wall, 1)})
            print(rows[-1], flush=True)
    load = open("/proc/loadavg").read().split()[:3] if Path("/proc/loadavg").is_file() else []
    result = {"rows": rows, "device": args.device, "threads": args.threads, "batch_size": args.batch_size,
              "window_batches": args.window_batches, "load_average": load, "host": socket.gethostname(),
              "date": datetime.date.today().isoformat(),
              "command": " ".join(["benchmarks/kb_encoding.py", *(argv if argv is not None else sys.argv[1:])])}
    out = args.out or REPO / "benchmarks/results" / f"kb-encoding-{result['host']}-{result['date']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\n{size} candidates (mean {rows[0]['mean_tokens']} tokens), {args.device}, {args.threads} threads, "
          f"load {' '.join(load)}\n\n| dtype | s (CPU s) | candidates/s |\n|---|---:|---:|")
    for r in rows:
        print(f"| {r['dtype']} | {r['seconds']} ({r['cpu_seconds']}) | {r['candidates_per_s']} |")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
