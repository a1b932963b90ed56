"""Encode a knowledge base of any size into a memory-mapped float32 matrix, resumably.

Output folder: ``embeddings.f32`` (rows = KB lines in order, raw float32, N x D),
``entities.tsv`` (``id<TAB>world`` per row) and ``meta.json``, whose ``done`` counts the
rows written and flushed. A run that stops (killed, out of time) continues from ``done`` when
started again on the same KB and dimension; the KB is streamed, so neither it nor the matrix
needs to fit in memory.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from typing import Callable, List, Optional

import numpy as np
import torch
from fairseq.data import data_utils
from tqdm import tqdm

from ..data.blink_formats import KnowledgeBase, iter_kb
from ..data.blink_inputs import BlinkInputBuilder
from ..errors import InputError

logger = logging.getLogger(__name__)

EMBEDDINGS, ENTITIES, META = "embeddings.f32", "entities.tsv", "meta.json"


def pad_batch(seqs: List[List[int]], pad: int) -> torch.Tensor:
    return data_utils.collate_tokens([torch.tensor(s, dtype=torch.long) for s in seqs], pad, left_pad=False)


@dataclass
class EncodedKB:
    """An encoded KB opened read-only: ``vectors`` is a memmap, ``ids``/``worlds`` per row."""

    folder: str
    vectors: np.ndarray
    ids: List[str]
    worlds: List[Optional[str]]

    @classmethod
    def open(cls, folder) -> "EncodedKB":
        folder = os.fspath(folder)
        meta_path = os.path.join(folder, META)
        if not os.path.isfile(meta_path):
            raise InputError(meta_path, "not an encoded KB folder (no meta.json)")
        with open(meta_path) as f:
            meta = json.load(f)
        if meta["done"] != meta["rows"]:
            raise InputError(meta_path, f"encoding stopped at {meta['done']} of {meta['rows']} rows; run it again "
                                        f"to finish")
        vectors = np.memmap(os.path.join(folder, EMBEDDINGS), dtype=np.float32, mode="r",
                            shape=(meta["rows"], meta["dim"]))
        ids, worlds = [], []
        with open(os.path.join(folder, ENTITIES), encoding="utf-8") as f:
            for line in f:
                entity_id, world = line.rstrip("\n").split("\t")
                ids.append(entity_id)
                worlds.append(world or None)
        return cls(folder, vectors, ids, worlds)


def encoder_key(module: torch.nn.Module) -> str:
    """A digest of a module's parameters and buffers: which encoder wrote an encoded KB."""
    digest = hashlib.sha1()
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def encode_kb(kb_path, out_dir, builder: BlinkInputBuilder, embed: Callable[[torch.Tensor], torch.Tensor],
              dim: int, batch_size: int = 128, progress: bool = True, stop_after: Optional[int] = None,
              encoder_key: Optional[str] = None) -> EncodedKB:
    """Encode every KB entity (``title [ENT] text``) with ``embed`` (token batch -> B x dim).

    ``encoder_key`` identifies the encoder (see :func:`encoder_key`): a folder encoded by another
    model is encoded again rather than reused. ``stop_after`` ends the run after that many rows
    in total (for tests of resuming)."""
    kb_path, out_dir = os.fspath(kb_path), os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    meta_path = os.path.join(out_dir, META)
    signature = {"kb": os.path.abspath(kb_path), "kb_bytes": os.path.getsize(kb_path), "dim": dim,
                 "encoder": encoder_key, "max_candidate_length": builder.max_candidate_length}
    meta = None
    if os.path.isfile(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        if {k: meta.get(k) for k in signature} != signature:
            logger.info("%s: written for another KB, encoder or dimension; encoding from scratch", out_dir)
            meta = None
    if meta is None:
        kb = KnowledgeBase(kb_path)  # validates the whole file (duplicate ids) before any work
        with open(os.path.join(out_dir, ENTITIES), "w", encoding="utf-8") as f:
            f.writelines(f"{i}\t{w or ''}\n" for i, w in zip(kb.ids, kb.worlds))
        meta = {**signature, "rows": len(kb), "done": 0}
        np.memmap(os.path.join(out_dir, EMBEDDINGS), dtype=np.float32, mode="w+", shape=(len(kb), dim)).flush()
        _write_meta(meta_path, meta)
    rows, done = meta["rows"], meta["done"]
    matrix = np.memmap(os.path.join(out_dir, EMBEDDINGS), dtype=np.float32, mode="r+", shape=(rows, dim))
    end = rows if stop_after is None else min(rows, stop_after)
    if done:
        logger.info("%s: resuming at row %d of %d", out_dir, done, rows)
    bar = tqdm(total=rows, initial=done, unit="entity", disable=not progress)
    pad = builder.dictionary.pad()
    batch = []

    def flush():
        nonlocal done
        ids = builder.candidates([e.title for e in batch], [e.text for e in batch])
        with torch.no_grad():
            vectors = embed(pad_batch(ids, pad)).float().cpu().numpy()
        matrix[done:done + len(batch)] = vectors
        matrix.flush()
        done += len(batch)
        _write_meta(meta_path, {**meta, "done": done})
        bar.update(len(batch))
        batch.clear()

    for row, entity in enumerate(iter_kb(kb_path)):
        if row < done:
            continue
        if row >= end:
            break
        batch.append(entity)
        if len(batch) == batch_size or row + 1 == end:
            flush()
    bar.close()
    del matrix
    return EncodedKB.open(out_dir) if done == rows else None


def _write_meta(path, meta):
    with open(path + ".tmp", "w") as f:
        json.dump(meta, f)
    os.replace(path + ".tmp", path)
