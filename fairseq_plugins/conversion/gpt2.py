"""Hugging Face GPT-2 folders (``GPT2LMHeadModel`` / ``GPT2Model``) -> our ``uer`` model with the ``gpt`` encoder.

GPT-2 is UER's gpt2 configuration: learned positions and no embedding LayerNorm, causal pre-LN layers with
a final LayerNorm, tanh-approximated gelu (``gelu_new``, our ``gelu_accurate``), LM output tied to the word
embedding. Its ``Conv1D`` layers store weights as (in, out), so they are transposed; ``c_attn`` already
holds query, key and value in our fused order.

fairseq needs a padding token and GPT-2 has none (``<|endoftext|>`` is bos, eos and unk), so ``<pad>`` is
appended to the vocabulary: its embedding row is zero and its output bias -10000, so it takes no
probability mass and the logits over GPT-2's own vocabulary are GPT-2's.
"""
from __future__ import annotations

import logging
import os

import torch

from ..data import VocabDictionary
from ..errors import InputError
from . import hf_encoder, hf_files, state_tables
from .bert_family import ConversionReport
from .state_tables import Transposed
from ..models.uer import resolve_options
from .uer_checkpoint import build_uer_model, finish, load_converted_state

logger = logging.getLogger(__name__)

PAD_LOGIT_BIAS = -10000.0  # finite, so weight decay and fp16 stay well defined
_IGNORED_SUFFIXES = (".attn.bias", ".attn.masked_bias")  # causal-mask buffers of older transformers


def gpt2_options(config: dict, path: str = "config.json") -> dict:
    """Our ``uer`` options from a GPT-2 ``config.json``; settings we do not implement are errors."""
    if config.get("model_type") != "gpt2":
        raise InputError(path, f"not a GPT-2 config (model_type {config.get('model_type')!r})", field="model_type")
    for key in ("vocab_size", "n_embd", "n_layer", "n_head", "n_positions"):
        if not isinstance(config.get(key), int):
            raise InputError(path, f"missing or not an integer: {config.get(key)!r}", field=key)
    act = config.get("activation_function", "gelu_new")
    if act not in hf_encoder.ACTIVATIONS:
        raise InputError(path, f"unsupported activation {act!r} (supported: {', '.join(hf_encoder.ACTIVATIONS)})",
                         field="activation_function")
    unsupported = {"scale_attn_weights": False, "scale_attn_by_inverse_layer_idx": True, "add_cross_attention": True,
                   "tie_word_embeddings": False}
    for key, bad in unsupported.items():
        if config.get(key, not bad) == bad:
            raise InputError(path, f"{key}={bad} is not supported by this converter", field=key)
    hidden = config["n_embd"]
    return dict(embedding="word_pos", encoder="gpt", target="lm", layernorm_positioning="pre",
                remove_embedding_layernorm=True, tie_weights=True, parameter_sharing=False, bidirectional=False,
                emb_size=hidden, hidden_size=hidden, feedforward_size=config.get("n_inner") or 4 * hidden,
                heads_num=config["n_head"], layers_num=config["n_layer"], max_seq_length=config["n_positions"],
                dropout=float(config.get("resid_pdrop", 0.1)), hidden_act=hf_encoder.ACTIVATIONS[act],
                layernorm_eps=float(config.get("layer_norm_epsilon", 1e-5)))


def gpt2_name_map(layers: int) -> dict:
    """Our parameter name -> GPT-2's (without the ``transformer.`` prefix of ``GPT2LMHeadModel``)."""
    table = {"body.embeddings.embed_tokens.weight": "wte.weight",
             "body.embeddings.embed_positions.weight": "wpe.weight"}
    for i in range(layers):
        ours, theirs = f"body.encoder.layers.{i}.", f"h.{i}."
        for our, their in (("self_attn.in_proj", "attn.c_attn"), ("self_attn.out_proj", "attn.c_proj"),
                           ("fc1", "mlp.c_fc"), ("fc2", "mlp.c_proj")):
            table[f"{ours}{our}.weight"] = Transposed(f"{theirs}{their}.weight")
            table[f"{ours}{our}.bias"] = f"{theirs}{their}.bias"
        for our, their in (("self_attn_layer_norm", "ln_1"), ("final_layer_norm", "ln_2")):
            for p in ("weight", "bias"):
                table[f"{ours}{our}.{p}"] = f"{theirs}{their}.{p}"
    for p in ("weight", "bias"):
        table[f"body.encoder.final_layer_norm.{p}"] = f"ln_f.{p}"
    return table


def gpt2_hf_to_fairseq(hf_dir: str, out_dir: str, arch: str = "uer_gpt2_base", seed: int = 1) -> ConversionReport:
    """``out_dir/model.pt`` (+ dict.txt, uer_config.json, arch_args.txt, vocab.json, merges.txt) from a
    Hugging Face GPT-2 folder; ``arch`` only names the arch in the training flags (the config sets every size)."""
    config = hf_files.read_config(hf_dir)
    config_path = os.path.join(hf_dir, "config.json")
    options = resolve_options(arch, None, gpt2_options(config, config_path))
    options.pop("uer_config")
    vocab_path = hf_files.vocab_file(hf_dir)
    dictionary = VocabDictionary.load(vocab_path)
    extra = len(dictionary) - config["vocab_size"]
    if extra < 0:
        raise InputError(vocab_path, f"{len(dictionary)} tokens, but config.json says vocab_size "
                                     f"{config['vocab_size']}: tokenizer and model do not match")
    weights = hf_files.read_weights(hf_dir)
    prefix = "transformer." if any(k.startswith("transformer.") for k in weights) else ""
    wte = weights.get(f"{prefix}wte.weight")
    if wte is None:
        raise InputError(hf_dir, "tensor not found in the checkpoint", field=f"{prefix}wte.weight")
    lm_head = weights.get("lm_head.weight")
    if lm_head is not None and not torch.equal(lm_head, wte):
        raise InputError(hf_dir, "lm_head.weight differs from the word embedding; only tied GPT-2 heads convert",
                         field="lm_head.weight")
    if extra:  # rows for the specials VocabDictionary appended (<pad>): zero embeddings
        weights[f"{prefix}wte.weight"] = torch.cat([wte, wte.new_zeros(extra, wte.size(1))])
    cfg, model, flags = build_uer_model(out_dir, arch, options, dictionary, seed, source=os.fspath(hf_dir))
    hf_files.copy_tokenizer_files(hf_dir, out_dir)
    expected = model.state_dict()
    state, _, used = state_tables.import_state(weights, gpt2_name_map(options["layers_num"]), hf_dir,
                                               key=lambda n: prefix + n, expected=expected)
    bias = torch.zeros_like(expected["lm_output.bias"])
    bias[config["vocab_size"]:] = PAD_LOGIT_BIAS
    state["lm_output.bias"] = bias
    load_converted_state(model, state, hf_dir)
    unused = state_tables.unused_keys(weights, used | {"lm_head.weight"}, _IGNORED_SUFFIXES)
    if unused:
        logger.warning("%s: %d tensors not converted: %s", hf_dir, len(unused), ", ".join(unused))
    appended = [f"{dictionary[i]} (id {i}: zero embedding, output bias {PAD_LOGIT_BIAS:g})"
                for i in range(config["vocab_size"], len(dictionary))]
    return finish(out_dir, cfg, model, flags, "gpt2", appended, unused)
