"""Hugging Face LUKE folders (``LukeModel`` / ``Luke*For*``) <-> our ``luke`` checkpoints.

The word side reuses the RoBERTa name table of ``hf_encoder`` (LUKE's word encoder has the
same names); entity tensors are added to the table here. A BERT or RoBERTa folder converts
too, into LUKE-lite: its encoder with a fresh 4-entry entity table. Released LUKE checkpoints
have no w2e/e2w/e2e queries (pre-training used plain attention); as the original does, they
start as copies of the word query.
"""
from __future__ import annotations

import json
import logging
import os
from typing import Dict, Optional

import torch

from ..data.json_files import read_json_object
from ..data import VocabDictionary
from ..data.luke_entity_vocab import FILE_NAMES, EntityVocab, find_entity_vocab
from ..errors import InputError
from . import hf_encoder, hf_files
from .bert_family import ConversionReport
from .fairseq_checkpoint import build_cfg, build_model, load_checkpoint, model_flags, save_checkpoint

logger = logging.getLogger(__name__)

ENTITY_QUERIES = ("w2e_query", "e2w_query", "e2e_query")
CORE = "encoder.sentence_encoder."


def entity_name_map(cfg, entity_table: bool = True) -> Dict[str, hf_encoder.HfName]:
    """Our entity-side parameter names -> LUKE's (unprefixed); only the queries without ``entity_table``."""
    names: Dict[str, hf_encoder.HfName] = {}
    if entity_table:
        ours = f"{CORE}entity_embeddings."
        names[f"{ours}embed_entities.weight"] = "entity_embeddings.entity_embeddings.weight"
        if cfg.entity_emb_size != cfg.encoder_embed_dim:
            names[f"{ours}embed_projection.weight"] = "entity_embeddings.entity_embedding_dense.weight"
        names[f"{ours}embed_positions.weight"] = "entity_embeddings.position_embeddings.weight"
        names[f"{ours}embed_segments.weight"] = "entity_embeddings.token_type_embeddings.weight"
        for p in ("weight", "bias"):
            names[f"{ours}layernorm_embedding.{p}"] = f"entity_embeddings.LayerNorm.{p}"
    if not cfg.no_entity_aware_attention:
        for i in range(cfg.encoder_layers):
            for p in ("weight", "bias"):
                names[f"{CORE}layers.{i}.self_attn.entity_in_proj.{p}"] = tuple(
                    f"encoder.layer.{i}.attention.self.{q}.{p}" for q in ENTITY_QUERIES)
    return names


def _word_dictionary(hf_dir: str, vocab_size: int) -> VocabDictionary:
    """The word vocabulary plus ``added_tokens.json`` (LUKE's ``<ent>``, ``<ent2>``) in id order."""
    vocab_path = hf_files.vocab_file(hf_dir)
    dictionary = VocabDictionary.load(vocab_path)
    added_path = os.path.join(hf_dir, "added_tokens.json")
    if os.path.isfile(added_path):
        added = read_json_object(added_path, "added tokens")
        tokens = list(dictionary.symbols)
        for token, index in sorted(added.items(), key=lambda item: item[1]):
            if index != len(tokens):
                raise InputError(added_path, f"id {index} does not follow the vocabulary's last id {len(tokens) - 1}",
                                 field=token)
            tokens.append(token)
        dictionary = VocabDictionary(tokens, source=added_path)
    if len(dictionary) != vocab_size:
        raise InputError(vocab_path, f"{len(dictionary)} tokens (with added tokens), but config.json says "
                                     f"vocab_size {vocab_size}: tokenizer and model do not match")
    return dictionary


def _fill_entity_queries(weights: Dict[str, torch.Tensor], prefix: str, layers: int) -> list:
    """Copy each layer's word query into missing w2e/e2w/e2e queries; returns the names filled."""
    filled = []
    for i in range(layers):
        base = f"{prefix}encoder.layer.{i}.attention.self."
        for q in ENTITY_QUERIES:
            for p in ("weight", "bias"):
                if f"{base}{q}.{p}" not in weights:
                    weights[f"{base}{q}.{p}"] = weights[f"{base}query.{p}"].clone()
                    filled.append(f"{base}{q}.{p}")
    return filled


def luke_hf_to_fairseq(hf_dir: str, out_dir: str, entity_emb_size: Optional[int] = None,
                       entity_aware_attention: Optional[bool] = None, seed: int = 1) -> ConversionReport:
    """``out_dir/model.pt`` + ``dict.txt`` + entity vocabulary + tokenizer files from a LUKE (or BERT /
    RoBERTa, giving LUKE-lite) Hugging Face folder. ``entity_aware_attention`` overrides the config's
    ``use_entity_aware_attention`` (fine-tuning turns it on for checkpoints pre-trained without it)."""
    config = hf_files.read_config(hf_dir)
    config_path = os.path.join(hf_dir, "config.json")
    source_type = config.get("model_type")
    if source_type not in ("luke", "bert", "roberta"):
        raise InputError(config_path, f"unknown architecture {source_type!r}; this converter reads luke, and bert "
                                      "or roberta (into LUKE-lite)", field="model_type")
    is_luke = source_type == "luke"
    word_type = "roberta" if is_luke else source_type
    fields = hf_encoder.model_cfg_from_hf({**config, "model_type": word_type}, config_path)
    if is_luke:
        entity_vocab = find_entity_vocab(hf_dir)
        if entity_vocab is None:
            raise InputError(hf_dir, f"no entity vocabulary ({', '.join(FILE_NAMES)})")
        if len(entity_vocab) != config.get("entity_vocab_size"):
            raise InputError(entity_vocab.source, f"{len(entity_vocab)} entities, but config.json says "
                                                  f"entity_vocab_size {config.get('entity_vocab_size')}")
        emb_size = config.get("entity_emb_size") or config["hidden_size"]
        aware = config.get("use_entity_aware_attention", True)
    else:
        entity_vocab, emb_size, aware = EntityVocab.lite(), config["hidden_size"], True
    if entity_emb_size is not None and not is_luke:
        emb_size = entity_emb_size
    if entity_aware_attention is not None:
        aware = entity_aware_attention
    dictionary = _word_dictionary(hf_dir, config["vocab_size"])
    weights = hf_files.read_weights(hf_dir)
    prefix = hf_encoder.detect_prefix(weights, source_type)
    weights = {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in weights.items()}
    fields.update(entity_vocab_size=len(entity_vocab), entity_padding_idx=entity_vocab.pad, entity_emb_size=emb_size,
                  no_entity_aware_attention=not aware,
                  no_pooler="pooler.dense.weight" not in weights and "pooler.weight" not in weights,
                  untie_weights=False)
    os.makedirs(out_dir, exist_ok=True)
    dictionary.save(os.path.join(out_dir, "dict.txt"))
    hf_files.copy_tokenizer_files(hf_dir, out_dir)
    entity_vocab.save(os.path.join(out_dir, "entity_vocab.json"))
    cfg = build_cfg(out_dir, "vocab_masked_lm", "luke", "masked_lm", fields)
    torch.manual_seed(seed)
    _, model = build_model(cfg)
    filled = _fill_entity_queries(weights, "", cfg.model.encoder_layers) if aware else []
    names = {**hf_encoder.name_map(word_type, cfg.model, pooler=not cfg.model.no_pooler),
             **entity_name_map(cfg.model, entity_table=is_luke)}
    if source_type == "bert":
        # LUKE-lite from BERT: entity positions index the same 0-based word positions, so the word position
        # table, token types and LayerNorm are a better start for the entity side than noise.
        ours = f"{CORE}entity_embeddings."
        names.update({f"{ours}embed_positions.weight": "embeddings.position_embeddings.weight",
                      f"{ours}embed_segments.weight": "embeddings.token_type_embeddings.weight",
                      f"{ours}layernorm_embedding.weight": "embeddings.LayerNorm.weight",
                      f"{ours}layernorm_embedding.bias": "embeddings.LayerNorm.bias"})
    fresh = model.state_dict()
    state, initialised, unused = hf_encoder.hf_to_fairseq_state(
        weights, word_type, cfg.model, path=hf_dir, fallback=fresh, names=names)
    new = sorted(k for k in fresh if k not in state)
    model.load_state_dict({**fresh, **state}, strict=True)
    if new:
        logger.warning("%s: %d tensors start from random initialisation: %s", hf_dir, len(new), ", ".join(new))
    if filled:
        logger.info("%s: %d w2e/e2w/e2e query tensors copied from the word query", hf_dir, len(filled))
    out = os.path.join(out_dir, "model.pt")
    save_checkpoint(out, cfg, model)
    flags = model_flags("luke", fields)
    with open(os.path.join(out_dir, "arch_args.txt"), "w") as f:
        f.write(" ".join(flags) + "\n")
    params = sum(p.numel() for p in model.parameters())
    return ConversionReport(out, source_type, params, flags, initialised + new + filled, unused)


def luke_fairseq_to_hf(checkpoint: str, out_dir: str) -> ConversionReport:
    """A Hugging Face ``LukeModel`` folder (config, weights, vocabularies) from our ``luke`` checkpoint."""
    ckpt_dir = os.path.dirname(os.path.abspath(checkpoint))
    cfg, task, model = load_checkpoint(checkpoint, arg_overrides={"data": ckpt_dir})
    if cfg.model._name != "luke":
        raise InputError(checkpoint, f"not a luke checkpoint (model {cfg.model._name!r})")
    if not cfg.model.padding_offset_positions:
        raise InputError(checkpoint, "Hugging Face LUKE numbers word positions as RoBERTa does; this model "
                                     "counts them from 0 (BERT), so it has no LukeModel equivalent")
    dictionary = task.source_dictionary
    config = hf_encoder.hf_config_from_model_cfg("roberta", cfg.model, len(dictionary), dictionary.pad())
    config.update(model_type="luke", architectures=["LukeModel"], entity_vocab_size=cfg.model.entity_vocab_size,
                  entity_emb_size=cfg.model.entity_emb_size, bos_token_id=dictionary.bos(),
                  eos_token_id=dictionary.eos(),
                  use_entity_aware_attention=not cfg.model.no_entity_aware_attention)
    names = {**hf_encoder.name_map("roberta", cfg.model, lm_head=False, pooler=not cfg.model.no_pooler),
             **entity_name_map(cfg.model)}
    weights = hf_encoder.fairseq_to_hf_state(model.state_dict(), "roberta", cfg.model, prefix="", names=names)
    hf_files.write_model_dir(out_dir, config, weights)
    hf_files.copy_tokenizer_files(ckpt_dir, out_dir)
    vocab = find_entity_vocab(ckpt_dir)
    if vocab is not None:
        vocab.save(os.path.join(out_dir, "entity_vocab.json"))
    base = _base_vocab_size(out_dir)
    if base is not None and base < len(dictionary):
        with open(os.path.join(out_dir, "added_tokens.json"), "w", encoding="utf-8") as f:
            json.dump({dictionary[i]: i for i in range(base, len(dictionary))}, f, ensure_ascii=False)
    return ConversionReport(out_dir, "luke", sum(p.numel() for p in model.parameters()))


def _base_vocab_size(model_dir: str) -> Optional[int]:
    path = os.path.join(model_dir, "vocab.json")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return len(json.load(f))
