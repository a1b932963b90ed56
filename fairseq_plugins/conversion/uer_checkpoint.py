"""UER-py ``.bin`` checkpoints (a bare state dict under UER-py's parameter names) <-> our ``uer`` checkpoints.

UER-py renamed its parameters once, and both spellings are read:
- ``old`` (the seed README's era): ``embedding.word_embedding.weight``, ``embedding.position_embedding``,
  ``embedding.segment_embedding``, ``target.mlm_linear_1/2``, ``target.layer_norm``,
  ``target.nsp_linear_1/2`` (bert) or ``target.sop_linear_1/2`` (albert), ``target.output_layer`` (lm);
- ``new`` (UER-py 1.0): ``embedding.word.embedding.weight``, ``embedding.pos.``/``embedding.seg.``,
  ``target.mlm.linear_1/2``, ``target.mlm.layer_norm``, ``target.sp.linear_1/2``, ``target.lm.output_layer``.
``new`` is written unless ``names="old"``. Encoder names did not change: ``encoder.transformer.N.self_attn.
linear_layers.{0,1,2}`` (query, key, value; fused into our ``in_proj``), ``final_linear``, ``layer_norm_1``,
``feed_forward.linear_1/2``, ``layer_norm_2``; no ``N.`` with parameter sharing; ``encoder.linear`` for the
factorized embedding; ``encoder.layer_norm`` after pre-LN stacks; ``encoder.rnn*`` for recurrent encoders.
UER's LayerNorms are ``gamma``/``beta`` (TencentPretrain's ``weight``/``bias`` are read too).

A ``.bin`` carries no configuration, so the model is resolved exactly as ``fairseq-train`` resolves it
(``--arch``, then a UER json config, then explicit options); when none of them names the target, the
checkpoint's target tensors do. Every tensor's shape is checked against that model. The converted folder
holds ``uer_config.json`` with every option, so ``--arch A --uer-config out/uer_config.json`` rebuilds it.

Numerics: UER-py's own LayerNorm divides by ``std + eps`` (unbiased std); torch's, Hugging Face's and ours
by ``sqrt(var + eps)``. UER-py's own converters to Hugging Face accept the same difference.
"""
from __future__ import annotations

import json
import logging
import os
import re
import types
from typing import Dict, Iterable, Optional

import torch

from ..data import VocabDictionary
from ..data.uer_config import read_uer_config, write_uer_config
from ..errors import InputError
from ..models.uer import BIRNN_ENCODERS, RNN_ENCODERS, resolve_options
from . import state_tables
from .bert_family import ConversionReport
from .fairseq_checkpoint import build_cfg, build_model, read_checkpoint_state, save_checkpoint

logger = logging.getLogger(__name__)

NAME_SETS = ("new", "old")
CONVERTIBLE_ENCODERS = ("transformer", "bert", "gpt") + RNN_ENCODERS + BIRNN_ENCODERS
CONVERTIBLE_TARGETS = ("mlm", "bert", "albert", "lm")
_NAMES = {
    "new": dict(word="embedding.word.embedding.weight", pos="embedding.pos.embedding.weight",
                seg="embedding.seg.embedding.weight", mlm_1="target.mlm.linear_1", mlm_2="target.mlm.linear_2",
                mlm_norm="target.mlm.layer_norm", sp={"bert": "target.sp.linear_", "albert": "target.sp.linear_"},
                lm="target.lm.output_layer"),
    "old": dict(word="embedding.word_embedding.weight", pos="embedding.position_embedding.weight",
                seg="embedding.segment_embedding.weight", mlm_1="target.mlm_linear_1", mlm_2="target.mlm_linear_2",
                mlm_norm="target.layer_norm", sp={"bert": "target.nsp_linear_", "albert": "target.sop_linear_"},
                lm="target.output_layer"),
}
_LAYER = {  # our TransformerLayer module -> UER's TransformerLayer module
    "self_attn.out_proj": "self_attn.final_linear",
    "fc1": "feed_forward.linear_1",
    "fc2": "feed_forward.linear_2",
}
_LAYER_NORMS = {"self_attn_layer_norm": "layer_norm_1", "final_layer_norm": "layer_norm_2"}
_NORM = {"weight": "gamma", "bias": "beta"}
META_FILE = "uer_data.json"  # what the uer_pretrain task reads from its data folder


def _options(cfg):
    return types.SimpleNamespace(**cfg) if isinstance(cfg, dict) else cfg


def check_convertible(cfg, path=None):
    cfg = _options(cfg)
    if cfg.encoder not in CONVERTIBLE_ENCODERS:
        raise InputError(path, f"no UER-py name table for encoder {cfg.encoder!r} (convertible: "
                               f"{', '.join(CONVERTIBLE_ENCODERS)})", field="encoder")
    if cfg.target not in CONVERTIBLE_TARGETS:
        raise InputError(path, f"no UER-py name table for target {cfg.target!r} (convertible: "
                               f"{', '.join(CONVERTIBLE_TARGETS)})", field="target")


def uer_name_map(cfg, names: str = "new", our_keys: Iterable[str] = ()) -> Dict[str, state_tables.Source]:
    """Our parameter name -> UER-py's, for a resolved ``uer`` model config. ``our_keys`` (the model's
    state-dict keys) lists the recurrent encoders' parameters, which keep torch's names in both."""
    cfg = _options(cfg)
    check_convertible(cfg)
    uer = _NAMES[names]
    table: Dict[str, state_tables.Source] = {"body.embeddings.embed_tokens.weight": uer["word"]}
    if cfg.embedding != "word":
        table["body.embeddings.embed_positions.weight"] = uer["pos"]
    if cfg.embedding == "word_pos_seg":
        table["body.embeddings.embed_segments.weight"] = uer["seg"]
    if not cfg.remove_embedding_layernorm:
        for p in ("weight", "bias"):
            table[f"body.embeddings.layernorm_embedding.{p}"] = f"embedding.layer_norm.{_NORM[p]}"
    if cfg.encoder in ("transformer", "bert", "gpt"):
        if cfg.emb_size != cfg.hidden_size:
            for p in ("weight", "bias"):
                table[f"body.embeddings.embed_projection.{p}"] = f"encoder.linear.{p}"
        groups = 1 if cfg.parameter_sharing else cfg.layers_num
        for g in range(groups):
            ours = f"body.encoder.layers.{g}."
            theirs = "encoder.transformer." + ("" if cfg.parameter_sharing else f"{g}.")
            for p in ("weight", "bias"):
                table[f"{ours}self_attn.in_proj.{p}"] = tuple(
                    f"{theirs}self_attn.linear_layers.{i}.{p}" for i in range(3))
                for our, their in _LAYER.items():
                    table[f"{ours}{our}.{p}"] = f"{theirs}{their}.{p}"
                for our, their in _LAYER_NORMS.items():
                    table[f"{ours}{our}.{p}"] = f"{theirs}{their}.{_NORM[p]}"
        if cfg.layernorm_positioning == "pre":
            for p in ("weight", "bias"):
                table[f"body.encoder.final_layer_norm.{p}"] = f"encoder.layer_norm.{_NORM[p]}"
    else:
        for key in our_keys:
            if key.startswith("body.encoder."):
                table[key] = "encoder." + key[len("body.encoder."):]
    if cfg.target in ("mlm", "bert", "albert"):
        for p in ("weight", "bias"):
            table[f"mlm_head.dense.{p}"] = f"{uer['mlm_1']}.{p}"
            table[f"mlm_head.layer_norm.{p}"] = f"{uer['mlm_norm']}.{_NORM[p]}"
        table["mlm_head.weight"] = f"{uer['mlm_2']}.weight"
        table["mlm_head.bias"] = f"{uer['mlm_2']}.bias"
    if cfg.target in ("bert", "albert"):
        sp = uer["sp"][cfg.target]
        for p in ("weight", "bias"):
            table[f"sp_pooler.dense.{p}"] = f"{sp}1.{p}"
            table[f"sp_output.{p}"] = f"{sp}2.{p}"
    if cfg.target == "lm":
        for p in ("weight", "bias"):
            table[f"lm_output.{p}"] = f"{uer['lm']}.{p}"
    return table


def normalise_uer_state(state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """TencentPretrain-style LayerNorm ``weight``/``bias`` renamed to UER-py's ``gamma``/``beta``."""
    pattern = re.compile(r"(layer_norm(?:_\d+)?)\.(weight|bias)$")
    return {pattern.sub(lambda m: f"{m.group(1)}.{_NORM[m.group(2)]}", k): v for k, v in state.items()}


def names_of(state: Dict[str, torch.Tensor]) -> str:
    """Which of UER-py's two spellings a state dict uses."""
    return "old" if _NAMES["old"]["word"] in state else "new"


def target_of(state: Dict[str, torch.Tensor]) -> Optional[str]:
    """The pre-training target a UER-py state dict was saved with, from its target tensors."""
    def has(prefix):
        return any(k.startswith(prefix) for k in state)

    if has("target.sop_linear_"):
        return "albert"
    if has("target.nsp_linear_"):
        return "bert"
    if has("target.sp."):
        return "albert" if "encoder.linear.weight" in state else "bert"
    if has("target.mlm") or has("target.layer_norm."):
        return "mlm"
    if has("target.lm.output_layer.") or has("target.output_layer."):
        return "lm"
    return None


def read_uer_state(path) -> Dict[str, torch.Tensor]:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(path, "UER-py checkpoint not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a corrupt or foreign file
        raise InputError(path, f"not a readable UER-py checkpoint ({type(e).__name__}: {e})")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(path, "not a UER-py checkpoint: expected a state dict of parameter name -> tensor")
    return normalise_uer_state(state)


def build_uer_model(out_dir: str, arch: str, options: dict, dictionary, seed: int = 1, source: str = ""):
    """Write ``dict.txt``, ``uer_config.json`` (every option) and the task's ``uer_data.json`` into ``out_dir``
    and build the model ``fairseq-train --arch ARCH --uer-config out_dir/uer_config.json`` builds.
    Returns (cfg, model, train flags)."""
    os.makedirs(out_dir, exist_ok=True)
    config_path = os.path.abspath(os.path.join(out_dir, "uer_config.json"))
    write_uer_config(options, config_path)
    dictionary.save(os.path.join(out_dir, "dict.txt"))
    with open(os.path.join(out_dir, META_FILE), "w", encoding="utf-8") as f:
        json.dump({"target": options["target"], "labels_num": 0, "converted_from": source}, f, indent=1)
    flags = ["--arch", arch, "--uer-config", config_path]
    cfg = build_cfg(out_dir, "uer_pretrain", arch, f"uer_{options['target']}", {}, extra_args=flags[2:])
    torch.manual_seed(seed)
    _, model = build_model(cfg)
    return cfg, model, flags


def load_converted_state(model, state: Dict[str, torch.Tensor], path) -> None:
    """Complete ``state`` with the model's aliases (shared embedding module, tied output weights), refuse
    tied weights that differ in the source, and load it strictly."""
    expected = model.state_dict()
    storage = {}
    for name, tensor in expected.items():
        storage.setdefault(tensor.data_ptr(), []).append(name)
    for names in storage.values():
        given = [n for n in names if n in state]
        for other in given[1:]:
            if not torch.equal(state[given[0]], state[other]):
                raise InputError(path, f"{other} and {given[0]} are one tied parameter in this configuration "
                                       "(tie_weights) but differ in the checkpoint: convert without tying",
                                 field="tie_weights")
    missing = state_tables.fill_aliases(state, expected)
    if missing:
        raise InputError(path, f"no value for {', '.join(missing)}")
    model.load_state_dict(state, strict=True)


def finish(out_dir: str, cfg, model, flags, model_type: str, initialised=(), unused=()) -> ConversionReport:
    out = os.path.join(out_dir, "model.pt")
    save_checkpoint(out, cfg, model, criterion_name=f"uer_{cfg.model.target}")
    with open(os.path.join(out_dir, "arch_args.txt"), "w") as f:
        f.write(" ".join(flags) + "\n")
    params = sum(p.numel() for p in model.parameters())
    return ConversionReport(out, model_type, params, list(flags) + ["--criterion", f"uer_{cfg.model.target}"],
                            list(initialised), list(unused))


def uer_to_fairseq(uer_path, out_dir: str, vocab_path, arch: str = "uer_bert_base", config_path=None,
                   options: Optional[dict] = None, seed: int = 1) -> ConversionReport:
    """``out_dir/model.pt`` (+ dict.txt, uer_config.json, arch_args.txt) from a UER-py ``.bin``.

    The model is ``arch``, overridden by the UER json config ``config_path``, overridden by ``options``
    (our option names); without a target from any of them, the checkpoint's target tensors decide.
    Head tensors the checkpoint lacks start from random initialisation (an absent LM output bias, as
    UER-py 1.0 saves without one, from zeros) and are listed in the report."""
    uer_path = os.fspath(uer_path)
    source = read_uer_state(uer_path)
    options = dict(options or {})
    if "target" not in options and not (config_path and "target" in read_uer_config(config_path)):
        found = target_of(source)
        if found is not None:
            options["target"] = found
    resolved = resolve_options(arch, os.fspath(config_path) if config_path else None, options)
    resolved.pop("uer_config")
    check_convertible(resolved, config_path or uer_path)
    names = names_of(source)
    dictionary = VocabDictionary.load(vocab_path)
    word = _NAMES[names]["word"]
    if word in source and source[word].size(0) != len(dictionary):
        raise InputError(vocab_path, f"{len(dictionary)} tokens, but the checkpoint's {word} has "
                                     f"{source[word].size(0)} rows: vocabulary and model do not match")
    cfg, model, flags = build_uer_model(out_dir, arch, resolved, dictionary, seed, source=uer_path)
    expected = model.state_dict()
    table = uer_name_map(resolved, names, expected.keys())
    heads = ("mlm_head.", "sp_pooler.", "sp_output.", "lm_output.")
    state, missing, used = state_tables.import_state(source, table, uer_path, expected=expected,
                                                     optional=lambda our: our.startswith(heads))
    initialised = []
    aliased = {n for n in missing if _has_twin(n, state, expected)}
    for our in missing:
        if our in aliased:
            continue
        if our == "lm_output.bias":
            state[our] = torch.zeros_like(expected[our])
            initialised.append(f"{our} (zeros: the checkpoint's LM output has no bias)")
        else:
            state[our] = expected[our].detach().clone()
            initialised.append(our)
    load_converted_state(model, state, uer_path)
    unused = state_tables.unused_keys(source, used)
    if initialised:
        logger.warning("%s has no %d head tensors; they start from initialisation: %s",
                       uer_path, len(initialised), ", ".join(initialised))
    if unused:
        logger.warning("%s: %d tensors not converted (no counterpart in this model): %s",
                       uer_path, len(unused), ", ".join(unused))
    return finish(out_dir, cfg, model, flags, f"UER-py ({names} names)", initialised, unused)


def _has_twin(name, state, expected) -> bool:
    ptr = expected[name].data_ptr()
    return any(n in state and n != name and expected[n].data_ptr() == ptr for n in expected)


def fairseq_to_uer(checkpoint: str, out_path: str, names: str = "new") -> ConversionReport:
    """A UER-py ``.bin`` from our ``uer`` checkpoint, with ``<stem>_config.json`` (UER-py's config for
    ``--config_path``) and, when the checkpoint's dictionary is found, ``<stem>_vocab.txt``."""
    if names not in NAME_SETS:
        raise ValueError(f"names must be one of {NAME_SETS}, got {names!r}")
    saved, model = read_checkpoint_state(checkpoint)
    if model != "uer":
        raise InputError(checkpoint, f"not a uer model checkpoint (model {model!r})")
    cfg = saved["cfg"]
    options = uer_options(cfg)
    check_convertible(options, checkpoint)
    state = saved["model"]
    weights = state_tables.export_state(state, uer_name_map(options, names, state.keys()))
    stem = os.path.splitext(os.path.abspath(out_path))[0]
    os.makedirs(os.path.dirname(stem), exist_ok=True)
    tmp = f"{out_path}.tmp"
    torch.save(weights, tmp)
    os.replace(tmp, out_path)
    write_uer_config(options, f"{stem}_config.json")
    dictionary = find_dictionary(checkpoint, cfg)
    if dictionary is not None:
        with open(f"{stem}_vocab.txt", "w", encoding="utf-8") as f:
            f.writelines(t + "\n" for t in dictionary.symbols)
    else:
        logger.warning("%s: no dict.txt beside the checkpoint or in its data folder; no vocabulary written",
                       checkpoint)
    params = sum(v.numel() for v in weights.values())
    return ConversionReport(out_path, f"UER-py ({names} names)", params)


def uer_options(cfg) -> dict:
    """Every ``uer`` model option from a checkpoint's config."""
    from ..models.uer import UerConfig

    names = [n for n in UerConfig.__dataclass_fields__ if not n.startswith("_") and n != "uer_config"]
    return {n: cfg["model"].get(n) for n in names}


def find_dictionary(checkpoint, cfg) -> Optional[VocabDictionary]:
    task = cfg.get("task") or {}
    for folder in (os.path.dirname(os.path.abspath(checkpoint)), task.get("data") or ""):
        path = os.path.join(folder, "dict.txt")
        if folder and os.path.isfile(path):
            return VocabDictionary.load(path)
    return None
