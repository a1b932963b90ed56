"""DBQA (NLPCC document-based QA) as UER-py's ``run_dbqa.py`` reads it: ``label\\tqid\\ttext_a\\ttext_b``.

Each row pairs a question (``text_a``) with one sentence of its document (``text_b``); label 1 marks a
sentence that answers it. Rows are classified as pairs; ranking metrics (MRR, MAP) need every candidate
of a question at once, so batches hold whole questions (a question is never split across batches).
"""
import logging
from typing import Dict, List, Sequence

import numpy as np
import torch

from ..errors import InputError
from .uer_classification import TsvRow, UerClassificationDataset, check_labels, encode_examples, \
    read_classification_tsv

__all__ = ["read_dbqa_tsv", "encode_dbqa", "DbqaDataset"]

logger = logging.getLogger(__name__)


def read_dbqa_tsv(path, labels_required: bool = True) -> List[TsvRow]:
    """Rows with ``qid``, ``text_a`` and ``text_b`` (and ``label`` for training/evaluation), labels 0 or 1."""
    rows = read_classification_tsv(path, labels_required, extra_columns=("qid",))
    for row in rows:
        if row.text_b is None:
            raise InputError(path, "DBQA rows are question/sentence pairs: the header needs a text_b column",
                             line=1, field="text_b")
        if not row.qid:
            raise InputError(path, "empty question id", line=row.line, field="qid")
    check_labels(rows, 2, path)
    return rows


def encode_dbqa(rows: Sequence[TsvRow], tokenizer, seq_length: int, name: str):
    """Examples whose ``group`` numbers the question (in order of first appearance); also the qids."""
    examples = encode_examples(rows, tokenizer, seq_length, name)
    numbers: Dict[str, int] = {}
    for row, example in zip(rows, examples):
        example.group = numbers.setdefault(row.qid, len(numbers))
    logger.info("%s: %d questions", name, len(numbers))
    return examples, list(numbers)


class DbqaDataset(UerClassificationDataset):
    """Batches of whole questions within ``--batch-size`` rows and ``--max-tokens`` (padded, as fairseq counts:
    rows x longest row); a question over either limit alone gets a batch of its own, and is counted."""

    oversized_questions = 0  # questions of the last batch_by_size over a limit

    def batch_by_size(self, indices, max_tokens=None, max_sentences=None, required_batch_size_multiple=1):
        by_question: Dict[int, List[int]] = {}
        for i in indices:  # keeps fairseq's order (by length) within and across questions
            by_question.setdefault(int(self.groups[i]), []).append(int(i))
        rows_limit, tokens_limit = max_sentences or len(self), max_tokens or float("inf")
        batches, current, width, self.oversized_questions = [], [], 0, 0
        for question in by_question.values():
            longest = int(self.sizes[question].max())
            rows, wider = len(current) + len(question), max(width, longest)
            if current and (rows > rows_limit or rows * wider > tokens_limit):
                batches.append(np.array(current, dtype=np.int64))
                current, width = [], 0
            if len(question) > rows_limit or len(question) * longest > tokens_limit:
                self.oversized_questions += 1
            current += question
            width = max(width, longest)
        if current:
            batches.append(np.array(current, dtype=np.int64))
        if self.oversized_questions:
            logger.warning("%d questions exceed --batch-size %s or --max-tokens %s alone: each is a batch of its own "
                           "(a question's candidates are never split, since MRR and MAP need them together)",
                           self.oversized_questions, max_sentences, max_tokens)
        return batches

    def collater(self, indices):
        sample = super().collater(indices)
        if sample:
            sample["question"] = torch.tensor([self.examples[i].group for i in indices])
        return sample
