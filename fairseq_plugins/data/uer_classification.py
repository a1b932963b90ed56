"""UER-py's classification tsv (``label\\ttext_a[\\ttext_b][\\tlogits]`` with a header row) and its inputs.

Columns are found by their header name, as in UER's ``run_classifier.py``. A sentence becomes
``[CLS] a [SEP]`` with segment ids 1; a pair ``[CLS] a [SEP] b [SEP]`` with segment ids 1 for
``[CLS] a [SEP]`` and 2 for ``b [SEP]`` (0 is padding, as the ``uer`` model's segment embedding
expects). Like UER, a sequence longer than ``seq_length`` is cut at the end; the cuts are counted.
DBQA files add a ``qid`` column (``extra_columns``); the same reader serves them.
"""
import logging
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np
import torch
from fairseq.data import data_utils

from ..errors import InputError
from .example_dataset import ExampleDataset
from .text_files import text_lines

__all__ = ["COLUMNS", "TEXT_COLUMNS", "TsvRow", "ClassificationExample", "read_classification_tsv",
           "text_columns", "check_labels", "encode_examples", "encode_pair", "UerClassificationDataset"]

logger = logging.getLogger(__name__)

COLUMNS = ("label", "text_a", "text_b", "logits")
TEXT_COLUMNS = ("text_a", "text_b")


@dataclass
class TsvRow:
    line: int
    text_a: str
    text_b: Optional[str] = None
    label: Optional[int] = None
    logits: Optional[List[float]] = None  # a teacher's logits, for distillation
    qid: Optional[str] = None  # DBQA: the question a candidate sentence answers


@dataclass
class ClassificationExample:
    tokens: List[int]
    segments: List[int]
    label: Optional[int] = None
    logits: Optional[List[float]] = None
    group: int = 0  # multi-task: the dataset; DBQA: the question


def read_classification_tsv(path, labels_required: bool = True, extra_columns: Sequence[str] = ()) -> List[TsvRow]:
    """Rows of a UER classification tsv; ``labels_required=False`` reads inference files (a label column,
    if present, is read and checked but not required). ``extra_columns`` are further required columns
    (DBQA's ``qid``), kept as strings."""
    allowed = COLUMNS + tuple(extra_columns)
    lines = [line.split("\t") for _, line in text_lines(path, "tsv file")]
    if not lines or not any(lines[0]):
        raise InputError(path, f"empty file: expected a header row naming the columns ({', '.join(allowed)})", line=1)
    header = [name.strip() for name in lines[0]]
    for name in header:
        if name not in allowed:
            raise InputError(path, f"unknown column {name!r} in the header; expected {', '.join(allowed)} "
                                   "(is the header row missing?)", line=1, field=name)
        if header.count(name) > 1:
            raise InputError(path, f"column {name!r} appears twice in the header", line=1, field=name)
    needed = ("label", "text_a") if labels_required else ("text_a",)
    for name in needed + tuple(extra_columns):
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
        if "qid" in column:
            row.qid = cells[column["qid"]].strip()
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


def text_columns(rows: Sequence[TsvRow]) -> List[str]:
    """The text columns a file had (``["text_a"]`` or ``["text_a", "text_b"]``), kept with a checkpoint so that
    inference files can be checked against training."""
    return ["text_a", "text_b"] if rows and rows[0].text_b is not None else ["text_a"]


def check_labels(rows: Sequence[TsvRow], labels_num: int, path):
    """Every label is in ``0..labels_num-1`` and every logits row has ``labels_num`` values."""
    for row in rows:
        if row.label is not None and not 0 <= row.label < labels_num:
            raise InputError(path, f"label {row.label} is outside 0..{labels_num - 1}", line=row.line, field="label")
        if row.logits is not None and len(row.logits) != labels_num:
            raise InputError(path, f"{len(row.logits)} logits for {labels_num} labels", line=row.line,
                             field="logits")


def encode_pair(ids_a: Sequence[int], ids_b: Optional[Sequence[int]], cls: int, sep: int, seq_length: int):
    """``(tokens, segments, cut)`` of ``[CLS] a [SEP] (b [SEP])`` cut to ``seq_length``, UER's layout."""
    tokens = [cls, *ids_a, sep]
    segments = [1] * len(tokens)
    if ids_b is not None:
        tokens += [*ids_b, sep]
        segments += [2] * (len(ids_b) + 1)
    cut = len(tokens) > seq_length
    return tokens[:seq_length], segments[:seq_length], cut


def encode_examples(rows: Sequence[TsvRow], tokenizer, seq_length: int, name: str,
                    group: int = 0) -> List[ClassificationExample]:
    """Token and segment ids of each row, UER's way (see the module docstring)."""
    dictionary = tokenizer.dictionary
    ids_a = tokenizer.encode_batch([row.text_a for row in rows])
    pairs = [i for i, row in enumerate(rows) if row.text_b is not None]
    ids_b = dict(zip(pairs, tokenizer.encode_batch([rows[i].text_b for i in pairs])))
    examples, truncated = [], 0
    for i, row in enumerate(rows):
        tokens, segments, cut = encode_pair(ids_a[i], ids_b.get(i), dictionary.bos(), dictionary.eos(), seq_length)
        truncated += cut
        examples.append(ClassificationExample(tokens, segments, row.label, row.logits, group))
    logger.info("%s: %d examples (%d pairs), %d cut to --seq-length %d", name, len(examples), len(pairs),
                truncated, seq_length)
    return examples


class UerClassificationDataset(ExampleDataset):
    """Batches of ``src_tokens`` and ``segment_labels`` (the ``uer`` model's inputs), labels when known and the
    teacher's logits (``soft_target``) when every example has them.

    With several ``group_names`` (multi-task), every batch holds examples of one data set only, since each has
    its own head: the batch's ``dataset_id`` goes to the model and its name to the criterion's metrics."""

    def __init__(self, examples, pad: int, group_names: Sequence[str] = ("",)):
        super().__init__(examples, pad)
        self.group_names = list(group_names)
        self.groups = np.array([x.group for x in examples], dtype=np.int64)

    def batch_by_size(self, indices, max_tokens=None, max_sentences=None, required_batch_size_multiple=1):
        if len(self.group_names) == 1:
            return super().batch_by_size(indices, max_tokens, max_sentences, required_batch_size_multiple)
        indices = np.asarray(indices, dtype=np.int64)
        batches = []
        for group in range(len(self.group_names)):
            batches += list(super().batch_by_size(indices[self.groups[indices] == group], max_tokens,
                                                  max_sentences, required_batch_size_multiple))
        return batches

    def collater(self, indices):
        if len(indices) == 0:
            return {}
        examples = [self.examples[i] for i in indices]
        sample = _collate(examples, self.pad)
        sample["id"] = torch.tensor(indices)
        if len(self.group_names) > 1:
            group = examples[0].group
            if any(x.group != group for x in examples):
                raise ValueError("a multi-task batch mixes data sets; batches must come from batch_by_size")
            sample["net_input"]["dataset_id"] = group
            sample["dataset_name"] = self.group_names[group]
        return sample


def _collate(examples, pad: int) -> dict:
    tokens = data_utils.collate_tokens([torch.tensor(x.tokens) for x in examples], pad)
    segments = data_utils.collate_tokens([torch.tensor(x.segments) for x in examples], 0)
    sample = {
        "nsentences": len(examples),
        "ntokens": sum(len(x.tokens) for x in examples),
        "net_input": {"src_tokens": tokens, "segment_labels": segments},
    }
    if all(x.label is not None for x in examples):
        sample["target"] = torch.tensor([x.label for x in examples])
    if all(x.logits is not None for x in examples):
        sample["soft_target"] = torch.tensor([x.logits for x in examples], dtype=torch.float)
    return sample
