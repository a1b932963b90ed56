"""Modern-stack compatibility shims, in one place. Importing the package applies them.

torch >= 2.6 loads with ``weights_only=True`` by default, and fairseq 0.12 calls
``torch.load`` without saying otherwise, so resuming, ``--restore-file``,
``load_model_ensemble`` and checkpoint averaging fail on the first non-tensor
object in a checkpoint. We allow-list, with ``torch.serialization.add_safe_globals``,
exactly the objects found in what our training writes and loads:

* Checkpoint files (``checkpoint_utils.load_checkpoint_to_cpu``):
  ``argparse.Namespace`` (``cfg["model"]`` of every model configured by
  ``add_args``, roberta included; ``args`` of older checkpoints), and numpy
  scalars and arrays with the dtypes they name: a value a criterion or task logs
  as numpy lands in the meters of ``extra_state["metrics"]``, and a numpy
  validation metric becomes ``extra_state["best"]`` (fairseq issue #5603). Only
  bool and numeric dtypes: an object array would need arbitrary globals.
* Resuming a distributed run: rank 0 loads the checkpoint and sends it to the
  other ranks through ``torch.save``/``torch.load`` (``distributed.utils.broadcast_object``).
  By then ``cfg`` is an OmegaConf ``DictConfig`` and tensors are replaced by
  fairseq's ``_TensorPlaceholder``, so the receiving ranks also need the
  OmegaConf containers, their metadata and ``AnyNode``, and the plain types that
  metadata names (``typing.Any``, ``dict``, ``list``, ``int``, ``defaultdict``).

Every other global keeps the weights-only check, so a pickle that calls e.g.
``os.system`` is still refused. The alternatives were rejected because they drop
that check for every file the process loads: ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``
restores full pickle (arbitrary code execution) for any ``torch.load`` that does
not pass ``weights_only``, and each user would have to set it in each shell;
monkeypatching ``torch.load`` to pass ``weights_only=False`` does the same, hidden
inside a third-party function.

``--bf16`` on CPUs and GPUs: see :func:`train_cli_main`.
"""
import argparse
import collections
import importlib.util
import logging
import typing

import numpy as np
import torch
from fairseq import options
from fairseq.dataclass.utils import convert_namespace_to_omegaconf
from fairseq.distributed import utils as distributed_utils
from fairseq.distributed.utils import _TensorPlaceholder
from omegaconf import DictConfig, ListConfig
from omegaconf.base import ContainerMetadata, Metadata
from omegaconf.nodes import AnyNode

_NUMPY_FUNCTIONS = [np._core.multiarray.scalar, np._core.multiarray._reconstruct]
_NUMPY_TYPES = [np.ndarray, np.dtype] + [
    type(np.dtype(code)) for code in "?" + np.typecodes["AllInteger"] + np.typecodes["AllFloat"]
]

CHECKPOINT_GLOBALS = [
    argparse.Namespace,
    *_NUMPY_FUNCTIONS,
    *_NUMPY_TYPES,
    # numpy < 2 pickled these functions under numpy.core (older fairseq checkpoints).
    *((fn, f"numpy.core.multiarray.{fn.__name__}") for fn in _NUMPY_FUNCTIONS),
]
BROADCAST_GLOBALS = [
    DictConfig, ListConfig, ContainerMetadata, Metadata, AnyNode, _TensorPlaceholder,
    typing.Any, dict, list, int, collections.defaultdict,
]

logger = logging.getLogger(__name__)

torch.serialization.add_safe_globals(CHECKPOINT_GLOBALS + BROADCAST_GLOBALS)


def parse_training_args(input_args=None):
    """fairseq-train's arguments, with ``--bf16`` meaning bf16 on the chosen device when torch_xla is absent.

    fairseq 0.12's ``options.parse_args_and_arch`` sets ``tpu=True`` whenever ``--bf16`` is given,
    so without torch_xla the trainer dies on ``xla_device`` (``--cpu --bf16``, or ``--bf16`` on a
    GPU). The setting happens after every hook (``modify_parser``, ``--user-dir`` import), so it
    can only be undone on the parsed namespace. With tpu off, fairseq's own bf16 path runs: model
    and criterion cast to bfloat16, float inputs cast too, FP16Optimizer keeping fp32 master
    weights (no loss scaling). With torch_xla installed, fairseq's TPU behaviour is kept.

    It also adds ``--resume-fallback`` (see :mod:`fairseq_plugins.checkpoint_io`).
    """
    parser = options.get_training_parser()
    parser.add_argument("--resume-fallback", action="store_true",
                        help="when checkpoint_last.pt (or --restore-file) is truncated or corrupt, resume from "
                             "the newest readable checkpoint in --save-dir instead of stopping")
    args = options.parse_args_and_arch(parser, input_args=input_args)
    if args.resume_fallback:
        from .checkpoint_io import resume_fallback

        fallback = resume_fallback(args.save_dir, args.restore_file)
        if fallback is not None:
            args.restore_file = fallback
    if args.bf16 and importlib.util.find_spec("torch_xla") is None:
        args.tpu = False
    return args


def train_cli_main(input_args=None):
    """``fairseq_cli.train.cli_main`` on :func:`parse_training_args`: one entry for every train launcher.

    Its other steps are fairseq's, line for line (plasma store, ``--profile``), so flags behave as
    under ``fairseq-train``.
    """
    from fairseq_cli.train import main  # imported here: importing fairseq_cli.train configures logging

    args = parse_training_args(input_args)
    cfg = convert_namespace_to_omegaconf(args)
    if cfg.common.use_plasma_view:
        from fairseq.data.plasma_utils import PlasmaStore

        server = PlasmaStore(path=cfg.common.plasma_path)
        logger.info(f"Started plasma server pid {server.server.pid} {cfg.common.plasma_path}")
    if args.profile:
        with torch.cuda.profiler.profile(), torch.autograd.profiler.emit_nvtx():
            distributed_utils.call_main(cfg, main)
    else:
        distributed_utils.call_main(cfg, main)
