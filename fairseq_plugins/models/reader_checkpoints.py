"""Loading one or an ensemble of reader checkpoints (NQ reader, extractive QA) for prediction commands.

An ensemble averages the models' outputs window by window, so every checkpoint must build the
same windows: the same vocabulary size, ``max_length``, ``max_query_length``, ``doc_stride``,
pair layout and entity vocabulary size (checked when loading). Inputs are built by the first
checkpoint's task (for ``luke_squad``: its link database and redirects, unless overridden).
"""
import argparse
import os
from typing import Optional, Sequence, Tuple, Union

import torch
from fairseq import checkpoint_utils

from ..errors import InputError

__all__ = ["reader_arguments", "load_readers_for", "load_readers"]


def reader_arguments(description: str, output_help: str,
                     input_help: str = "simplified-NQ .jsonl / .jsonl.gz / .json rows",
                     uer_names: bool = False) -> argparse.ArgumentParser:
    """The flags that the predict and mining commands share; ``uer_names`` adds UER-py's inference names
    (``--load-model-path``, ``--test-path``, ``--prediction-path``) as aliases."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", *(["--load-model-path"] if uer_names else []), nargs="+", required=True)
    parser.add_argument("--weights", type=float, nargs="+", help="ensemble weights (default: equal)")
    parser.add_argument("--input", *(["--test-path"] if uer_names else []), nargs="+", required=True,
                        help=input_help)
    parser.add_argument("--output", *(["--prediction-path"] if uer_names else []), required=True, help=output_help)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--vocab", help="the vocabulary, if it moved since training (default: the training run's)")
    parser.add_argument("--cpu", action="store_true", help="run on CPU even when a GPU is present")
    return parser


TaskNames = Union[str, Tuple[str, ...], None]


def load_readers_for(args, task_name: TaskNames = None, overrides: Optional[dict] = None):
    """(models on their device, weights, task, device) for the parsed :func:`reader_arguments`;
    ``overrides``: more task settings to replace (None values are left out)."""
    weights = args.weights or [1.0] * len(args.checkpoint)
    if len(weights) != len(args.checkpoint):
        raise InputError(None, f"{len(weights)} weights for {len(args.checkpoint)} checkpoints", field="--weights")
    models, task = load_readers(args.checkpoint, args.vocab, task_name, overrides)
    device = "cuda" if torch.cuda.is_available() and not args.cpu else "cpu"
    return [m.to(device) for m in models], weights, task, device


def load_readers(checkpoints: Sequence[str], vocab: str = None, task_name: TaskNames = None,
                 overrides: Optional[dict] = None):
    """Models (in eval mode) and the task of the first checkpoint; all must build the same instances
    (and, given ``task_name``, one name or a tuple, have been trained with that task)."""
    names = (task_name,) if isinstance(task_name, str) else task_name
    overrides = {k: v for k, v in {"vocab": vocab, **(overrides or {})}.items() if v is not None}
    models, task, first_key = [], None, None
    for path in checkpoints:
        if not os.path.isfile(path):
            raise InputError(path, "checkpoint not found")
        (model,), cfg, this_task = checkpoint_utils.load_model_ensemble_and_task([path], arg_overrides=overrides)
        if names is not None and cfg.task._name not in names:
            raise InputError(path, f"was trained with the {cfg.task._name} task; this command reads "
                                   f"{' or '.join(names)} checkpoints")
        key = [cfg.task.get(k) for k in ("max_length", "max_query_length", "doc_stride")]
        key.append(len(this_task.source_dictionary))
        key.append(getattr(this_task, "roberta_layout", None))
        key.append(len(this_task.entity_vocab) if hasattr(this_task, "entity_vocab") else None)
        if task is None:
            task, first_key = this_task, key
        elif key != first_key:
            raise InputError(path, f"builds other instances (max length, query length, stride, vocabulary size, "
                                   f"RoBERTa layout, entity vocabulary size {key}) than {checkpoints[0]} "
                                   f"({first_key}); an ensemble needs the same")
        models.append(model.eval())
    return models, task
