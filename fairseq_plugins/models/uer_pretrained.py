"""Starting a downstream ``uer`` model from a UER pre-training checkpoint (UER's ``--pretrained_model_path``).

As in UER-py, only the embedding and encoder carry over (our ``body.*``); the pre-training target's heads
are left behind and the task's head starts fresh. The checkpoint's architecture (encoder, sizes, ...)
replaces the command line's, so a fine-tuning command needs no size flags; dropout, pooling and the
target stay the user's. The fields are written into the model config fairseq saves (the one a task's
``build_model`` receives), so fine-tuned checkpoints load without the pre-trained file.
"""
import logging

from omegaconf import open_dict

from ..errors import InputError
from .pretrained_encoder import check_vocabulary_size, read_pretrained

__all__ = ["UER_ARCHITECTURE_FIELDS", "apply_uer_pretrained", "build_from_uer_pretrained", "load_uer_body"]

logger = logging.getLogger(__name__)

# UerConfig fields that shape the embedding and encoder (not the target, its head, dropout or pooling).
UER_ARCHITECTURE_FIELDS = ("embedding", "encoder", "bidirectional", "emb_size", "hidden_size", "feedforward_size",
                           "heads_num", "layers_num", "kernel_size", "block_size", "hidden_act", "max_seq_length",
                           "parameter_sharing", "layernorm_positioning", "remove_embedding_layernorm",
                           "layernorm_eps", "synt_type")


def apply_uer_pretrained(cfg, path):
    """Copy the architecture of the ``uer`` checkpoint at ``path`` into the model config ``cfg``; return the
    body's weights, for :func:`load_uer_body` once the model is built."""
    architecture, weights = read_pretrained(path, UER_ARCHITECTURE_FIELDS, "body.", expected="body.*")
    if not architecture:
        raise InputError(path, "not a checkpoint of the uer model (its config has no UER architecture fields)")
    with open_dict(cfg):
        changed = {k: v for k, v in architecture.items() if cfg.get(k) != v}
        for name, value in architecture.items():
            cfg[name] = value
    if changed:
        logger.info("architecture from %s: %s", path, ", ".join(f"{k}={v}" for k, v in sorted(changed.items())))
    return weights


def load_uer_body(model, weights, vocabulary_size: int):
    """Load the body's weights strictly: a missing or unexpected tensor means another architecture."""
    check_vocabulary_size(weights, "embeddings.embed_tokens.weight", vocabulary_size, "--pretrained-model-path")
    model.body.load_state_dict(weights, strict=True)


def build_from_uer_pretrained(build, cfg, path, vocabulary_size: int, from_checkpoint: bool,
                              arch_prefix: str = "", instead: str = ""):
    """``build(cfg)``, its body started from the UER pre-training checkpoint at ``path``; a plain build when
    there is no path or fairseq is restoring a fine-tuned checkpoint (whose config already has the architecture).
    Tasks that also build non-UER models name the arch family that has a UER body (``arch_prefix``) and the
    option the others take (``instead``)."""
    if not path or from_checkpoint:
        return build(cfg)
    if arch_prefix and not str(getattr(cfg, "_name", "")).startswith(arch_prefix):
        raise InputError(None, f"starts a {arch_prefix} model only ({instead})", field="--pretrained-model-path")
    weights = apply_uer_pretrained(cfg, path)
    model = build(cfg)
    load_uer_body(model, weights, vocabulary_size)
    return model
