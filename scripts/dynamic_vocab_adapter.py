#!/usr/bin/env python
"""Fit a checkpoint to another (usually smaller, task) vocabulary, as UER-py's ``scripts/dynamic_vocab_adapter.py``.

    python scripts/dynamic_vocab_adapter.py --old-model-path models/pretrained.pt --old-vocab-path vocab.txt \\
        --new-vocab-path task_vocab.txt --new-model-path adapted/model.pt

Every tensor indexed by token id — the word embedding and the masked-LM / LM output projection and bias,
tied or not — is rebuilt with one row per entry of the new vocabulary: tokens the old vocabulary has keep
their old rows exactly; the others start from N(0, 0.02) rows (zero biases, ``--seed``). All other
weights are copied. The new checkpoint is written with the new vocabulary as ``dict.txt`` beside it, where
the tools (and ``--vocab-path``-less loading) find it; fine-tune it with ``--vocab task_vocab.txt``.
"""
import argparse
import os
import sys

import torch
from omegaconf import open_dict

from fairseq_plugins.conversion.fairseq_checkpoint import save_checkpoint
from fairseq_plugins.data.vocab_dictionary import VocabDictionary, read_vocab
from fairseq_plugins.errors import InputError
from fairseq_plugins.tool_model import build_model, load_tool_model, run_cli


def adapt(tool, new_dictionary: VocabDictionary, seed: int = 7) -> torch.nn.Module:
    """A model like ``tool.model`` over ``new_dictionary`` (see the module docstring)."""
    old_dictionary = tool.dictionary
    cfg = tool.cfg
    if getattr(cfg.model, "padding_offset_positions", False) and new_dictionary.pad() != old_dictionary.pad():
        raise InputError(new_dictionary.source, f"the padding token is id {new_dictionary.pad()} here but "
                                                f"{old_dictionary.pad()} in the old vocabulary; this model numbers "
                                                "positions from the padding id, so it must not move")
    shared_new = [i for i, t in enumerate(new_dictionary.symbols) if t in old_dictionary.indices]
    shared_old = [old_dictionary.indices[new_dictionary.symbols[i]] for i in shared_new]
    indexed = set(tool.vocab_indexed_entries())
    generator = torch.Generator().manual_seed(seed)
    new_state, done = {}, {}
    for name, value in tool.model.state_dict(keep_vars=True).items():  # keep_vars: tied names, one object
        if name not in indexed:
            new_state[name] = value.detach()
            continue
        if id(value) not in done:  # tied tensors get one new tensor
            shape = (len(new_dictionary), *value.shape[1:])
            fresh = (torch.zeros(shape) if value.dim() == 1 else torch.randn(shape, generator=generator) * 0.02)
            fresh = fresh.to(value.dtype)
            fresh[shared_new] = value.detach().cpu()[shared_old]
            done[id(value)] = fresh
        new_state[name] = done[id(value)]
    labels = tool.state["model"].get("cls_output.weight")
    model = build_model(cfg, new_dictionary, labels.size(0) if labels is not None else 0)
    model.load_state_dict(new_state, strict=True, model_cfg=cfg.model)
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old-model-path", "--load-model-path", dest="old_model_path", required=True)
    parser.add_argument("--old-vocab-path", help="default: dict.txt beside the checkpoint, else the training task's")
    parser.add_argument("--new-vocab-path", required=True)
    parser.add_argument("--new-model-path", required=True, help="the adapted checkpoint (.pt); dict.txt goes beside")
    parser.add_argument("--seed", type=int, default=7, help="for the rows of tokens the old vocabulary lacks")
    args = parser.parse_args(argv)

    tool = load_tool_model(args.old_model_path, vocab=args.old_vocab_path, device="cpu")
    new_dictionary = VocabDictionary(*read_vocab(args.new_vocab_path), source=args.new_vocab_path)
    dict_path = os.path.join(os.path.dirname(os.path.abspath(args.new_model_path)), "dict.txt")
    if os.path.isfile(dict_path) and read_vocab(dict_path)[0] != new_dictionary.symbols:
        raise InputError(dict_path, "exists and holds another vocabulary; write the adapted model to another folder")
    if os.path.abspath(args.new_model_path) == os.path.abspath(args.old_model_path):
        raise InputError(args.new_model_path, "is the old model; choose another --new-model-path")

    model = adapt(tool, new_dictionary, args.seed)
    cfg = tool.cfg
    if "vocab" in cfg.task:  # uer_classification reads its vocabulary from the task
        with open_dict(cfg.task):
            cfg.task.vocab = os.path.abspath(args.new_vocab_path)
    history = tool.state.get("optimizer_history") or [{}]
    save_checkpoint(args.new_model_path, cfg, model, history[-1].get("criterion_name", "MaskedLmLoss"))
    new_dictionary.save(dict_path)
    shared = sum(t in tool.dictionary.indices for t in new_dictionary.symbols)
    print(f"{len(tool.dictionary)} -> {len(new_dictionary)} tokens: {shared} kept their rows, "
          f"{len(new_dictionary) - shared} new (random rows); adapted {', '.join(tool.vocab_indexed_entries())}; "
          f"wrote {args.new_model_path} and {dict_path}", file=sys.stderr)
    return model


if __name__ == "__main__":
    run_cli(main)
