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
"""
import argparse
import collections
import typing

import numpy as np
import torch
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

torch.serialization.add_safe_globals(CHECKPOINT_GLOBALS + BROADCAST_GLOBALS)
