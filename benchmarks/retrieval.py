#!/usr/bin/env python
"""Top-k retrieval at scale: build time, batched latency and recall vs exact of our indexes.

    python benchmarks/retrieval.py --size 1000000 --vectors latent --kinds ivf --nprobe 8,16,32,64
    python benchmarks/retrieval.py --size 200000 --kinds hnsw --ef-search 64,128,256 --hnsw-neighbors 32
    python benchmarks/retrieval.py --vectors real --encoded-kb enc/          # the KB's own vectors
    python benchmarks/retrieval.py --vectors fitted --encoded-kb enc/ --size 1000000
    python benchmarks/retrieval.py --size 1000000 --vectors random --kinds exact-bf16,flat

Every index is ``fairseq_plugins.retrieval.DenseIndex``, the code ``blink_retrieve.py`` and
``link.py`` run. Recall is the share of the exact top-k (torch, chunked) that an index returns,
averaged over queries; latency is wall time per query of one batched search of all queries,
next to the CPU time of all threads (on a machine shared with other jobs, wall time overstates
what the search costs; CPU time / threads is what an idle machine would take at best).

Vectors (say which when quoting a figure):
- ``random``: isotropic Gaussian, norms within 15%: the worst case for cell and graph indexes.
- ``latent``: 32 latent dimensions + 10% isotropic noise (``benchmarks/run.py``'s model of learned
  embeddings), norms within 15%.
- ``fitted``: Gaussian with the mean and covariance of real embeddings (``--encoded-kb``, e.g. the
  MiniLM entity vectors ``blink_retrieve.py`` wrote): real spectrum, but no clusters.
- ``real``: the rows of ``--encoded-kb`` themselves; queries are rows held out of the index.
Synthetic queries are fresh draws of the same distribution, not perturbed index rows.
"""
import argparse
import datetime
import json
import os
import socket
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fairseq_plugins.retrieval.dense_index import DenseIndex  # noqa: E402
from fairseq_plugins.retrieval.kb_encoding import EncodedKB  # noqa: E402

CHUNK = 100_000


def synthetic(kind: str, n: int, dim: int, seed: int, fit=None) -> np.ndarray:
    """``n`` x ``dim`` float32 rows of one of the synthetic distributions, generated in chunks."""
    rng = np.random.RandomState(seed)
    out = np.empty((n, dim), dtype=np.float32)
    if kind == "latent":
        basis = np.random.RandomState(12345).randn(32, dim).astype(np.float32)  # shared by index and queries
    if kind == "fitted":
        mean, factor = fit
    for a in range(0, n, CHUNK):
        m = min(n, a + CHUNK) - a
        if kind == "random":
            x = rng.randn(m, dim).astype(np.float32)
        elif kind == "latent":
            x = rng.randn(m, 32).astype(np.float32) @ basis + 0.1 * np.sqrt(32) * rng.randn(m, dim).astype(np.float32)
        else:
            x = mean + rng.randn(m, dim).astype(np.float32) @ factor
        if kind != "fitted":
            x *= rng.uniform(0.85, 1.15, (m, 1)).astype(np.float32) / np.linalg.norm(x, axis=1, keepdims=True)
        out[a:a + m] = x
    return out


def fit_gaussian(vectors: np.ndarray):
    """(mean, factor) with ``factor.T @ factor`` = the covariance of ``vectors``."""
    x = np.asarray(vectors, dtype=np.float64)
    mean = x.mean(0)
    cov = np.cov(x - mean, rowvar=False)
    values, vecs = np.linalg.eigh(cov)
    factor = (vecs * np.sqrt(np.maximum(values, 0))).T
    return mean.astype(np.float32), factor.astype(np.float32)


def load_vectors(args):
    """(index vectors, queries, description)."""
    if args.vectors in ("real", "fitted"):
        if not args.encoded_kb:
            sys.exit(f"--vectors {args.vectors} needs --encoded-kb")
        real = np.asarray(EncodedKB.open(args.encoded_kb).vectors, dtype=np.float32)
        if args.vectors == "real":
            order = np.random.RandomState(args.seed).permutation(len(real))
            held = order[:args.queries]
            return real[np.sort(order[args.queries:])], real[held], f"real ({args.encoded_kb}, {len(real)} rows)"
        fit = fit_gaussian(real)
        return (synthetic("fitted", args.size, real.shape[1], args.seed, fit),
                synthetic("fitted", args.queries, real.shape[1], args.seed + 1, fit),
                f"Gaussian fitted to {args.encoded_kb} ({len(real)} rows)")
    return (synthetic(args.vectors, args.size, args.dim, args.seed),
            synthetic(args.vectors, args.queries, args.dim, args.seed + 1), args.vectors)


def timed(fn):
    """(result, wall seconds, CPU seconds of this process over all its threads)."""
    start, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - start, time.process_time() - cpu


def overlap(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(f[f >= 0]) & set(t)) / k for f, t in zip(found, truth)]))


def run(args):
    torch.set_num_threads(args.threads)
    import faiss
    faiss.omp_set_num_threads(args.threads)
    vectors, queries, description = load_vectors(args)
    n, dim = vectors.shape
    print(f"{n} x {dim} vectors: {description}; {len(queries)} queries, top-{args.k}, {args.threads} threads",
          file=sys.stderr)
    exact = DenseIndex(vectors, kind="exact")
    (_, truth), exact_s, exact_cpu = timed(lambda: exact.search(queries, args.k))
    rows = [{"kind": "exact (torch)", "params": "", "build_s": 0.0, "build_cpu_s": 0.0,
             "ms_per_query": 1e3 * exact_s / len(queries), "cpu_ms_per_query": 1e3 * exact_cpu / len(queries),
             "recall": 1.0}]
    sweeps = {"hnsw": ("ef_search", args.ef_search), "ivf": ("nprobe", args.nprobe), "flat": (None, [None]),
              "exact-bf16": (None, [None])}
    for kind in args.kinds:
        build_args = {"hnsw": {"hnsw_neighbors": args.hnsw_neighbors, "ef_construction": args.ef_construction},
                      "ivf": {"ivf_lists": args.ivf_lists, "ivf_points_per_list": args.ivf_points_per_list},
                      "flat": {}, "exact-bf16": {"rerank_factor": args.rerank_factor}}[kind]
        print(f"building {kind} {build_args} ...", file=sys.stderr)
        index, build_s, build_cpu = timed(lambda: DenseIndex(vectors, kind=kind, **build_args))
        name, values = sweeps[kind]
        for value in values:
            if name:
                index.set_search_params(**{name: value})
            index.search(queries[:8], args.k)  # warm-up
            (_, found), search_s, search_cpu = timed(lambda: index.search(queries, args.k))
            params = {**build_args, **({name: value} if name else {})}
            if kind == "ivf":
                params["ivf_lists"] = index.index.nlist
            rows.append({"kind": kind, "params": ", ".join(f"{k}={v}" for k, v in params.items() if v is not None),
                         "build_s": build_s, "build_cpu_s": build_cpu, "ms_per_query": 1e3 * search_s / len(queries),
                         "cpu_ms_per_query": 1e3 * search_cpu / len(queries), "recall": overlap(found, truth)})
            print(f"  {rows[-1]}", file=sys.stderr)
    return {"vectors": description, "size": n, "dim": dim, "queries": len(queries), "k": args.k,
            "threads": args.threads, "load_average": os.getloadavg(), "rows": rows}


def markdown(result) -> str:
    lines = [f"top-{result['k']} over {result['size']:,} x {result['dim']} ({result['vectors']}), "
             f"{result['queries']} queries in one batch, {result['threads']} threads, load average "
             + " ".join(f"{x:.1f}" for x in result["load_average"]),
             "", "| index | parameters | build s (CPU s) | ms/query | CPU ms/query | recall@k vs exact |",
             "|---|---|---:|---:|---:|---:|"]
    for r in result["rows"]:
        lines.append(f"| {r['kind']} | {r['params']} | {r['build_s']:.1f} ({r['build_cpu_s']:.1f}) | "
                     f"{r['ms_per_query']:.3f} | {r['cpu_ms_per_query']:.3f} | {r['recall']:.3f} |")
    return "\n".join(lines)


def ints(text):
    return [int(x) for x in text.split(",") if x]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000, help="indexed vectors (synthetic kinds)")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--vectors", choices=("random", "latent", "fitted", "real"), default="latent")
    parser.add_argument("--encoded-kb", help="encoded KB folder (blink_retrieve.py --encoded-kb) for real/fitted")
    parser.add_argument("--queries", type=int, default=256)
    parser.add_argument("--k", type=int, default=64)
    parser.add_argument("--kinds", type=lambda s: s.split(","), default=["ivf", "hnsw"],
                        help="comma-separated: flat, hnsw, ivf, exact-bf16 (exact torch is always run)")
    parser.add_argument("--ef-search", type=ints, default=[64, 128, 256, 512])
    parser.add_argument("--hnsw-neighbors", type=int, default=32)
    parser.add_argument("--ef-construction", type=int, default=80)
    parser.add_argument("--nprobe", type=ints, default=[8, 16, 32, 64, 128])
    parser.add_argument("--ivf-lists", type=int, help="default ~4 sqrt(N)")
    parser.add_argument("--ivf-points-per-list", type=int, default=64, help="k-means sample per cell")
    parser.add_argument("--rerank-factor", type=int, default=2, help="exact-bf16: rows re-scored in float32 per "
                                                                      "query, as a multiple of k")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="JSON result (default benchmarks/results/retrieval-HOST-DATE-"
                                                 "VECTORS-SIZE.json)")
    args = parser.parse_args(argv)
    started = time.time()
    result = run(args)
    date = datetime.date.today().isoformat()
    result.update(date=date, host=socket.gethostname(), seconds=round(time.time() - started),
                  command=" ".join(["benchmarks/retrieval.py", *(argv if argv is not None else sys.argv[1:])]))
    out = args.out or REPO / "benchmarks/results" / f"retrieval-{result['host']}-{date}-{args.vectors}-{result['size']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(markdown(result))
    print(f"\n{result['seconds']} s; written to {out}")


if __name__ == "__main__":
    main()
