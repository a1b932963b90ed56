"""Writing and reading fairseq checkpoints outside the trainer (for converters).

A converted checkpoint carries a complete fairseq config (so ``load_model_ensemble`` and
``from_pretrained`` rebuild the model) and a one-entry optimizer history with no optimizer
state, so ``fairseq-train --restore-file`` starts from it at update 0 with a fresh
optimizer, and ``--finetune-from-model`` takes only its weights.
"""
from __future__ import annotations

import logging
import os
import pickle
import warnings
from typing import Iterable, List, Optional

import torch
from omegaconf import OmegaConf, open_dict

from ..errors import InputError

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build_cfg(data_dir: str, task: str, arch: str, criterion: str, model_fields: dict,
              extra_args: Iterable[str] = ()):
    """A full fairseq config, as ``fairseq-train`` would build it, with ``model_fields`` set."""
    from fairseq import options
    from fairseq.dataclass.utils import convert_namespace_to_omegaconf

    parser = options.get_training_parser()
    argv = [os.path.abspath(data_dir), "--user-dir", PACKAGE_DIR, "--task", task, "--arch", arch,
            "--criterion", criterion, *extra_args]
    # fairseq composes the config through Hydra, which is loud about its own deprecations.
    logging.getLogger("hydra").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        cfg = convert_namespace_to_omegaconf(options.parse_args_and_arch(parser, argv))
    with open_dict(cfg.model):
        for key, value in model_fields.items():
            cfg.model[key] = value
    return cfg


def model_flags(arch: str, fields: dict) -> List[str]:
    """The ``fairseq-train`` flags that rebuild this architecture, which ``--restore-file`` and
    ``--finetune-from-model`` need (fairseq builds the model from the command line, not the file)."""
    flags = ["--arch", arch]
    for key, value in fields.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        flags += [flag] if value is True else [flag, str(value)]
    return flags


def build_model(cfg):
    from fairseq import tasks

    task = tasks.setup_task(cfg.task)
    return task, task.build_model(cfg.model)


def save_checkpoint(path: str, cfg, model, criterion_name: str = "MaskedLmLoss") -> None:
    """Write ``model`` with ``cfg`` as a fairseq checkpoint (atomically: temp file, then rename)."""
    state = {
        "args": None,
        "cfg": OmegaConf.to_container(cfg, resolve=True, enum_to_str=True),
        "model": model.state_dict(),
        "criterion": None,
        "optimizer_history": [{"criterion_name": criterion_name, "optimizer_name": "converted",
                               "lr_scheduler_state": {"best": None}, "num_updates": 0}],
        "task_state": {},
        "extra_state": {},
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def read_checkpoint_state(path: str):
    """(the checkpoint's dict, its model's registered name) without building the model, so that exporters
    read checkpoints whose data folder is gone; a missing or unreadable file is an InputError."""
    from fairseq import checkpoint_utils
    from fairseq.models import ARCH_MODEL_NAME_REGISTRY

    if not os.path.isfile(path):
        raise InputError(path, "checkpoint not found")
    try:
        saved = checkpoint_utils.load_checkpoint_to_cpu(path)
    except Exception as e:  # pickle, torch and omegaconf raise many types for a foreign file
        raise InputError(path, f"not a readable fairseq checkpoint ({type(e).__name__}: {e})")
    cfg = saved.get("cfg") or {}
    model_cfg = cfg.get("model") if cfg else None
    name = model_cfg.get("_name") if model_cfg else None
    return saved, ARCH_MODEL_NAME_REGISTRY.get(name, name)


def load_checkpoint(path: str, arg_overrides: Optional[dict] = None):
    """(cfg, task, model) from a fairseq checkpoint; a missing or unreadable file is an InputError."""
    from fairseq import checkpoint_utils

    if not os.path.isfile(path):
        raise InputError(path, "checkpoint not found")
    try:
        models, cfg, task = checkpoint_utils.load_model_ensemble_and_task([path], arg_overrides=arg_overrides)
    except InputError:  # checkpoint_io's reading already names the file and says what is wrong
        raise
    except (pickle.UnpicklingError, RuntimeError, EOFError, KeyError, OSError, ValueError) as e:
        raise InputError(path, f"not a readable fairseq checkpoint ({type(e).__name__}: {e})")
    return cfg, task, models[0]
