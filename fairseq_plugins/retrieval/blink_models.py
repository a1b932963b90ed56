"""Load a BLINK model for inference: a trained checkpoint, or a converted encoder before training.

``--pretrained-encoder`` without a checkpoint measures the untrained starting point (both
towers = the converted encoder), which is how "before training" retrieval figures are made.
"""
from __future__ import annotations

import os
import tempfile
from typing import Optional

from ..conversion.fairseq_checkpoint import build_cfg, build_model, load_checkpoint
from ..errors import InputError


def load_blink(checkpoint: Optional[str] = None, pretrained_encoder: Optional[str] = None,
               vocab: Optional[str] = None, kb: Optional[str] = None, task: str = "blink_biencoder"):
    """(task, model in eval mode) from ``checkpoint``, or built around ``pretrained_encoder``.

    ``vocab``/``kb`` override the paths stored in a checkpoint (moved files)."""
    overrides = {k: v for k, v in {"vocab": vocab, "kb": kb}.items() if v}
    if checkpoint:
        cfg, blink_task, model = load_checkpoint(checkpoint, arg_overrides=overrides or None)
        if cfg.task._name != task:
            raise InputError(checkpoint, f"a {cfg.task._name} checkpoint, expected {task}")
    elif pretrained_encoder:
        if not vocab:
            raise InputError(pretrained_encoder, "--vocab is needed with --pretrained-encoder")
        extra = ["--vocab", vocab, "--pretrained-encoder", pretrained_encoder] + (["--kb", kb] if kb else [])
        arch = task  # the default architecture of each model has its name
        criterion = "blink_in_batch" if task == "blink_biencoder" else "blink_crossencoder"
        with tempfile.TemporaryDirectory() as data:
            cfg = build_cfg(data, task, arch, criterion, {}, extra)
        blink_task, model = build_model(cfg)
    else:
        raise InputError(None, "give a checkpoint or a pretrained encoder", field="checkpoint")
    if not os.path.isfile(blink_task.cfg.vocab):
        raise InputError(blink_task.cfg.vocab, "vocabulary not found; pass --vocab")
    return blink_task, model.eval()
