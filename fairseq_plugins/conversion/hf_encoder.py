"""Hugging Face BERT / RoBERTa / ALBERT weights <-> our ``bert_plugin`` state dict.

One table per model type maps each of our parameter names to the Hugging Face name(s);
query/key/value are fused into one ``in_proj`` on our side. The same table drives both
directions, so a round trip is exact by construction and a parity test covers both.
"""
from __future__ import annotations

import logging
from typing import Dict, Optional, Tuple, Union

import torch

from ..errors import InputError
from . import state_tables

logger = logging.getLogger(__name__)

MODEL_TYPES = ("bert", "roberta", "albert")
ACTIVATIONS = {"gelu": "gelu", "gelu_new": "gelu_accurate", "gelu_pytorch_tanh": "gelu_accurate",
               "gelu_fast": "gelu_accurate", "relu": "relu", "tanh": "tanh"}
HF_ACTIVATION = {"gelu": "gelu", "gelu_accurate": "gelu_new", "relu": "relu", "tanh": "tanh"}

HfName = Union[str, Tuple[str, str, str]]

_BERT_LAYER = {
    "self_attn.in_proj": ("attention.self.query", "attention.self.key", "attention.self.value"),
    "self_attn.out_proj": "attention.output.dense",
    "self_attn_layer_norm": "attention.output.LayerNorm",
    "fc1": "intermediate.dense",
    "fc2": "output.dense",
    "final_layer_norm": "output.LayerNorm",
}
_ALBERT_LAYER = {
    "self_attn.in_proj": ("attention.query", "attention.key", "attention.value"),
    "self_attn.out_proj": "attention.dense",
    "self_attn_layer_norm": "attention.LayerNorm",
    "fc1": "ffn",
    "fc2": "ffn_output",
    "final_layer_norm": "full_layer_layer_norm",
}
_LM_HEAD = {  # our lm_head module -> HF module, per model type (HF heads are never prefixed)
    "bert": {"dense": "cls.predictions.transform.dense", "layer_norm": "cls.predictions.transform.LayerNorm",
             "bias": "cls.predictions.bias", "weight": "cls.predictions.decoder.weight"},
    "roberta": {"dense": "lm_head.dense", "layer_norm": "lm_head.layer_norm", "bias": "lm_head.bias",
                "weight": "lm_head.decoder.weight"},
    "albert": {"dense": "predictions.dense", "layer_norm": "predictions.LayerNorm", "bias": "predictions.bias",
               "weight": "predictions.decoder.weight"},
}
_POOLER = {"bert": "pooler.dense", "roberta": "pooler.dense", "albert": "pooler"}
_CLASSIFIER = {  # our classification head modules -> HF modules of *ForSequenceClassification
    "bert": {"dense": "@pooler", "out_proj": "classifier"},
    "albert": {"dense": "@pooler", "out_proj": "classifier"},
    "roberta": {"dense": "classifier.dense", "out_proj": "classifier.out_proj"},
}
# HF entries that are buffers or tied copies, never parameters of their own.
_IGNORED_SUFFIXES = ("position_ids", "token_type_ids", "decoder.bias")


def model_cfg_from_hf(config: dict, path: str = "config.json") -> dict:
    """Our model config fields from a Hugging Face ``config.json``; unsupported settings are errors."""
    model_type = config.get("model_type")
    if model_type not in MODEL_TYPES:
        raise InputError(path, f"unknown architecture {model_type!r}; this converter reads "
                               f"{', '.join(MODEL_TYPES)}", field="model_type")
    required = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                "max_position_embeddings", "type_vocab_size"]
    for key in required:
        if not isinstance(config.get(key), int):
            raise InputError(path, f"missing or not an integer: {config.get(key)!r}", field=key)
    act = config.get("hidden_act", "gelu")
    if act not in ACTIVATIONS:
        raise InputError(path, f"unsupported activation {act!r} (supported: {', '.join(ACTIVATIONS)})",
                         field="hidden_act")
    if config.get("position_embedding_type", "absolute") != "absolute":
        raise InputError(path, "only absolute position embeddings are supported", field="position_embedding_type")
    cfg = dict(
        encoder_layers=config["num_hidden_layers"], encoder_embed_dim=config["hidden_size"],
        encoder_ffn_embed_dim=config["intermediate_size"], encoder_attention_heads=config["num_attention_heads"],
        activation_fn=ACTIVATIONS[act], dropout=config.get("hidden_dropout_prob", 0.1),
        attention_dropout=config.get("attention_probs_dropout_prob", 0.1),
        max_positions=config["max_position_embeddings"], num_segments=config["type_vocab_size"],
        layernorm_eps=config.get("layer_norm_eps", 1e-12), padding_offset_positions=False,
        embedding_dim=None, encoder_layer_groups=None,
    )
    if model_type == "roberta":
        cfg["padding_offset_positions"] = True
        cfg["max_positions"] -= config.get("pad_token_id", 1) + 1
    if model_type == "albert":
        if config.get("inner_group_num", 1) != 1:
            raise InputError(path, "ALBERT with inner_group_num > 1 is not supported", field="inner_group_num")
        cfg["embedding_dim"] = config.get("embedding_size", 128)
        cfg["encoder_layer_groups"] = config.get("num_hidden_groups", 1)
    return cfg


def hf_config_from_model_cfg(model_type: str, cfg, vocab_size: int, pad: int) -> dict:
    """The inverse of :func:`model_cfg_from_hf`."""
    config = dict(
        model_type=model_type, vocab_size=vocab_size, hidden_size=cfg.encoder_embed_dim,
        num_hidden_layers=cfg.encoder_layers, num_attention_heads=cfg.encoder_attention_heads,
        intermediate_size=cfg.encoder_ffn_embed_dim, hidden_act=HF_ACTIVATION[cfg.activation_fn],
        hidden_dropout_prob=cfg.dropout, attention_probs_dropout_prob=cfg.attention_dropout,
        max_position_embeddings=cfg.max_positions, type_vocab_size=cfg.num_segments,
        layer_norm_eps=cfg.layernorm_eps, pad_token_id=pad, position_embedding_type="absolute",
    )
    if model_type == "roberta":
        config["max_position_embeddings"] += pad + 1
    if model_type == "albert":
        config.update(embedding_size=cfg.embedding_dim, num_hidden_groups=cfg.encoder_layer_groups or 1,
                      inner_group_num=1, classifier_dropout_prob=cfg.pooler_dropout)
    return config


def model_type_of(cfg) -> str:
    """Which Hugging Face family our config corresponds to."""
    if cfg.normalize_before or cfg.causal or cfg.no_embedding_layernorm:
        raise ValueError("pre-LN / causal / no-embedding-LayerNorm encoders have no Hugging Face BERT-family "
                         "equivalent")
    if cfg.embedding_dim not in (None, cfg.encoder_embed_dim) or cfg.encoder_layer_groups:
        return "albert"
    return "roberta" if cfg.padding_offset_positions else "bert"


def name_map(model_type: str, cfg, head: Optional[str] = None, lm_head: bool = True,
             pooler: bool = True) -> Dict[str, HfName]:
    """Our parameter name -> Hugging Face name (without the ``bert.``/``roberta.``/``albert.`` prefix for
    encoder weights, which :func:`hf_prefix` adds)."""
    ours: Dict[str, HfName] = {}
    core = "encoder.sentence_encoder."
    for our, hf in [("embed_tokens", "word_embeddings"), ("embed_positions", "position_embeddings"),
                    ("embed_segments", "token_type_embeddings")]:
        ours[f"{core}embeddings.{our}.weight"] = f"embeddings.{hf}.weight"
    for p in ("weight", "bias"):
        ours[f"{core}embeddings.layernorm_embedding.{p}"] = f"embeddings.LayerNorm.{p}"
    if model_type == "albert":
        for p in ("weight", "bias"):
            ours[f"{core}embeddings.embed_projection.{p}"] = f"encoder.embedding_hidden_mapping_in.{p}"
        groups = cfg.encoder_layer_groups or cfg.encoder_layers
        layers = [(g, f"encoder.albert_layer_groups.{g}.albert_layers.0.") for g in range(groups)]
        table = _ALBERT_LAYER
    else:
        layers = [(i, f"encoder.layer.{i}.") for i in range(cfg.encoder_layers)]
        table = _BERT_LAYER
    for i, hf_prefix_ in layers:
        for our, hf in table.items():
            for p in ("weight", "bias"):
                ours[f"{core}layers.{i}.{our}.{p}"] = (
                    tuple(f"{hf_prefix_}{h}.{p}" for h in hf) if isinstance(hf, tuple) else f"{hf_prefix_}{hf}.{p}")
    if pooler:
        for p in ("weight", "bias"):
            ours[f"encoder.pooler.dense.{p}"] = f"{_POOLER[model_type]}.{p}"
    if lm_head:
        hf = _LM_HEAD[model_type]
        for module in ("dense", "layer_norm"):
            for p in ("weight", "bias"):
                ours[f"encoder.lm_head.{module}.{p}"] = "!" + f"{hf[module]}.{p}"
        ours["encoder.lm_head.bias"] = "!" + hf["bias"]
        if cfg.untie_weights:
            ours["encoder.lm_head.weight"] = "!" + hf["weight"]
    if head is not None:
        for module, hf in _CLASSIFIER[model_type].items():
            for p in ("weight", "bias"):
                source = f"{_POOLER[model_type]}.{p}" if hf == "@pooler" else "!" + f"{hf}.{p}"
                ours[f"classification_heads.{head}.{module}.{p}"] = source
    return ours


def _hf_key(name: str, prefix: str) -> str:
    """'!' marks head weights, which Hugging Face never prefixes."""
    return name[1:] if name.startswith("!") else prefix + name


def detect_prefix(hf_state: Dict[str, torch.Tensor], model_type: str) -> str:
    return f"{model_type}." if any(k.startswith(f"{model_type}.embeddings.") for k in hf_state) else ""


def hf_to_fairseq_state(hf_state, model_type, cfg, head=None, path="model weights", fallback=None, names=None):
    """Our state dict from Hugging Face tensors. Weights the checkpoint lacks are taken from ``fallback``
    (a freshly initialised model's state) when given, and reported; any HF tensor left unused is reported.
    With ``fallback`` every tensor's shape is checked against it first. ``names`` replaces
    :func:`name_map`'s table (models that extend the encoder, e.g. LUKE, add entries)."""
    prefix = detect_prefix(hf_state, model_type)
    if names is None:
        names = name_map(model_type, cfg, head=head, pooler=not cfg.no_pooler)

    def is_head(our):
        return fallback is not None and (our.startswith("encoder.lm_head.") or our.startswith("classification_heads."))

    state, initialised, used = state_tables.import_state(
        hf_state, names, path, key=lambda n: _hf_key(n, prefix), expected=fallback, optional=is_head)
    for our in initialised:
        state[our] = fallback[our].detach().clone()
    embed = "encoder.sentence_encoder.embeddings.embed_tokens.weight"
    if not cfg.untie_weights:
        state["encoder.lm_head.weight"] = state[embed]
    if initialised:
        logger.warning("%s has no %d head tensors; they start from random initialisation: %s",
                       path, len(initialised), ", ".join(initialised))
    unused = state_tables.unused_keys(hf_state, used, _IGNORED_SUFFIXES)
    tied = _LM_HEAD[model_type]["weight"]
    if tied in unused and torch.equal(hf_state[tied], state[embed]):
        unused.remove(tied)
    if unused:
        logger.warning("%s: %d tensors not converted (no counterpart in this model): %s",
                       path, len(unused), ", ".join(unused))
    return state, initialised, unused


def fairseq_to_hf_state(state, model_type, cfg, head=None, prefix=None, names=None) -> Dict[str, torch.Tensor]:
    """Hugging Face tensors from our state dict (the inverse of :func:`hf_to_fairseq_state`)."""
    prefix = f"{model_type}." if prefix is None else prefix
    if names is None:
        names = name_map(model_type, cfg, head=head, pooler=not cfg.no_pooler)
    return state_tables.export_state(state, names, key=lambda n: _hf_key(n, prefix))
