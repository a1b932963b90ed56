#!/usr/bin/env python
"""Check a checkpoint, as UER-py's ``scripts/check_model.py``: load it, list its tensors, run it once.

    python scripts/check_model.py --load-model-path checkpoints/checkpoint_best.pt [--vocab-path vocab.txt]

Prints the model (family, encoder, target), the vocabulary it pairs with, the training progress stored in
the checkpoint, one row per tensor (name, shape, dtype, count; tied tensors point at their first name), the
number of distinct parameters, tensors holding NaN or inf, and whether a forward pass on a short input
gives finite values. Exits with status 1 when something is wrong.
"""
import argparse
import sys

import torch

from fairseq_plugins.tool_model import add_model_args, model_from_args, run_cli, state_dict_summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_args(parser, tokenizer=False)
    parser.add_argument("--quiet", action="store_true", help="no per-tensor table")
    args = parser.parse_args(argv)
    tool = model_from_args(args)

    history = tool.state.get("optimizer_history") or [{}]
    extra = tool.state.get("extra_state") or {}
    print(f"checkpoint: {tool.path}")
    print(f"model: {tool.describe()}")
    print(f"vocabulary: {tool.vocab_path} ({len(tool.dictionary)} entries)")
    epoch = (extra.get("train_iterator") or {}).get("epoch", "-")
    print(f"training: {history[-1].get('num_updates', 0)} updates, epoch {epoch}, "
          f"optimizer {history[-1].get('optimizer_name', '-')}")
    rows, total = state_dict_summary(tool.model)
    if not args.quiet:
        print("\n| tensor | shape | dtype | count |\n|---|---|---|---:|")
        for name, shape, dtype, count, tied in rows:
            print(f"| {name} | {'x'.join(map(str, shape)) or 'scalar'} | {dtype} | "
                  f"{f'tied to {tied}' if tied else f'{count:,}'} |")
    print(f"\nparameters: {total:,} ({len(rows)} tensors)")

    bad = [name for name, value in tool.model.state_dict().items()
           if value.is_floating_point() and not torch.isfinite(value).all()]
    d = tool.dictionary
    tokens, segments = tool.collate([[d.bos(), d.unk(), d.unk(), d.eos()]])
    finite = bool(torch.isfinite(tool.hidden_states(tokens, segments)).all())
    print(f"non-finite tensors: {', '.join(bad) if bad else 'none'}")
    print(f"forward pass on a 4-token input: {'finite' if finite else 'NOT FINITE'}")
    ok = finite and not bad
    print("OK" if ok else "PROBLEMS FOUND")
    return ok


if __name__ == "__main__":
    sys.exit(0 if run_cli(main) else 1)
