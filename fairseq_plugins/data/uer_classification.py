"""UER-py's classification tsv (``label\\ttext_a[\\ttext_b][\\tlogits]`` with a header row) and its inputs.

Columns are found by their header name, as in UER's ``run_classifier.py``. A sentence becomes
``[CLS] a [SEP]`` with segment ids 1; a pair ``[CLS] a [SEP] b [SEP]`` with segment ids 1 for
``[CLS] a [SEP]`` and 2 for ``b [SEP]`` (0 is padding, as the ``uer`` model's segment embedding
expects). Like UER, a sequence longer than ``seq_length`` is cut at the end; the cuts are counted.
"""
import csv
import logging
from dataclasses import dataclass
from typing import List, Optional, Sequence

import torch
from fairseq.data import data_utils

from ..errors import InputError
from .example_dataset import ExampleDataset

__all__ = ["COLUMNS", "TsvRow", "ClassificationExample", "read_classification_tsv", "check_labels",
           "encode_examples", "UerClassificationDataset"]

logger = logging.getLogger(__name__)

COLUMNS = ("label", "text_a", "text_b", "logits")


@dataclass
class TsvRow:
    line: int
    text_a: str
    text_b: Optional[str] = None
    label: Optional[int] = None
    logits: Optional[List[float]] = None  # a teacher's logits, for distillation


@dataclass
class ClassificationExample:
    tokens: List[int]
    segments: List[int]
    label: Optional[int] = None


def read_classification_tsv(path, labels_required: bool = True) -> List[TsvRow]:
    """Rows of a UER classification tsv; ``labels_required=False`` reads inference files (a label column,
    if present, is read and checked but not required)."""
    with open(path, encoding="utf-8", newline="") as f:
        lines = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not lines or not any(lines[0]):
        raise InputError(path, "empty file: expected a header row naming the columns "
                               "(label, text_a, optional text_b and logits)", line=1)
    header = [name.strip() for name in lines[0]]
    for name in header:
        if name not in COLUMNS:
            raise InputError(path, f"unknown column {name!r} in the header; expected {', '.join(COLUMNS)} "
                                   "(is the header row missing?)", line=1, field=name)
        if header.count(name) > 1:
            raise InputError(path, f"column {name!r} appears twice in the header", line=1, field=name)
    needed = ("label", "text_a") if labels_required else ("text_a",)
    for name in needed:
        if name not in header:
            raise InputError(path, f"the header has no {name!r} column (header: {' '.join(header)})",
                             line=1, field=name)
    column = {name: i for i, name in enumerate(header)}
    rows = []
    for line_no, cells in enumerate(lines[1:], start=2):
        if len(cells) != len(header):
            raise InputError(path, f"expected {len(header)} tab-separated columns ({', '.join(header)}), "
                                   f"got {len(cells)}", line=line_no, field="columns")
        row = TsvRow(line_no, cells[column["text_a"]])
        if "text_b" in column:
            row.text_b = cells[column["text_b"]]
        if "label" in column:
            try:
                row.label = int(cells[column["label"]])
            except ValueError:
                raise InputError(path, f"label must be an integer 0..N-1, got {cells[column['label']]!r}",
                                 line=line_no, field="label") from None
        if "logits" in column:
            try:
                row.logits = [float(x) for x in cells[column["logits"]].split()]
            except ValueError:
                raise InputError(path, "logits must be space-separated numbers", line=line_no,
                                 field="logits") from None
        rows.append(row)
    return rows


def check_labels(rows: Sequence[TsvRow], labels_num: int, path):
    """Every label is in ``0..labels_num-1`` and every logits row has ``labels_num`` values."""
    for row in rows:
        if row.label is not None and not 0 <= row.label < labels_num:
            raise InputError(path, f"label {row.label} is outside 0..{labels_num - 1}", line=row.line, field="label")
        if row.logits is not None and len(row.logits) != labels_num:
            raise InputError(path, f"{len(row.logits)} logits for {labels_num} labels", line=row.line,
                             field="logits")


def encode_examples(rows: Sequence[TsvRow], tokenizer, seq_length: int, name: str) -> List[ClassificationExample]:
    """Token and segment ids of each row, UER's way (see the module docstring)."""
    dictionary = tokenizer.dictionary
    cls, sep = dictionary.bos(), dictionary.eos()
    ids_a = tokenizer.encode_batch([row.text_a for row in rows])
    pairs = [i for i, row in enumerate(rows) if row.text_b is not None]
    ids_b = dict(zip(pairs, tokenizer.encode_batch([rows[i].text_b for i in pairs])))
    examples, truncated = [], 0
    for i, row in enumerate(rows):
        tokens = [cls, *ids_a[i], sep]
        segments = [1] * len(tokens)
        if i in ids_b:
            tokens += [*ids_b[i], sep]
            segments += [2] * (len(ids_b[i]) + 1)
        if len(tokens) > seq_length:
            tokens, segments = tokens[:seq_length], segments[:seq_length]
            truncated += 1
        examples.append(ClassificationExample(tokens, segments, row.label))
    logger.info("%s: %d examples (%d pairs), %d cut to --seq-length %d", name, len(examples), len(pairs),
                truncated, seq_length)
    return examples


class UerClassificationDataset(ExampleDataset):
    """Batches of ``src_tokens`` and ``segment_labels`` (the ``uer`` model's inputs) and labels when known."""

    def collater(self, indices):
        if len(indices) == 0:
            return {}
        examples = [self.examples[i] for i in indices]
        tokens = data_utils.collate_tokens([torch.tensor(x.tokens) for x in examples], self.pad)
        segments = data_utils.collate_tokens([torch.tensor(x.segments) for x in examples], 0)
        sample = {
            "id": torch.tensor(indices),
            "nsentences": len(examples),
            "ntokens": sum(len(x.tokens) for x in examples),
            "net_input": {"src_tokens": tokens, "segment_labels": segments},
        }
        if all(x.label is not None for x in examples):
            sample["target"] = torch.tensor([x.label for x in examples])
        return sample
