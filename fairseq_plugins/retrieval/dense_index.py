"""Maximum-inner-product search over entity vectors: faiss flat, HNSW, IVF, or exact torch.

- ``flat``: ``faiss.IndexFlatIP``, exact.
- ``hnsw``: graph search. HNSW in faiss ranks by L2, so every entity gets one more coordinate
  ``sqrt(phi - |x|^2)`` (``phi`` = the largest squared norm) and queries get 0; then
  ``|q - x|^2 = |q|^2 + phi - 2 q.x`` and the nearest in L2 are the best by inner product
  (Bachrach et al. 2014; BLINK's DPR-derived indexer meant to do this but reset ``phi`` to 0).
  Recall falls when norms vary widely (measured on random data, k=64, efSearch=256: 1.00 with
  norms within 30% of each other, 0.77 when they vary fourfold; raise ``--ef-search`` there).
- ``ivf``: inverted lists over k-means cells (``IndexIVFFlat``, inner product) for large KBs.
- ``exact``: torch matrix products over the memory-mapped matrix in chunks, no faiss.
- ``exact-bf16``: the same search run on a bf16 copy of the matrix (CPUs with AMX or avx512_bf16
  multiply bf16 several times faster than fp32), then the best candidates re-scored from the
  float32 matrix, so returned scores are exact and ids equal ``exact``'s up to near-ties (see
  :class:`_Bf16Search`). Costs 2 bytes per coordinate of RAM.

Vectors are read in chunks, so building needs memory for the index only. ``WorldRestrictedIndex``
builds one index per world and searches each query in its own world (Zeshel's protocol).
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch

logger = logging.getLogger(__name__)

INDEX_KINDS = ("flat", "hnsw", "ivf", "exact", "exact-bf16")
CHUNK = 65536
QUERY_BATCH = 256  # queries searched together: bounds the score buffers, big enough for matrix units


def _chunks(n: int, size: int = CHUNK):
    for start in range(0, n, size):
        yield start, min(n, start + size)


class DenseIndex:
    """Top-k inner-product search over ``vectors`` (N x D float32, may be a memmap)."""

    def __init__(self, vectors: np.ndarray, kind: str = "flat", hnsw_neighbors: int = 64, ef_search: int = 256,
                 ef_construction: int = 200, ivf_lists: Optional[int] = None, nprobe: int = 16, seed: int = 1,
                 ivf_points_per_list: int = 256, rerank_factor: int = 2):
        if kind not in INDEX_KINDS:
            raise ValueError(f"index kind {kind!r}; expected one of {', '.join(INDEX_KINDS)}")
        if len(vectors) == 0:
            raise ValueError("no vectors to index")
        self.kind = kind
        self.vectors = vectors
        self.size, self.dim = vectors.shape
        self.phi = 0.0
        if kind == "exact":
            return
        if kind == "exact-bf16":
            self.bf16 = _Bf16Search(vectors, rerank_factor)
            return
        import faiss

        if kind == "flat":
            self.index = faiss.IndexFlatIP(self.dim)
        elif kind == "hnsw":
            self.phi = max(float((np.asarray(vectors[a:b], dtype=np.float32) ** 2).sum(1).max())
                           for a, b in _chunks(self.size))
            self.index = faiss.IndexHNSWFlat(self.dim + 1, hnsw_neighbors)
            self.index.hnsw.efConstruction = ef_construction
            self.index.hnsw.efSearch = ef_search
        else:
            lists = ivf_lists or max(1, min(int(4 * np.sqrt(self.size)), self.size // 39))
            self.index = faiss.IndexIVFFlat(faiss.IndexFlatIP(self.dim), self.dim, lists, faiss.METRIC_INNER_PRODUCT)
            # k-means on a sample (faiss' own cap is 256 points per cell; fewer builds faster at 1M+)
            sample = np.random.RandomState(seed).choice(self.size, min(self.size, ivf_points_per_list * lists),
                                                        replace=False)
            self.index.train(np.ascontiguousarray(vectors[np.sort(sample)], dtype=np.float32))
            self.index.nprobe = min(nprobe, lists)
        for a, b in _chunks(self.size):
            self.index.add(self._entities(np.asarray(vectors[a:b], dtype=np.float32)))

    def set_search_params(self, ef_search: Optional[int] = None, nprobe: Optional[int] = None) -> None:
        """Change the search breadth of a built index (HNSW efSearch, IVF cells probed)."""
        if ef_search is not None and self.kind == "hnsw":
            self.index.hnsw.efSearch = ef_search
        if nprobe is not None and self.kind == "ivf":
            self.index.nprobe = min(nprobe, self.index.nlist)

    def _entities(self, x: np.ndarray) -> np.ndarray:
        if self.kind != "hnsw":
            return np.ascontiguousarray(x)
        extra = np.sqrt(np.maximum(self.phi - (x ** 2).sum(1), 0.0))
        return np.ascontiguousarray(np.hstack([x, extra[:, None]]), dtype=np.float32)

    def search(self, queries: np.ndarray, k: int) -> Tuple[np.ndarray, np.ndarray]:
        """(scores Q x k, rows Q x k), best first; rows are -1 (score -inf) where fewer than k exist."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k_eff = min(k, self.size)
        if self.kind in ("exact", "exact-bf16"):
            search = self._exact if self.kind == "exact" else self.bf16.search
            parts = [search(queries[a:b], k_eff) for a, b in _chunks(len(queries), QUERY_BATCH)]
            scores = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, k_eff), np.float32)
            rows = np.concatenate([p[1] for p in parts]) if parts else np.zeros((0, k_eff), np.int64)
        elif self.kind == "hnsw":
            distances, rows = self.index.search(np.hstack([queries, np.zeros((len(queries), 1), np.float32)]), k_eff)
            scores = ((queries ** 2).sum(1, keepdims=True) + self.phi - distances) / 2
        else:
            scores, rows = self.index.search(queries, k_eff)
        scores = np.where(rows >= 0, scores, -np.inf).astype(np.float32)
        if k_eff < k:
            scores = np.pad(scores, ((0, 0), (0, k - k_eff)), constant_values=-np.inf)
            rows = np.pad(rows, ((0, 0), (0, k - k_eff)), constant_values=-1)
        return scores, rows

    def _exact(self, queries: np.ndarray, k: int):
        q = torch.from_numpy(queries)
        best_scores = torch.full((len(q), 0), float("-inf"))
        best_rows = torch.zeros((len(q), 0), dtype=torch.long)
        for a, b in _chunks(self.size):
            scores = q @ torch.from_numpy(np.asarray(self.vectors[a:b], dtype=np.float32)).t()
            top = scores.topk(min(k, b - a), dim=1)
            best_scores = torch.cat([best_scores, top.values], 1)
            best_rows = torch.cat([best_rows, top.indices + a], 1)
            keep = best_scores.topk(min(k, best_scores.size(1)), dim=1)
            best_scores, best_rows = keep.values, best_rows.gather(1, keep.indices)
        return best_scores.numpy(), best_rows.numpy()


class _Bf16Search:
    """Exact top-k by inner product from bf16 matrix products, re-scored in float32.

    Why it returns the exact top-k: rows are cut into groups of ``GROUP`` consecutive rows, and
    groups into super-groups of ``GROUP`` groups. Each query keeps only its best bf16 score per
    group (one cheap pass over the score block, where a top-k over every score would cost more
    than the product itself) and per super-group. The k best rows lie in at most k groups, and
    those groups' maxima are at least the k-th best score, so they are among the k best groups;
    likewise for super-groups. Keeping k + max(16, k/2) at each level leaves a margin for bf16
    rounding (relative error ~2^-8 per score, far below the spacing of scores that differ in rank
    by k on real or random data). The kept groups' rows are scored in bf16, the best
    ``rerank_factor`` x k re-scored from the float32 matrix, and the top k returned: only
    rounding-level near-ties at rank k can differ from ``exact``.
    """

    GROUP = 8
    MARGIN = 16  # groups kept beyond k (at least; k // 2 for large k)
    ROWS = 4096  # rows per matrix product: its score block stays in cache for the max pass

    def __init__(self, vectors: np.ndarray, rerank_factor: int = 2):
        if rerank_factor < 1:
            raise ValueError(f"rerank_factor must be >= 1, got {rerank_factor}")
        self.vectors, self.rerank_factor = vectors, rerank_factor
        self.size, dim = vectors.shape
        self.group = self.GROUP
        super_rows = self.group * self.group
        self.matrix = torch.zeros((-(-self.size // super_rows) * super_rows, dim), dtype=torch.bfloat16)
        for a, b in _chunks(self.size):  # never the whole float32 matrix in memory at once
            self.matrix[a:b] = torch.from_numpy(np.asarray(vectors[a:b], dtype=np.float32))

    def search(self, queries: np.ndarray, k: int):
        q32 = torch.from_numpy(queries)
        q16 = q32.to(torch.bfloat16)
        threads = torch.get_num_threads()
        # Each Python thread runs its ops on one core: OpenMP's per-op barriers stall whenever a
        # core is busy with another job (measured 10x slower on a shared 2-core machine).
        torch.set_num_threads(1)
        try:
            with ThreadPoolExecutor(threads) as pool:
                group_max = torch.empty((len(self.matrix) // self.group, len(queries)), dtype=torch.bfloat16)
                step = -(-len(self.matrix) // (threads * self.ROWS)) * self.ROWS
                list(pool.map(lambda a: self._group_maxima(q16, group_max, a, a + step),
                              range(0, len(self.matrix), step)))
                group_max[-(-self.size // self.group):] = float("-inf")  # groups of padding rows only
                step = -(-len(queries) // threads)
                parts = list(pool.map(lambda a: self._best(q32[a:a + step], q16[a:a + step],
                                                           group_max[:, a:a + step].contiguous(), k),
                                      range(0, len(queries), step)))
        finally:
            torch.set_num_threads(threads)
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _group_maxima(self, q16: torch.Tensor, group_max: torch.Tensor, start: int, end: int) -> None:
        """Fill ``group_max`` for rows start..end: each group's best bf16 score per query."""
        g, q16_t = self.group, q16.t().contiguous()
        block = torch.empty((self.ROWS, len(q16)), dtype=torch.bfloat16)
        for a in range(start, min(end, len(self.matrix)), self.ROWS):
            b = min(end, len(self.matrix), a + self.ROWS)
            scores = torch.mm(self.matrix[a:b], q16_t, out=block[:b - a])  # rows x queries
            group_max[a // g:b // g] = scores.view(-1, g, len(q16)).amax(1)

    def _best(self, q32: torch.Tensor, q16: torch.Tensor, group_max: torch.Tensor, k: int):
        """(scores, rows) of the top k: best super-groups, their best groups, those rows."""
        g, dim, n_q = self.group, self.matrix.size(1), len(q32)
        n_best = k + max(self.MARGIN, k // 2)
        super_max = group_max.view(-1, g, n_q).amax(1).t()  # queries x super-groups
        supers = super_max.topk(min(n_best, super_max.size(1)), dim=1).indices
        in_supers = (supers[:, :, None] * g + torch.arange(g)).flatten(1)  # queries x groups
        best = group_max[in_supers, torch.arange(n_q)[:, None]].topk(min(n_best, in_supers.size(1)), dim=1).indices
        groups = in_supers.gather(1, best)
        keep = min(groups.size(1) * g, self.rerank_factor * k)
        candidates = torch.empty((n_q, keep), dtype=torch.long)
        # numpy gathers: torch's index_select into fresh tensors runs several times slower here
        by_group = self.matrix.view(torch.int16).numpy().reshape(-1, g * dim)
        for a in range(0, n_q, 32):  # bf16 scores of those rows, a few queries at a time
            chosen = groups[a:a + 32]
            rows = (chosen[:, :, None] * g + torch.arange(g)).flatten(1)
            members = torch.from_numpy(by_group[chosen.numpy()]).view(torch.bfloat16).view(len(chosen), -1, dim)
            s = torch.bmm(members, q16[a:a + 32, :, None]).squeeze(-1).float()
            s.masked_fill_(rows >= self.size, float("-inf"))
            candidates[a:a + 32] = rows.gather(1, s.topk(keep, dim=1).indices)
        # float32 re-scoring from the (memory-mapped) matrix: (keep per query) rows read
        found = np.asarray(self.vectors[np.minimum(candidates.numpy(), self.size - 1).ravel()], dtype=np.float32)
        exact = torch.bmm(torch.from_numpy(found).view(n_q, keep, dim), q32[:, :, None]).squeeze(-1)
        exact.masked_fill_(candidates >= self.size, float("-inf"))
        top = exact.topk(k, dim=1)
        rows = candidates.gather(1, top.indices).masked_fill_(top.values == float("-inf"), -1)
        return top.values.numpy(), rows.numpy()


class WorldRestrictedIndex:
    """One :class:`DenseIndex` per world; each query searches only its world's entities."""

    def __init__(self, vectors: np.ndarray, worlds: Sequence[Optional[str]], **index_args):
        self.vectors = vectors
        self.index_args = index_args
        self.rows_of: Dict[Optional[str], np.ndarray] = {}
        worlds = np.asarray([w if w is not None else "" for w in worlds], dtype=object)
        for world in sorted(set(worlds)):
            self.rows_of[world or None] = np.flatnonzero(worlds == world)
        self.indexes: Dict[Optional[str], DenseIndex] = {}

    def search(self, queries: np.ndarray, query_worlds: Sequence[Optional[str]], k: int):
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        rows = np.full((len(queries), k), -1, dtype=np.int64)
        query_worlds = np.asarray([w if w is not None else "" for w in query_worlds], dtype=object)
        for world in sorted(set(query_worlds)):
            key = world or None
            if key not in self.rows_of:
                raise KeyError(f"world {key!r} has no entities in the KB")
            if key not in self.indexes:
                self.indexes[key] = DenseIndex(self.vectors[self.rows_of[key]], **self.index_args)
            which = np.flatnonzero(query_worlds == world)
            s, r = self.indexes[key].search(queries[which], k)
            scores[which] = s
            rows[which] = np.where(r >= 0, self.rows_of[key][np.maximum(r, 0)], -1)
        return scores, rows


def build_index(vectors: np.ndarray, kind: str = "flat", worlds: Optional[Sequence[Optional[str]]] = None,
                **index_args):
    """A :class:`WorldRestrictedIndex` when ``worlds`` is given, else one :class:`DenseIndex`."""
    if worlds is not None:
        return WorldRestrictedIndex(vectors, worlds, kind=kind, **index_args)
    return DenseIndex(vectors, kind=kind, **index_args)
