"""Reader windows as fairseq datasets: padded tokens and token types, answer-type and span targets.

One collater serves every ``[CLS] question [SEP] passage [SEP]`` reader: SQuAD-format windows
(:class:`~fairseq_plugins.data.squad_windows.QaWindow`) and NQ candidates
(:class:`~fairseq_plugins.data.nq_inputs.NqInstance`) both carry ``tokens``, ``segment_start``,
``answer_type``, ``start`` and ``end``. Training batches windows (:class:`QaWindowDataset`);
validation batches whole questions (:class:`QaQuestionDataset`), so that every batch can be
decoded into answers and scored with the official metric on its own (and summed across workers).
``token_types=False`` leaves the token types out (RoBERTa-family encoders have one type).
"""
from typing import Sequence

import numpy as np
import torch
from fairseq.data import data_utils

from .example_dataset import ExampleDataset

__all__ = ["collate_windows", "QaWindowDataset", "QaQuestionDataset"]


def collate_windows(windows: Sequence, pad: int, token_types: bool = True) -> dict:
    """``net_input`` (tokens; token type 1 from ``segment_start``, 0 before and on padding, unless
    ``token_types`` is False) and targets."""
    tokens = data_utils.collate_tokens([torch.as_tensor(x.tokens) for x in windows], pad)
    net_input = {"src_tokens": tokens}
    if token_types:
        positions = torch.arange(tokens.size(1))
        segment_starts = torch.tensor([x.segment_start for x in windows])
        net_input["segment_labels"] = (positions[None] >= segment_starts[:, None]).long() * tokens.ne(pad).long()
    return {
        "nsentences": len(windows),
        "ntokens": int(sum(len(x.tokens) for x in windows)),
        "net_input": net_input,
        "target": {"answer_type": torch.tensor([x.answer_type for x in windows]),
                   "start": torch.tensor([x.start for x in windows]),
                   "end": torch.tensor([x.end for x in windows])},
    }


class QaWindowDataset(ExampleDataset):
    """One item per window."""

    def __init__(self, windows: Sequence, pad: int, token_types: bool = True):
        super().__init__(windows, pad)
        self.token_types = token_types

    def collater(self, samples):
        if not samples:
            return {}
        return {"id": torch.tensor(samples, dtype=torch.long),
                **collate_windows([self.examples[i] for i in samples], self.pad, self.token_types)}


class _Question:
    def __init__(self, windows):
        self.windows = windows
        self.tokens = max((w.tokens for w in windows), key=len)  # the batch sizer's length


class QaQuestionDataset(ExampleDataset):
    """One item per question: all its windows, in order.

    Batches also carry ``qa``: ``(question, [its windows])`` per question, the question being
    ``questions[i]`` (a :class:`~fairseq_plugins.data.squad_format.SquadExample`), so that a
    validation step can decode and score them; model rows follow the same order."""

    def __init__(self, windows: Sequence, questions: Sequence, pad: int, token_types: bool = True):
        groups = [[] for _ in range(len(questions))]
        for window in windows:
            groups[window.example].append(window)
        empty = [q for q, g in enumerate(groups) if not g]
        if empty:
            raise ValueError(f"questions {empty[:5]} have no window")
        self.questions = questions
        self.token_types = token_types
        super().__init__([_Question(g) for g in groups], pad)
        self._tokens = np.array([sum(len(w.tokens) for w in q.windows) for q in self.examples], dtype=np.int64)

    def num_tokens(self, index):
        return int(self._tokens[index])

    def collater(self, samples):
        if not samples:
            return {}
        windows = [w for q in samples for w in self.examples[q].windows]
        return {"id": torch.tensor(samples, dtype=torch.long),
                "qa": [(self.questions[q], self.examples[q].windows) for q in samples],
                **collate_windows(windows, self.pad, self.token_types)}
