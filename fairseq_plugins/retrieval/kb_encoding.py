"""Encode a knowledge base of any size into a memory-mapped float32 matrix, resumably.

Output folder: ``embeddings.f32`` (rows = KB lines in order, raw float32, N x D),
``entities.tsv`` (``id<TAB>world`` per row) and ``meta.json``, whose ``done`` counts the
rows written and flushed. A run that stops (killed, out of time) continues from ``done`` when
started again on the same KB and dimension; the KB is streamed, so neither it nor the matrix
needs to fit in memory. The KB is recognised by its content (SHA-1), not its path: a copy or a
link elsewhere reuses the vectors, and a KB edited in place is encoded again. One process
writes a folder at a time (an advisory lock, ``lock``, holds the writer's pid).
"""
from __future__ import annotations

import contextlib
import fcntl
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

EMBEDDINGS, ENTITIES, META, LOCK = "embeddings.f32", "entities.tsv", "meta.json", "lock"
WINDOW_BATCHES = 16


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


def file_sha1(path, chunk: int = 1 << 20) -> str:
    """SHA-1 of a file's bytes, read in chunks (a KB of any size)."""
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def writer_lock(folder: str):
    """Hold ``folder``'s lock for this process, or fail at once naming the process that holds it."""
    with open(os.path.join(folder, LOCK), "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            raise InputError(folder, f"another process (pid {holder}) is encoding into this folder; wait for it "
                                     f"to finish or give another --encoded-kb") from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def encode_kb(kb_path, out_dir, builder: BlinkInputBuilder, embed: Callable[[torch.Tensor], torch.Tensor],
              dim: int, batch_size: int = 128, progress: bool = True, stop_after: Optional[int] = None,
              encoder_key: Optional[str] = None) -> EncodedKB:
    """Encode every KB entity (``title [ENT] text``) with ``embed`` (token batch -> B x dim).

    ``encoder_key`` identifies the encoder (see :func:`encoder_key`): a folder encoded by another
    model is encoded again rather than reused. ``stop_after`` ends the run after that many rows
    in total (for tests of resuming)."""
    kb_path, out_dir = os.fspath(kb_path), os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    with writer_lock(out_dir):
        meta = _start(kb_path, out_dir, {"kb_sha1": file_sha1(kb_path), "dim": dim, "encoder": encoder_key,
                                         "max_candidate_length": builder.max_candidate_length})
        end = meta["rows"] if stop_after is None else min(meta["rows"], stop_after)
        if meta["done"] < end:
            meta = _encode_rows(kb_path, out_dir, meta, end, builder, embed, batch_size, progress)
    return EncodedKB.open(out_dir) if meta["done"] == meta["rows"] else None


def _start(kb_path: str, out_dir: str, signature: dict) -> dict:
    """The folder's metadata when it was written for ``signature``; else a fresh, empty encoding's."""
    meta_path = os.path.join(out_dir, META)
    if os.path.isfile(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        if {k: meta.get(k) for k in signature} == signature:
            return meta
        logger.info("%s: written for another KB, encoder or dimension; encoding from scratch", out_dir)
    kb = KnowledgeBase(kb_path)  # validates the whole file (duplicate ids) before any work
    with open(os.path.join(out_dir, ENTITIES), "w", encoding="utf-8") as f:
        f.writelines(f"{i}\t{w or ''}\n" for i, w in zip(kb.ids, kb.worlds))
    meta = {**signature, "kb": os.path.abspath(kb_path), "rows": len(kb), "done": 0}
    np.memmap(os.path.join(out_dir, EMBEDDINGS), dtype=np.float32, mode="w+", shape=(len(kb), signature["dim"])).flush()
    _write_meta(meta_path, meta)
    return meta


def _encode_rows(kb_path, out_dir, meta, end, builder, embed, batch_size, progress) -> dict:
    """Encode rows ``meta["done"]`` to ``end``, flushing vectors and then ``done`` after every window.

    A window is ``WINDOW_BATCHES`` batches of rows, encoded in order of length so that each batch is
    padded to similar lengths (title-only entities beside long descriptions waste most of a batch)."""
    rows, done = meta["rows"], meta["done"]
    matrix = np.memmap(os.path.join(out_dir, EMBEDDINGS), dtype=np.float32, mode="r+", shape=(rows, meta["dim"]))
    if done:
        logger.info("%s: resuming at row %d of %d", out_dir, done, rows)
    bar = tqdm(total=rows, initial=done, unit="entity", disable=not progress)
    window = []
    for row, entity in enumerate(iter_kb(kb_path)):
        if row < done:
            continue
        if row >= end:
            break
        window.append(entity)
        if len(window) == batch_size * WINDOW_BATCHES or row + 1 == end:
            ids = builder.candidates([e.title for e in window], [e.text for e in window])
            vectors = np.empty((len(ids), meta["dim"]), dtype=np.float32)
            order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
            for start in range(0, len(order), batch_size):
                chunk = order[start:start + batch_size]
                with torch.no_grad():
                    tokens = pad_batch([ids[i] for i in chunk], builder.dictionary.pad())
                    vectors[chunk] = embed(tokens).float().cpu().numpy()
            matrix[done:done + len(window)] = vectors
            matrix.flush()
            done += len(window)
            meta = {**meta, "done": done}
            _write_meta(os.path.join(out_dir, META), meta)
            bar.update(len(window))
            window.clear()
    bar.close()
    return meta


def _write_meta(path, meta):
    with open(path + ".tmp", "w") as f:
        json.dump(meta, f)
    os.replace(path + ".tmp", path)
