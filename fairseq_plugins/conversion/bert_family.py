"""Convert Hugging Face BERT / RoBERTa / ALBERT folders to fairseq checkpoints and back (GPT-2: ``gpt2.py``)."""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import torch

from ..data import VocabDictionary
from ..errors import InputError
from . import hf_encoder, hf_files
from .fairseq_checkpoint import build_cfg, build_model, load_checkpoint, model_flags, save_checkpoint

logger = logging.getLogger(__name__)

DEFAULT_HEAD = "sentence_classification_head"
HF_CLASS_PREFIX = {"bert": "Bert", "roberta": "Roberta", "albert": "Albert"}


@dataclass
class ConversionReport:
    output: str
    model_type: str
    parameters: int
    train_flags: List[str] = field(default_factory=list)
    initialised: List[str] = field(default_factory=list)
    unused: List[str] = field(default_factory=list)
    head: Optional[str] = None

    def summary(self) -> str:
        """What the conversion CLIs print: output, size, how to train it, and anything not carried over."""
        lines = [f"wrote {self.output}: {self.model_type}, {self.parameters:,} parameters"
                 + (f", classification head {self.head!r}" if self.head else "")]
        if self.train_flags:
            lines.append(f"train with: {' '.join(self.train_flags)}")
        if self.initialised:
            lines.append(f"initialised here (absent from the source, {len(self.initialised)}): "
                         f"{', '.join(self.initialised)}")
        if self.unused:
            lines.append(f"not converted ({len(self.unused)}): {', '.join(self.unused)}")
        return "\n".join(lines)


def _classifier_classes(weights, model_type) -> Optional[int]:
    name = "classifier.out_proj.weight" if model_type == "roberta" else "classifier.weight"
    return weights[name].size(0) if name in weights else None


def hf_to_fairseq(hf_dir: str, out_dir: str, head_name: str = DEFAULT_HEAD, seed: int = 1) -> ConversionReport:
    """``out_dir/model.pt`` + ``dict.txt`` (+ the tokenizer files) from a Hugging Face model folder.

    ``seed`` fixes the initialisation of head weights the source lacks, so conversions repeat exactly."""
    config = hf_files.read_config(hf_dir)
    if config.get("model_type") == "gpt2":  # a causal LM: our uer model with the gpt encoder
        from .gpt2 import gpt2_hf_to_fairseq

        return gpt2_hf_to_fairseq(hf_dir, out_dir, seed=seed)
    return hf_weights_to_fairseq(config, os.path.join(hf_dir, "config.json"), lambda: hf_files.read_weights(hf_dir),
                                 hf_files.vocab_file(hf_dir), out_dir, hf_dir, head_name=head_name, seed=seed)


def hf_weights_to_fairseq(config: dict, config_path: str, read_weights: Callable[[], Dict[str, torch.Tensor]],
                          vocab_path: str, out_dir: str, source: str, head_name: str = DEFAULT_HEAD,
                          seed: int = 1) -> ConversionReport:
    """:func:`hf_to_fairseq` from a Hugging Face config and Hugging Face-named weights, wherever they were
    read from (a Hugging Face folder, or Google's TensorFlow checkpoint renamed); the tokenizer files of
    the folder ``source`` travel along."""
    fields = hf_encoder.model_cfg_from_hf(config, config_path)
    model_type = config["model_type"]
    dictionary = VocabDictionary.load(vocab_path)
    if len(dictionary) != config["vocab_size"]:
        raise InputError(vocab_path, f"{len(dictionary)} tokens, but config.json says vocab_size "
                                     f"{config['vocab_size']}: tokenizer and model do not match")
    if "pad_token_id" in config and config["pad_token_id"] != dictionary.pad():
        raise InputError(config_path, f"pad_token_id {config['pad_token_id']} but the vocabulary's padding "
                                      f"token {dictionary.pad_word!r} has id {dictionary.pad()}",
                         field="pad_token_id")
    weights = read_weights()
    prefix = hf_encoder.detect_prefix(weights, model_type)
    word = weights.get(f"{prefix}embeddings.word_embeddings.weight")
    decoder = weights.get(hf_encoder._LM_HEAD[model_type]["weight"])
    num_classes = _classifier_classes(weights, model_type)
    head = head_name if num_classes else None
    fields.update(
        no_pooler=f"{prefix}{hf_encoder._POOLER[model_type]}.weight" not in weights,
        untie_weights=decoder is not None and word is not None and not torch.equal(decoder, word),
        load_checkpoint_heads=head is not None,
    )
    os.makedirs(out_dir, exist_ok=True)
    dictionary.save(os.path.join(out_dir, "dict.txt"))
    hf_files.copy_tokenizer_files(source, out_dir)
    arch = "roberta_plugin" if model_type == "roberta" else "bert_plugin"
    cfg = build_cfg(out_dir, "vocab_masked_lm", arch, "masked_lm", fields)
    torch.manual_seed(seed)
    _, model = build_model(cfg)
    if head:
        model.register_classification_head(head, num_classes=num_classes)
    state, initialised, unused = hf_encoder.hf_to_fairseq_state(
        weights, model_type, cfg.model, head=head, path=source, fallback=model.state_dict())
    model.load_state_dict(state, strict=True)
    out = os.path.join(out_dir, "model.pt")
    save_checkpoint(out, cfg, model)
    flags = model_flags(arch, fields)
    with open(os.path.join(out_dir, "arch_args.txt"), "w") as f:
        f.write(" ".join(flags) + "\n")
    params = sum(p.numel() for p in model.parameters())
    return ConversionReport(out, model_type, params, flags, initialised, unused, head)


def fairseq_to_hf(checkpoint: str, out_dir: str, head_name: Optional[str] = None) -> ConversionReport:
    """A Hugging Face folder (``*ForMaskedLM``, or ``*ForSequenceClassification`` for a head) from ours."""
    cfg, task, model = load_checkpoint(checkpoint, arg_overrides={"data": os.path.dirname(os.path.abspath(checkpoint))})
    try:
        model_type = hf_encoder.model_type_of(cfg.model)
    except (ValueError, AttributeError) as e:
        raise InputError(checkpoint, f"this checkpoint has no Hugging Face equivalent: {e}")
    heads = list(getattr(model, "classification_heads", {}) or {})
    if head_name is None and len(heads) == 1:
        head_name = heads[0]
    if head_name is not None and head_name not in heads:
        raise InputError(checkpoint, f"no classification head {head_name!r} (heads: {heads or 'none'})")
    dictionary = task.source_dictionary
    config = hf_encoder.hf_config_from_model_cfg(model_type, cfg.model, len(dictionary), dictionary.pad())
    config.update(bos_token_id=dictionary.bos(), eos_token_id=dictionary.eos())
    if head_name:
        num_labels = model.classification_heads[head_name].out_proj.out_features
        config.update(architectures=[f"{HF_CLASS_PREFIX[model_type]}ForSequenceClassification"],
                      num_labels=num_labels, id2label={str(i): f"LABEL_{i}" for i in range(num_labels)},
                      label2id={f"LABEL_{i}": i for i in range(num_labels)})
    else:
        config["architectures"] = [f"{HF_CLASS_PREFIX[model_type]}ForMaskedLM"]
    weights = hf_encoder.fairseq_to_hf_state(model.state_dict(), model_type, cfg.model, head=head_name)
    hf_files.write_model_dir(out_dir, config, weights)
    src_dir = os.path.dirname(os.path.abspath(checkpoint))
    hf_files.copy_tokenizer_files(src_dir, out_dir)
    if not any(os.path.isfile(os.path.join(out_dir, n)) for n in hf_files.VOCAB_FILES):
        _write_vocab(dictionary, model_type, out_dir)
    params = sum(p.numel() for p in model.parameters())
    return ConversionReport(out_dir, model_type, params, head=head_name)


def _write_vocab(dictionary, model_type, out_dir):
    """Without the original tokenizer files, write the vocabulary itself in the family's format."""
    if model_type == "roberta":
        with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump({t: i for i, t in enumerate(dictionary.symbols)}, f, ensure_ascii=False)
    else:
        with open(os.path.join(out_dir, "vocab.txt"), "w", encoding="utf-8") as f:
            f.writelines(t + "\n" for t in dictionary.symbols)
    logger.warning("%s: no tokenizer files beside the checkpoint; wrote the vocabulary only", out_dir)
