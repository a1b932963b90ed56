"""Load a BLINK model for inference: a trained checkpoint, or a converted encoder before training.

``--pretrained-encoder`` without a checkpoint measures the untrained starting point (both
towers = the converted encoder), which is how "before training" retrieval figures are made.
"""
from __future__ import annotations

import logging
import os
import tempfile
import time
from typing import Optional, Sequence

import numpy as np
import torch

from ..conversion.fairseq_checkpoint import build_cfg, build_model, load_checkpoint
from ..errors import InputError
from .dense_index import INDEX_KINDS, build_index
from .kb_encoding import EncodedKB, encode_kb, encoder_key, pad_batch

logger = logging.getLogger(__name__)


DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def add_inference_device_arguments(parser):
    """``--device`` and ``--dtype`` of every BLINK inference script."""
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="torch device of the model (default: cuda when available)")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32",
                        help="model weights and activations: bfloat16 is ~2.5x faster on CPUs with AMX/avx512_bf16 "
                             "and on GPUs; float16 for GPUs (vectors and scores are returned in float32)")


def model_device(model) -> torch.device:
    return next(model.parameters()).device


def load_blink(checkpoint: Optional[str] = None, pretrained_encoder: Optional[str] = None,
               vocab: Optional[str] = None, kb: Optional[str] = None, task: str = "blink_biencoder",
               representation: Optional[str] = None, normalize: bool = False,
               max_context_length: Optional[int] = None, max_candidate_length: Optional[int] = None,
               device: str = "cpu", dtype: str = "float32"):
    """(task, model in eval mode on ``device`` in ``dtype``) from ``checkpoint``, or built around ``pretrained_encoder``.

    ``vocab``/``kb`` override the paths stored in a checkpoint (moved files); ``representation``
    and ``normalize`` (cosine scores) choose the towers' output of a model built around
    ``pretrained_encoder``; the lengths, when given, replace the model's input lengths."""
    overrides = {k: v for k, v in {"vocab": vocab, "kb": kb, "max_context_length": max_context_length,
                                   "max_candidate_length": max_candidate_length}.items() if v}
    if checkpoint:
        cfg, blink_task, model = load_checkpoint(checkpoint, arg_overrides=overrides or None)
        if cfg.task._name != task:
            raise InputError(checkpoint, f"a {cfg.task._name} checkpoint, expected {task}")
    elif pretrained_encoder:
        if not vocab:
            raise InputError(pretrained_encoder, "--vocab is needed with --pretrained-encoder")
        extra = ["--vocab", vocab, "--pretrained-encoder", pretrained_encoder] + (["--kb", kb] if kb else [])
        extra += ["--representation", representation] if representation else []
        extra += ["--normalize"] if normalize else []
        for name in ("max_context_length", "max_candidate_length"):
            extra += [f"--{name.replace('_', '-')}", str(overrides[name])] if name in overrides else []
        arch = task  # the default architecture of each model has its name
        criterion = "blink_in_batch" if task == "blink_biencoder" else "blink_crossencoder"
        with tempfile.TemporaryDirectory() as data:
            cfg = build_cfg(data, task, arch, criterion, {}, extra)
        blink_task, model = build_model(cfg)
    else:
        raise InputError(None, "give a checkpoint or a pretrained encoder", field="checkpoint")
    if not os.path.isfile(blink_task.cfg.vocab):
        raise InputError(blink_task.cfg.vocab, "vocabulary not found; pass --vocab")
    return blink_task, model.to(device=device, dtype=DTYPES[dtype]).eval()


def encode_mentions(task, model, lefts: Sequence[str], mentions: Sequence[str], rights: Sequence[str],
                    batch_size: int = 128) -> np.ndarray:
    """Biencoder vectors (N x D float32) of mentions in context, in batches."""
    vectors = []
    device = model_device(model)
    with torch.no_grad():
        for start in range(0, len(mentions), batch_size):
            end = start + batch_size
            ids = task.builder.contexts(lefts[start:end], mentions[start:end], rights[start:end])
            tokens = pad_batch(ids, task.dictionary.pad()).to(device)
            vectors.append(model.encode_contexts(tokens).float().cpu().numpy())
    if not vectors:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(vectors)


def open_encoded_kb(task, model, kb_path: str, encoded_dir: str, batch_size: int = 128,
                    progress: bool = True) -> EncodedKB:
    """The KB's entity vectors in ``encoded_dir``, encoded first (or finished) when not complete there."""
    start = time.perf_counter()
    device = model_device(model)

    def embed(tokens):
        return model.encode_candidates(tokens.to(device))

    with torch.no_grad():
        dim = embed(pad_batch([[task.dictionary.bos()]], 0)).size(-1)
    # the weights' dtype is part of the key: vectors of a bf16 encoder are not mixed with float32 ones
    key = (encoder_key(model.candidate_tower) + ("-normalized" if getattr(model.cfg, "normalize", False) else "")
           + f"-{next(model.parameters()).dtype}")
    encoded = encode_kb(kb_path, encoded_dir, task.builder, embed, dim=dim,
                        batch_size=batch_size, progress=progress, encoder_key=key) or EncodedKB.open(encoded_dir)
    logger.info("KB encoded: %d entities (%.1f s)", len(encoded.ids), time.perf_counter() - start)
    return encoded


def add_retrieval_arguments(parser, top_k: int = 64):
    """The biencoder, KB, index and search flags that retrieval and linking share."""
    model_args = parser.add_mutually_exclusive_group(required=True)
    model_args.add_argument("--checkpoint", help="trained blink_biencoder checkpoint")
    model_args.add_argument("--pretrained-encoder", help="converted encoder (model.pt), untrained biencoder")
    parser.add_argument("--vocab", help="vocabulary (default: the checkpoint's)")
    parser.add_argument("--representation", choices=("cls", "pooled", "mean"),
                        help="tower output with --pretrained-encoder (default: the model's, cls)")
    parser.add_argument("--normalize", action="store_true",
                        help="cosine scores (L2-normalized towers) with --pretrained-encoder")
    parser.add_argument("--kb", required=True, help="knowledge-base jsonl")
    parser.add_argument("--encoded-kb", required=True, help="folder for the encoded KB (reused if complete)")
    parser.add_argument("--index", choices=INDEX_KINDS, default="flat",
                        help="flat: faiss exact; exact: torch float32; exact-bf16: torch bf16 products re-scored in "
                             "float32 (exact top-k, several times faster on CPUs with AMX/avx512_bf16); hnsw, ivf: "
                             "approximate")
    parser.add_argument("--ef-search", type=int, default=256, help="HNSW search breadth")
    parser.add_argument("--ivf-lists", type=int, help="IVF cells (default ~4 sqrt(N))")
    parser.add_argument("--nprobe", type=int, default=16, help="IVF cells searched per query")
    parser.add_argument("--restrict-to-world", action="store_true", help="search each mention's own world only")
    parser.add_argument("--max-context-length", type=int, help="tokens of a mention in context (default: the "
                                                                   "model's)")
    parser.add_argument("--max-candidate-length", type=int, help="tokens of an entity (default: the model's)")
    parser.add_argument("--top-k", type=int, default=top_k)
    parser.add_argument("--batch-size", type=int, default=128, help="encoding batch size")
    parser.add_argument("--no-progress", action="store_true")
    add_inference_device_arguments(parser)


def retrieval_from_args(args):
    """(task, model, encoded KB, index) for the flags of :func:`add_retrieval_arguments`."""
    if args.checkpoint and (args.representation or args.normalize):
        raise InputError(args.checkpoint, "--representation and --normalize are stored in a checkpoint; they "
                                          "apply to --pretrained-encoder only", field="representation")
    task, model = load_blink(args.checkpoint, args.pretrained_encoder, args.vocab,
                             representation=args.representation, normalize=args.normalize,
                             max_context_length=args.max_context_length,
                             max_candidate_length=args.max_candidate_length, device=args.device, dtype=args.dtype)
    encoded = open_encoded_kb(task, model, args.kb, args.encoded_kb, args.batch_size, not args.no_progress)
    index = build_index(encoded.vectors, args.index, worlds=encoded.worlds if args.restrict_to_world else None,
                        ef_search=args.ef_search, ivf_lists=args.ivf_lists, nprobe=args.nprobe)
    return task, model, encoded, index
