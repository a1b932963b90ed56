"""Training a part of a model: freeze every parameter a rule does not keep.

fairseq's trainer gives the optimizer only parameters with ``requires_grad``, so freezing
before training is all it takes (LUKE's stage 1, BLINK's ``--type-optimization``). A tied
tensor is named once, by its first owner, so a rule sees the name of that owner only.
"""
import logging
from typing import Callable

from torch import nn

from ..errors import InputError

logger = logging.getLogger(__name__)


def freeze_all_but(model: nn.Module, keep: Callable[[str], bool], what: str, field: str) -> int:
    """Freeze the parameters whose name ``keep`` rejects; return the number of parameters left trained.

    ``what`` says in the log which part trains; an empty selection is an error on ``field``."""
    trained = frozen = 0
    for name, parameter in model.named_parameters():
        if keep(name):
            trained += parameter.numel()
        else:
            parameter.requires_grad_(False)
            frozen += parameter.numel()
    if not trained:
        raise InputError(None, f"{what}: no parameter of this model is selected for training", field=field)
    logger.info("trainable: %d parameters (%s), %d frozen", trained, what, frozen)
    return trained
