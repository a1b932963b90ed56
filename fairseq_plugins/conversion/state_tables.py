"""Renaming state dicts by a table of our parameter name -> source name(s), both directions.

Every converter (Hugging Face BERT family, GPT-2, UER-py) is a table; one table drives import and
export, so a round trip is exact by construction. A table entry is
- a name;
- a tuple of names, concatenated along dim 0 on our side (separate query/key/value -> our fused
  ``in_proj``);
- ``Transposed(name)``: a weight the source stores as (in, out), as GPT-2's ``Conv1D`` does.
Imports check every tensor's shape against the model the configuration builds, so a config that
disagrees with a checkpoint is reported by parameter name with both shapes, not by torch's
``size mismatch`` deep inside ``load_state_dict``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Set, Tuple, Union

import torch

from ..errors import InputError


@dataclass(frozen=True)
class Transposed:
    """A source weight stored transposed (in, out)."""
    name: str


Source = Union[str, Tuple[str, ...], Transposed]


def source_names(entry: Source) -> Tuple[str, ...]:
    if isinstance(entry, Transposed):
        return (entry.name,)
    return entry if isinstance(entry, tuple) else (entry,)


def _expected_parts(entry: Source, shape: torch.Size) -> List[Tuple[int, ...]]:
    """The shape each source tensor of ``entry`` must have for our tensor to have ``shape``."""
    if isinstance(entry, Transposed):
        return [tuple(reversed(shape))]
    if isinstance(entry, tuple):
        return [(shape[0] // len(entry), *shape[1:])] * len(entry)
    return [tuple(shape)]


def import_state(
    source: Dict[str, torch.Tensor],
    names: Dict[str, Source],
    path,
    key: Callable[[str], str] = str,
    expected: Optional[Dict[str, torch.Tensor]] = None,
    optional: Callable[[str], bool] = lambda our: False,
) -> Tuple[Dict[str, torch.Tensor], List[str], Set[str]]:
    """(our state, our names absent from ``source``, source keys used).

    ``key`` turns a table name into the source key (e.g. adds a model prefix). A missing tensor is an
    InputError unless ``optional(our)``; the caller fills optional ones. With ``expected`` (the
    state dict of the model the configuration builds) every shape is checked first."""
    state: Dict[str, torch.Tensor] = {}
    missing: List[str] = []
    used: Set[str] = set()
    for our, entry in names.items():
        keys = [key(n) for n in source_names(entry)]
        used.update(keys)
        parts = [source.get(k) for k in keys]
        if any(p is None for p in parts):
            if optional(our):
                missing.append(our)
                continue
            absent = next(k for k, p in zip(keys, parts) if p is None)
            raise InputError(path, "tensor not found in the checkpoint", field=absent)
        if expected is not None and our in expected:
            for k, part, want in zip(keys, parts, _expected_parts(entry, expected[our].shape)):
                if tuple(part.shape) != want:
                    raise InputError(path, f"shape {tuple(part.shape)} in the checkpoint, but the configuration "
                                           f"gives {want} (for {our})", field=k)
        if isinstance(entry, Transposed):
            tensor = parts[0].t()
        elif isinstance(entry, tuple):
            tensor = torch.cat(parts, dim=0)
        else:
            tensor = parts[0]
        state[our] = tensor.detach().clone().contiguous()
    return state, missing, used


def export_state(state: Dict[str, torch.Tensor], names: Dict[str, Source],
                 key: Callable[[str], str] = str) -> Dict[str, torch.Tensor]:
    """Source-named tensors from our state dict (the inverse of :func:`import_state`)."""
    out = {}
    for our, entry in names.items():
        tensor = state[our]
        if isinstance(entry, Transposed):
            out[key(entry.name)] = tensor.t()
        elif isinstance(entry, tuple):
            for name, part in zip(entry, tensor.chunk(len(entry), dim=0)):
                out[key(name)] = part
        else:
            out[key(entry)] = tensor
    return {k: v.detach().clone().contiguous() for k, v in out.items()}


def fill_aliases(state: Dict[str, torch.Tensor], model_state: Dict[str, torch.Tensor]) -> List[str]:
    """Add the names under which a model exposes a parameter twice (a submodule registered in two
    places, tied weights), copying from the name the table filled. Returns the names still missing."""
    by_storage = {}
    for name, tensor in model_state.items():
        by_storage.setdefault((tensor.data_ptr(), tuple(tensor.shape)), []).append(name)
    still_missing = []
    for name, tensor in model_state.items():
        if name in state:
            continue
        twins = [n for n in by_storage[(tensor.data_ptr(), tuple(tensor.shape))] if n in state]
        if twins:
            state[name] = state[twins[0]]
        else:
            still_missing.append(name)
    return still_missing


def unused_keys(source: Iterable[str], used: Set[str], ignored_suffixes: Tuple[str, ...] = ()) -> List[str]:
    return sorted(k for k in source if k not in used and not k.endswith(ignored_suffixes))
