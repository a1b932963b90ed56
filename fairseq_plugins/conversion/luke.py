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


# Hugging Face task heads -> (our task, its criterion, whether the classifier has a bias).
HEAD_TASKS = {
    "LukeForEntityClassification": ("luke_entity_typing", "luke_entity_typing", True),
    "LukeForEntityPairClassification": ("luke_relation_classification", "luke_relation_classification", False),
    "LukeForEntitySpanClassification": ("luke_ner", "luke_span_ner", True),
}
LABELS_FILE = "labels.txt"


def _head_task(config: dict, config_path: str, out_dir: str):
    """(task, criterion, task flags, our label order, row of each of our labels in the HF classifier) for a
    ``LukeFor*Classification`` folder; None for other architectures. Our tasks order labels themselves
    (typing: sorted; relations: ``no_relation`` first; NER: ``NIL`` then the types as given), so the
    classifier rows are permuted into that order and the labels written where the task reads them."""
    architecture = (config.get("architectures") or [None])[0]
    if architecture not in HEAD_TASKS:
        return None
    from ..tasks.luke_entity_typing import LukeEntityTypingTask
    from ..tasks.luke_relation import NEGATIVE, LukeRelationTask

    task, criterion, _ = HEAD_TASKS[architecture]
    id2label = config.get("id2label") or {}
    try:
        hf_labels = [id2label[str(i)] if str(i) in id2label else id2label[i] for i in range(len(id2label))]
    except KeyError:
        raise InputError(config_path, "id2label ids are not 0..n-1", field="id2label")
    if not hf_labels:
        raise InputError(config_path, f"{architecture} without id2label: the label names are needed",
                         field="id2label")
    if task == "luke_ner":
        ours = ["NIL"] + hf_labels[1:]  # id 0 is LUKE's no-entity class, whatever its name
        flags = ["--labels", ",".join(hf_labels[1:])]  # the NER task keeps the given order
    else:
        if task == "luke_relation_classification" and NEGATIVE not in hf_labels:
            raise InputError(config_path, f"relation labels without {NEGATIVE!r}, which our task counts as no "
                                          "relation", field="id2label")
        ours = (LukeRelationTask if task == "luke_relation_classification" else LukeEntityTypingTask).sort_labels(
            hf_labels)
        with open(os.path.join(out_dir, LABELS_FILE), "w", encoding="utf-8") as f:
            f.write("".join(f"{label}\n" for label in ours))
        flags = ["--labels", os.path.abspath(os.path.join(out_dir, LABELS_FILE))]
    rows = [hf_labels.index(label) if label != "NIL" else 0 for label in ours]
    return task, criterion, ["--vocab-dir", os.path.abspath(out_dir), *flags], ours, rows


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
                       entity_aware_attention: Optional[bool] = None, seed: int = 1,
                       entity_vocab_path: Optional[str] = None) -> ConversionReport:
    """``out_dir/model.pt`` + ``dict.txt`` + entity vocabulary + tokenizer files from a LUKE (or BERT /
    RoBERTa, giving LUKE-lite) Hugging Face folder. ``entity_aware_attention`` overrides the config's
    ``use_entity_aware_attention`` (fine-tuning turns it on for checkpoints pre-trained without it).
    ``entity_vocab_path`` gives a BERT / RoBERTa encoder a fresh entity table of that vocabulary instead of
    LUKE-lite's, the start of LUKE's pre-training (which starts from RoBERTa)."""
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
        entity_vocab = EntityVocab.load(entity_vocab_path) if entity_vocab_path else EntityVocab.lite()
        emb_size, aware = config["hidden_size"], True
    if entity_vocab_path and is_luke:
        raise InputError(entity_vocab_path, "a LUKE folder keeps its own entity vocabulary; --entity-vocab is for "
                                            "BERT / RoBERTa encoders", field="entity_vocab")
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
    head = _head_task(config, config_path, out_dir) if is_luke else None
    if head is None:
        cfg = build_cfg(out_dir, "vocab_masked_lm", "luke", "masked_lm", fields)
    else:
        cfg = build_cfg(out_dir, head[0], "luke", head[1], fields, extra_args=head[2])
        classifier = {k: weights.pop(k) for k in ("classifier.weight", "classifier.bias") if k in weights}
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
    if head is not None:
        state.update(_classifier_state(classifier, head, fresh, hf_dir))
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


def _classifier_state(classifier: Dict[str, torch.Tensor], head, fresh, hf_dir: str) -> Dict[str, torch.Tensor]:
    """The HF classifier as our entity head, rows in our label order."""
    task, _, _, labels, rows = head
    ours = f"entity_heads.{task}.out_proj."
    state = {}
    for p in ("weight", "bias"):
        if f"{ours}{p}" not in fresh:
            continue
        if f"classifier.{p}" not in classifier:
            raise InputError(hf_dir, "tensor not found in the checkpoint", field=f"classifier.{p}")
        tensor = classifier[f"classifier.{p}"]
        if tensor.size(0) != len(labels) or tensor.shape[1:] != fresh[f"{ours}{p}"].shape[1:]:
            raise InputError(hf_dir, f"classifier.{p} has shape {tuple(tensor.shape)}, expected "
                                     f"{tuple(fresh[f'{ours}{p}'].shape)} ({len(labels)} labels)",
                             field=f"classifier.{p}")
        state[f"{ours}{p}"] = tensor[rows].clone()
    return state


def luke_fairseq_to_hf(checkpoint: str, out_dir: str) -> ConversionReport:
    """A Hugging Face ``LukeModel`` folder (config, weights, vocabularies) from our ``luke`` checkpoint."""
    ckpt_dir = os.path.dirname(os.path.abspath(checkpoint))
    # A converted encoder reads dict.txt from its own folder; fine-tuned checkpoints keep their task's folders.
    overrides = {"data": ckpt_dir} if _task_name(checkpoint) == "vocab_masked_lm" else {}
    cfg, task, model = load_checkpoint(checkpoint, arg_overrides=overrides)
    ckpt_dir = getattr(cfg.task, "vocab_dir", None) or ckpt_dir
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
    state = model.state_dict()
    heads = [name for name in HEAD_TASKS.values() if name[0] in getattr(model, "entity_heads", {})]
    weights = hf_encoder.fairseq_to_hf_state(state, "roberta", cfg.model,
                                             prefix="luke." if heads else "", names=names)
    if heads:
        # Our labels keep our task's order; id2label tells Hugging Face which row is which.
        name = heads[0][0]
        architecture = next(a for a, h in HEAD_TASKS.items() if h[0] == name)
        for p in ("weight", "bias"):
            if f"entity_heads.{name}.out_proj.{p}" in state:
                weights[f"classifier.{p}"] = state[f"entity_heads.{name}.out_proj.{p}"].detach().clone()
        config.update(architectures=[architecture], id2label=dict(enumerate(task.labels)),
                      label2id={label: i for i, label in enumerate(task.labels)})
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


def _task_name(checkpoint: str) -> Optional[str]:
    from fairseq import checkpoint_utils

    if not os.path.isfile(checkpoint):
        raise InputError(checkpoint, "checkpoint not found")
    try:
        state = checkpoint_utils.load_checkpoint_to_cpu(checkpoint)
    except (OSError, RuntimeError, KeyError, EOFError) as e:
        raise InputError(checkpoint, f"not a readable fairseq checkpoint ({type(e).__name__}: {e})")
    return (state.get("cfg") or {}).get("task", {}).get("_name")


def _base_vocab_size(model_dir: str) -> Optional[int]:
    path = os.path.join(model_dir, "vocab.json")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return len(json.load(f))
