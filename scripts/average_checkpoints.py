#!/usr/bin/env python
"""Average the model weights of several fairseq checkpoints into one.

fairseq's ``scripts/average_checkpoints.py`` is not installed with fairseq (the
fairseq-fixed wheel has neither ``scripts/`` nor an entry point for it, and its
averaging function lives in that script), so this is a stand-in with the same flags::

    python scripts/average_checkpoints.py --inputs CKPT_DIR --num-epoch-checkpoints 5 --output avg.pt
    python scripts/average_checkpoints.py --inputs a.pt b.pt --output avg.pt

The ``model`` tensors are averaged as fairseq does (integer tensors by floor
division), summing in at least float32 and casting back to each tensor's dtype
(fairseq leaves fp16 weights as fp32); every other field
(cfg, optimizer and training state) is copied from the newest input, the one with
the most updates. Loading goes through ``torch.load(weights_only=True)`` with the
allow-list of ``fairseq_plugins.compat``.
"""
import argparse
import re
from pathlib import Path

import torch

import fairseq_plugins  # noqa: F401  (allow-lists what fairseq checkpoints contain)


def _num_updates(state):
    history = state.get("optimizer_history") or [{}]
    return history[-1].get("num_updates", 0)


def _sum_dtype(tensor):
    return torch.promote_types(tensor.dtype, torch.float32) if tensor.is_floating_point() else tensor.dtype


def average_checkpoints(paths):
    """Return the newest checkpoint of ``paths`` with its ``model`` replaced by the mean."""
    newest, sums = None, None
    for path in paths:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model = state["model"]
        if sums is None:
            # copy=True: tied weights share storage, and must not be summed twice.
            sums = {k: v.to(_sum_dtype(v), copy=True) for k, v in model.items()}
        elif list(model) != list(sums):
            raise KeyError(f"{path}: parameter names differ from those of {paths[0]}")
        else:
            for k, v in model.items():
                sums[k] += v
        if newest is None or _num_updates(state) > _num_updates(newest):
            newest = state
    n = len(paths)
    newest["model"] = {
        k: (v / n if v.is_floating_point() else v // n).to(newest["model"][k].dtype)
        for k, v in sums.items()
    }
    return newest


def last_checkpoints(directory, n, update_based, upper_bound=None):
    """The ``n`` latest ``checkpointEPOCH.pt`` (or ``checkpoint_EPOCH_UPDATE.pt``) files, newest first."""
    pattern = re.compile(r"checkpoint_\d+_(\d+)\.pt" if update_based else r"checkpoint(\d+)\.pt")
    found = sorted(
        ((int(m.group(1)), path) for path in Path(directory).iterdir()
         if (m := pattern.fullmatch(path.name))
         and (upper_bound is None or int(m.group(1)) <= upper_bound)),
        reverse=True,
    )
    if len(found) < n:
        raise SystemExit(f"found {len(found)} checkpoints in {directory}, need {n}")
    return [path for _, path in found[:n]]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", required=True, nargs="+",
                        help="checkpoint files, or one directory with --num-*-checkpoints")
    parser.add_argument("--output", required=True, help="where to write the averaged checkpoint")
    num = parser.add_mutually_exclusive_group()
    num.add_argument("--num-epoch-checkpoints", type=int,
                     help="average the last N checkpointEPOCH.pt files of the --inputs directory")
    num.add_argument("--num-update-checkpoints", type=int,
                     help="average the last N checkpoint_EPOCH_UPDATE.pt files of the --inputs directory")
    parser.add_argument("--checkpoint-upper-bound", type=int,
                        help="with --num-*-checkpoints: ignore checkpoints after this epoch/update")
    args = parser.parse_args(argv)

    n = args.num_update_checkpoints or args.num_epoch_checkpoints
    if n is None:
        if args.checkpoint_upper_bound is not None:
            parser.error("--checkpoint-upper-bound needs --num-epoch-checkpoints or --num-update-checkpoints")
        inputs = args.inputs
    elif len(args.inputs) != 1:
        parser.error("--num-*-checkpoints takes one directory as --inputs")
    else:
        inputs = last_checkpoints(args.inputs[0], n, args.num_update_checkpoints is not None,
                                  args.checkpoint_upper_bound)
    print("averaging", *inputs)
    torch.save(average_checkpoints(inputs), args.output)
    print("wrote", args.output)


if __name__ == "__main__":
    main()
