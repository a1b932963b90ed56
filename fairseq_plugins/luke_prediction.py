"""What LUKE's evaluate/predict commands share: loading a checkpoint for prediction, batching a dataset
through it, and printing metric tables (the seed's ``--no-train --checkpoint-file``)."""
import argparse
from typing import Iterator, List, Sequence, Tuple

import torch

from .conversion.fairseq_checkpoint import load_checkpoint


def add_checkpoint_args(parser: argparse.ArgumentParser, folders: Sequence[str] = ("data", "vocab_dir")) -> None:
    parser.add_argument("--checkpoint", required=True, help="a fairseq checkpoint (trained, or converted from "
                                                            "Hugging Face)")
    if "data" in folders:
        parser.add_argument("--data", help="override the data folder stored in the checkpoint")
    if "vocab_dir" in folders:
        parser.add_argument("--vocab-dir", help="override the vocabulary folder stored in the checkpoint")
    parser.add_argument("--batch-size", type=int, default=8)


def load_for_prediction(args: argparse.Namespace):
    """(task, model in eval mode) from ``--checkpoint`` with the ``--data`` / ``--vocab-dir`` overrides."""
    overrides = {k: v for k, v in (("data", getattr(args, "data", None)),
                                   ("vocab_dir", getattr(args, "vocab_dir", None))) if v}
    _, task, model = load_checkpoint(args.checkpoint, arg_overrides=overrides)
    return task, model.eval()


def batches(dataset, batch_size: int, indices=None) -> Iterator[dict]:
    """Collated batches of ``dataset`` in index order, under ``torch.no_grad``."""
    indices = list(range(len(dataset))) if indices is None else list(indices)
    with torch.no_grad():
        for i in range(0, len(indices), batch_size):
            yield dataset.collater([dataset[j] for j in indices[i:i + batch_size]])


def format_table(header: Sequence[str], rows: List[Tuple]) -> str:
    """A fixed-width table: the first column left-aligned, numbers right-aligned (floats with 2 decimals)."""
    cells = [[str(h) for h in header]] + [[f"{c:.2f}" if isinstance(c, float) else f"{c:,}" if isinstance(c, int)
                                           else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)
