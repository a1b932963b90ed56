"""Google BERT TensorFlow checkpoints <-> our BERT checkpoints (UER-py's ``convert_bert_from_uer_to_google``
and ``convert_bert_from_google_to_uer``), without TensorFlow (the file format: ``tf_checkpoint.py``).

Google's variable names are Hugging Face's BERT names spelt the TensorFlow way, so one rule turns each
Hugging Face name into Google's, and the Hugging Face tables (``hf_encoder``) do the rest, in both
directions: ``.`` -> ``/``, ``layer.N`` -> ``layer_N``, ``LayerNorm.weight/bias`` -> ``LayerNorm/gamma|beta``,
``*_embeddings.weight`` -> ``*_embeddings``, any other ``weight`` -> ``kernel`` stored (in, out), that is
transposed against torch's ``Linear``; the heads are ``cls/predictions/output_bias`` and
``cls/seq_relationship/output_weights|output_bias`` (stored (out, in), not transposed). Google's MLM output
is the word embedding matrix itself (no decoder variable), and its segment embedding has the 2 rows of
``token_type_embeddings``; UER's 3-row table (row 0 for padding) loses row 0, as in UER-py's script.

Exported: our ``bert_plugin`` checkpoints (BERT-style, not RoBERTa/ALBERT) and our ``uer`` checkpoints of a
BERT (post-LN transformer, word+position+segment embeddings, mlm or bert target); a UER-py ``.bin`` goes
through :func:`uer_to_fairseq` first, so it is checked exactly as that import checks it. Imported: a
Google folder becomes a ``bert_plugin`` checkpoint (``cls/seq_relationship`` has no counterpart there and is
reported; optimizer state is skipped and counted).

``hidden_act`` is written with Hugging Face's meaning ("gelu": erf; "gelu_new": tanh approximation), the
reading every converter of these folders uses.
"""
from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import types
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from ..data.json_files import read_json_object
from ..errors import InputError
from . import hf_encoder, tf_checkpoint
from .bert_family import ConversionReport, hf_weights_to_fairseq
from .fairseq_checkpoint import read_checkpoint_state
from .uer_checkpoint import find_dictionary, uer_options, uer_to_fairseq

logger = logging.getLogger(__name__)

CHECKPOINT_NAME = "bert_model.ckpt"
CONFIG_FILE = "bert_config.json"
VOCAB_FILE = "vocab.txt"
CONFIG_KEYS = ("attention_probs_dropout_prob", "hidden_act", "hidden_dropout_prob", "hidden_size",
               "initializer_range", "intermediate_size", "max_position_embeddings", "num_attention_heads",
               "num_hidden_layers", "type_vocab_size", "vocab_size", "layer_norm_eps")
_HEAD_NAMES = {"cls.predictions.bias": "cls/predictions/output_bias",
               "cls.seq_relationship.weight": "cls/seq_relationship/output_weights",
               "cls.seq_relationship.bias": "cls/seq_relationship/output_bias"}
_HEAD_NAMES_BACK = {v: k for k, v in _HEAD_NAMES.items()}
_DECODER = "cls.predictions.decoder.weight"  # tied to the word embeddings in Google's model
_SEGMENTS = "bert.embeddings.token_type_embeddings.weight"
# Training state in checkpoints written by Google's run_pretraining.py, not model weights.
_TRAINING_STATE = re.compile(r"(^|/)(adam_m|adam_v|global_step)$")
# Our uer model's modules -> the bert_plugin modules Hugging Face's BERT table is written for.
_UER_AS_PLUGIN = (("body.embeddings.", "encoder.sentence_encoder.embeddings."),
                  ("body.encoder.layers.", "encoder.sentence_encoder.layers."),
                  ("mlm_head.", "encoder.lm_head."), ("sp_pooler.dense.", "encoder.pooler.dense."))


def google_name(hf_name: str) -> Tuple[str, bool]:
    """(Google's variable name, whether it is stored transposed) for a Hugging Face BERT parameter."""
    if hf_name in _HEAD_NAMES:
        return _HEAD_NAMES[hf_name], False
    module, _, param = hf_name.rpartition(".")
    path = re.sub(r"\.layer\.(\d+)\.", r".layer_\1.", f"{module}.").rstrip(".").replace(".", "/")
    if module.endswith("_embeddings"):
        return path, False
    if module.endswith("LayerNorm"):
        return f"{path}/{'gamma' if param == 'weight' else 'beta'}", False
    return f"{path}/{'kernel' if param == 'weight' else param}", param == "weight"


def hf_name(google: str) -> Tuple[str, bool]:
    """The inverse of :func:`google_name`."""
    if google in _HEAD_NAMES_BACK:
        return _HEAD_NAMES_BACK[google], False
    module, _, leaf = google.rpartition("/")
    if not module:  # not a BERT variable (e.g. run_classifier's output_weights): kept, and reported unused
        return google, False
    dotted = re.sub(r"/layer_(\d+)/", r"/layer/\1/", f"{module}/").rstrip("/").replace("/", ".")
    if google.endswith("_embeddings"):
        return google.replace("/", ".") + ".weight", False
    if leaf in ("gamma", "beta"):
        return f"{dotted}.{'weight' if leaf == 'gamma' else 'bias'}", False
    return f"{dotted}.{'weight' if leaf == 'kernel' else leaf}", leaf == "kernel"


def _bert_from_plugin(saved, path) -> Tuple[object, Dict[str, torch.Tensor]]:
    cfg = saved["cfg"]["model"]
    try:
        model_type = hf_encoder.model_type_of(cfg)
    except (ValueError, AttributeError) as e:
        raise InputError(path, f"not a BERT: {e}")
    if model_type != "bert":
        raise InputError(path, f"a {model_type} model: Google's BERT checkpoint format holds BERT only")
    return cfg, saved["model"]


def _bert_from_uer(saved, path) -> Tuple[object, Dict[str, torch.Tensor]]:
    """Our uer model as the bert_plugin config and state it equals (refusing every non-BERT option)."""
    o = uer_options(saved["cfg"])
    required = dict(encoder=("transformer", "bert"), embedding=("word_pos_seg",), layernorm_positioning=("post",),
                    target=("mlm", "bert"), parameter_sharing=(False,), remove_embedding_layernorm=(False,),
                    hidden_act=tuple(hf_encoder.HF_ACTIVATION))
    for option, allowed in required.items():
        if o[option] not in allowed:
            raise InputError(path, f"{o[option]!r} is not a BERT setting (Google's BERT format needs "
                                   f"{' or '.join(map(repr, allowed))})", field=option)
    if o["emb_size"] != o["hidden_size"]:
        raise InputError(path, f"emb_size {o['emb_size']} differs from hidden_size {o['hidden_size']} (a factorized "
                               "embedding is ALBERT, not BERT)", field="emb_size")
    cfg = types.SimpleNamespace(
        encoder_layers=o["layers_num"], encoder_embed_dim=o["hidden_size"], encoder_ffn_embed_dim=o["feedforward_size"],
        encoder_attention_heads=o["heads_num"], activation_fn=o["hidden_act"], dropout=o["dropout"],
        attention_dropout=o["dropout"], max_positions=o["max_seq_length"], num_segments=2,
        layernorm_eps=o["layernorm_eps"], untie_weights=not o["tie_weights"], no_pooler=o["target"] != "bert")
    state = {}
    for key, tensor in saved["model"].items():
        for ours, plugin in _UER_AS_PLUGIN:
            if key.startswith(ours):
                state[plugin + key[len(ours):]] = tensor
    seg = "encoder.sentence_encoder.embeddings.embed_segments.weight"
    state[seg] = state[seg][1:]  # UER's row 0 is the padding segment
    if o["target"] == "bert":
        for p in ("weight", "bias"):
            state[f"cls.seq_relationship.{p}"] = saved["model"][f"sp_output.{p}"]
    return cfg, state


def fairseq_to_google(checkpoint: str, out_dir: str) -> ConversionReport:
    """``out_dir/bert_model.ckpt.{index,data-00000-of-00001}``, ``checkpoint``, ``bert_config.json`` and
    ``vocab.txt`` from our ``bert_plugin`` or ``uer`` (BERT) checkpoint."""
    saved, model = read_checkpoint_state(checkpoint)
    if model == "uer":
        cfg, state = _bert_from_uer(saved, checkpoint)
    elif model in ("bert_plugin", "roberta_plugin"):
        cfg, state = _bert_from_plugin(saved, checkpoint)
    else:
        raise InputError(checkpoint, f"a {model!r} model: only BERT checkpoints (bert_plugin, or uer with a BERT "
                                     "configuration) have a Google BERT equivalent")
    dictionary = find_dictionary(checkpoint, saved["cfg"])
    if dictionary is None:
        raise InputError(checkpoint, "no dict.txt beside the checkpoint or in its data folder: vocab.txt cannot be "
                                     "written")
    rows = state["encoder.sentence_encoder.embeddings.embed_tokens.weight"].size(0)
    if len(dictionary) != rows:
        raise InputError(dictionary.source, f"{len(dictionary)} tokens, but the model has {rows} word embeddings: "
                                            "not this model's vocabulary")
    hf = hf_encoder.fairseq_to_hf_state(state, "bert", cfg)
    for name in ("cls.seq_relationship.weight", "cls.seq_relationship.bias"):
        if name in state:
            hf[name] = state[name]
    unused = sorted(k for k in state if k.startswith("classification_heads."))
    decoder = hf.pop(_DECODER, None)
    if decoder is not None and not torch.equal(decoder, hf["bert.embeddings.word_embeddings.weight"]):
        unused.append(f"{_DECODER} (untied MLM output: Google's format ties it to the word embeddings)")
    if unused:
        logger.warning("%s: %d tensors have no place in a Google BERT checkpoint: %s", checkpoint, len(unused),
                       ", ".join(unused))
    tensors = {}
    for name, tensor in hf.items():
        google, transposed = google_name(name)
        tensors[google] = (tensor.t() if transposed else tensor).detach().to(torch.float32).contiguous().numpy()
    config = hf_encoder.hf_config_from_model_cfg("bert", cfg, rows, dictionary.pad())
    config.update(initializer_range=0.02)
    os.makedirs(out_dir, exist_ok=True)
    tf_checkpoint.write_checkpoint(os.path.join(out_dir, CHECKPOINT_NAME), tensors)
    tf_checkpoint.write_checkpoint_state(out_dir, CHECKPOINT_NAME)
    with open(os.path.join(out_dir, CONFIG_FILE), "w", encoding="utf-8") as f:
        json.dump({k: config[k] for k in CONFIG_KEYS}, f, indent=2, sort_keys=True)
    with open(os.path.join(out_dir, VOCAB_FILE), "w", encoding="utf-8") as f:
        f.writelines(t + "\n" for t in dictionary.symbols)
    params = sum(int(np.prod(t.shape)) for t in tensors.values())
    return ConversionReport(os.path.join(out_dir, CHECKPOINT_NAME), "Google BERT (TensorFlow)", params,
                            unused=unused)


def uer_bin_to_google(uer_path, out_dir: str, vocab_path, arch: str = "uer_bert_base", config_path=None,
                      options: Optional[dict] = None) -> ConversionReport:
    """A UER-py ``.bin`` to a Google folder, by way of our uer checkpoint (same resolution and checks as
    :func:`uer_to_fairseq`: ``arch``, then the UER json config, then ``options``)."""
    with tempfile.TemporaryDirectory() as tmp:
        imported = uer_to_fairseq(uer_path, tmp, vocab_path, arch=arch, config_path=config_path, options=options)
        if imported.initialised:
            raise InputError(uer_path, f"tensors missing from the checkpoint: {', '.join(imported.initialised)}")
        try:
            report = fairseq_to_google(imported.output, out_dir)
        except InputError as e:  # name the user's file, not the intermediate one
            if e.path != imported.output:
                raise
            raise InputError(uer_path, e.message, field=e.field) from None
    report.unused = list(imported.unused) + report.unused
    return report


def read_google_bert(google_dir: str) -> Tuple[dict, str, Dict[str, torch.Tensor], List[str], str]:
    """(Hugging Face-style config, its path, Hugging Face-named weights, skipped training-state names, the
    index file) from a Google folder: ``bert_config.json`` and the checkpoint its ``checkpoint`` file names
    (or ``bert_model.ckpt``)."""
    config_path = os.path.join(google_dir, CONFIG_FILE)
    if not os.path.isfile(config_path):
        raise InputError(config_path, f"{CONFIG_FILE} not found: not a Google BERT folder")
    config = dict(read_json_object(config_path, "a Google BERT config"), model_type="bert")
    prefix = google_dir if os.path.isfile(os.path.join(google_dir, tf_checkpoint.STATE_FILE)) \
        else os.path.join(google_dir, CHECKPOINT_NAME)
    reader = tf_checkpoint.CheckpointReader(prefix)
    skipped = [n for n in reader.names() if _TRAINING_STATE.search(n)]
    weights = {}
    for name in reader.names():
        if name in skipped:
            continue
        hf, transposed = hf_name(name)
        tensor = torch.from_numpy(reader.tensor(name)).to(torch.float32)
        weights[hf] = tensor.t().contiguous() if transposed else tensor
    if skipped:
        logger.info("%s: skipped %d optimizer-state variables (%s ...)", reader.index_path, len(skipped), skipped[0])
    return config, config_path, weights, skipped, reader.index_path


def google_to_fairseq(google_dir: str, out_dir: str, seed: int = 1) -> ConversionReport:
    """``out_dir/model.pt`` (bert_plugin), ``dict.txt``, ``vocab.txt`` and ``arch_args.txt`` from a Google
    BERT folder."""
    config, config_path, weights, skipped, index = read_google_bert(google_dir)
    vocab_path = os.path.join(google_dir, VOCAB_FILE)
    if not os.path.isfile(vocab_path):
        raise InputError(vocab_path, f"{VOCAB_FILE} not found beside the checkpoint")
    report = hf_weights_to_fairseq(config, config_path, lambda: weights, vocab_path, out_dir, google_dir,
                                   head_name=None, seed=seed)
    report.unused = [google_name(n)[0] if n.startswith(("bert.", "cls.")) else n for n in report.unused]
    report.model_type = f"Google BERT ({index}, {len(skipped)} optimizer-state variables skipped)"
    return report
