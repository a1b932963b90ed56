"""C3 multiple-choice reading comprehension as UER-py's ``run_c3.py`` reads it.

The json is a list of documents ``[[sentence, ...], [{"question", "choice": [...], "answer"}, ...], doc_id]``.
Each question becomes ``max_choices_num`` sequences ``[CLS] choice [SEP] question [SEP] passage [SEP]``
(segment 1 up to the question's ``[SEP]``, 2 for the passage; the passage is the document's sentences
joined by newlines), cut to ``seq_length``; questions with fewer choices are padded with the choice
"No Answer", as in UER. Everything is lower-cased, as in UER. The label is the index of the choice equal
to the answer; an answer that is none of the choices is an error (UER would silently train on label 0).
"""
import json
import logging
from dataclasses import dataclass
from typing import List, Optional

import numpy as np
import torch
from fairseq.data import data_utils

from ..errors import InputError
from .example_dataset import ExampleDataset

__all__ = ["C3Question", "read_c3_json", "encode_c3", "C3Dataset", "PAD_CHOICE"]

logger = logging.getLogger(__name__)

PAD_CHOICE = "No Answer"


@dataclass
class C3Question:
    id: str  # the question's "id" when the file has one (C3's test set), else "<doc id>-<question number>"
    passage: str
    question: str
    choices: List[str]
    label: Optional[int] = None


@dataclass
class C3Example:
    tokens: List[List[int]]  # one sequence per choice
    segments: List[List[int]]
    label: Optional[int] = None


def read_c3_json(path, max_choices_num: int = 4, labels_required: bool = True) -> List[C3Question]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(path, f"malformed JSON ({e})") from None
    if not isinstance(data, list):
        raise InputError(path, f"expected a JSON list of documents, got {type(data).__name__}")
    questions, line = [], None  # errors name the document and question instead of a line
    for d, document in enumerate(data):
        where = f"document {d}"
        if not (isinstance(document, list) and len(document) >= 2 and isinstance(document[0], list)
                and isinstance(document[1], list)):
            raise InputError(path, f"{where}: expected [sentences, questions, id]", line=line, field="document")
        doc_id = str(document[2]) if len(document) > 2 else str(d)
        passage = "\n".join(document[0]).lower()
        for q, item in enumerate(document[1]):
            if not isinstance(item, dict):
                raise InputError(path, f"{where}, question {q}: expected an object", field="question")
            for key in ("question", "choice"):
                if key not in item:
                    raise InputError(path, f"{where}, question {q}: no {key!r}", line=line, field=key)
            choices = [str(c).lower() for c in item["choice"]]
            if not 1 <= len(choices) <= max_choices_num:
                raise InputError(path, f"{where}, question {q}: {len(choices)} choices, expected 1.."
                                       f"{max_choices_num} (--max-choices-num)", line=line, field="choice")
            label = None
            if "answer" in item:
                answer = str(item["answer"]).lower()
                if answer not in choices:
                    raise InputError(path, f"{where}, question {q}: the answer {item['answer']!r} is not one of "
                                           f"the choices {item['choice']}", line=line, field="answer")
                label = choices.index(answer)
            elif labels_required:
                raise InputError(path, f"{where}, question {q}: no 'answer'", line=line, field="answer")
            choices += [PAD_CHOICE.lower()] * (max_choices_num - len(choices))
            questions.append(C3Question(str(item.get("id", f"{doc_id}-{q}")), passage, item["question"].lower(),
                                        choices, label))
    return questions


def encode_c3(questions: List[C3Question], tokenizer, seq_length: int, name: str) -> List[C3Example]:
    dictionary = tokenizer.dictionary
    cls, sep = dictionary.bos(), dictionary.eos()
    passages = dict(zip({q.passage: None for q in questions},
                        tokenizer.encode_batch(list({q.passage: None for q in questions}))))
    question_ids = tokenizer.encode_batch([q.question for q in questions])
    choice_ids = tokenizer.encode_batch([c for q in questions for c in q.choices])
    examples, truncated, k = [], 0, 0
    for q, ids_q in zip(questions, question_ids):
        example = C3Example([], [], q.label)
        for _ in q.choices:
            first = [cls, *choice_ids[k], sep, *ids_q, sep]
            tokens = first + [*passages[q.passage], sep]
            segments = [1] * len(first) + [2] * (len(tokens) - len(first))
            truncated += len(tokens) > seq_length
            example.tokens.append(tokens[:seq_length])
            example.segments.append(segments[:seq_length])
            k += 1
        examples.append(example)
    logger.info("%s: %d questions, %d of %d sequences cut to --seq-length %d", name, len(examples), truncated,
                k, seq_length)
    return examples


class C3Dataset(ExampleDataset):
    """A batch of B questions is B x choices sequences, flattened to ``(B*choices) x T`` for the encoder;
    ``choices_num`` tells the criterion how to fold the scores back."""

    def __init__(self, examples: List[C3Example], pad: int):
        super().__init__(examples, pad)
        self.sizes = np.array([max(len(t) for t in x.tokens) for x in examples], dtype=np.int64)

    def num_tokens(self, index):
        return int(self.sizes[index]) * len(self.examples[index].tokens)

    def collater(self, indices):
        if len(indices) == 0:
            return {}
        examples = [self.examples[i] for i in indices]
        tokens = data_utils.collate_tokens([torch.tensor(t) for x in examples for t in x.tokens], self.pad)
        segments = data_utils.collate_tokens([torch.tensor(s) for x in examples for s in x.segments], 0)
        sample = {
            "id": torch.tensor(indices),
            "nsentences": len(examples),
            "ntokens": int(tokens.ne(self.pad).sum()),
            "choices_num": len(examples[0].tokens),
            "net_input": {"src_tokens": tokens, "segment_labels": segments},
        }
        if all(x.label is not None for x in examples):
            sample["target"] = torch.tensor([x.label for x in examples])
        return sample
