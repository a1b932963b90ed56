"""Validating reader of SQuAD-format json: SQuAD v1.1, SQuAD v2.0 (``is_impossible``), CMRC 2018.

All three share ``{"data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question",
"answers": [{"text", "answer_start"}], "is_impossible"?}]}]}]}``. ``answer_start`` is a character
offset into ``context``; an answer whose text is not at that offset is an error (training on the
wrong span would be silent), as are a missing field, a repeated question id, an impossible
question with answers and an answerable one without. Errors name the file, the question id and
the json path of the field (json has no useful line numbers).

Inference files may carry placeholder answers (CMRC 2018's test set has ``FAKE_ANSWER_1`` at
``-1``): read them with ``answers="ignored"``.
"""
from dataclasses import dataclass, field
from typing import List, Optional

from ..errors import InputError
from .json_files import read_json_object

__all__ = ["SquadAnswer", "SquadExample", "read_squad", "is_squad_v2", "gold_answers"]

ANSWER_MODES = ("required", "ignored")


@dataclass
class SquadAnswer:
    text: str
    start: int  # character offset into the context

    @property
    def end(self) -> int:
        """Exclusive character end."""
        return self.start + len(self.text)


@dataclass
class SquadExample:
    qid: str
    question: str
    context: str
    answers: List[SquadAnswer] = field(default_factory=list)
    is_impossible: Optional[bool] = None  # None: the file has no such field (v1.1, CMRC)
    title: str = ""
    paragraph: int = 0  # index of the paragraph in the file: questions of one paragraph share its context
    where: str = ""  # json path, for messages


def _require(obj, key, kind, path, where, qid=None):
    if not isinstance(obj, dict):
        raise InputError(path, _msg("expected a JSON object", qid), field=where)
    if key not in obj:
        raise InputError(path, _msg("missing", qid), field=f"{where}.{key}")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise InputError(path, _msg(f"expected {names}, got {type(value).__name__}", qid), field=f"{where}.{key}")
    return value


def _msg(message: str, qid) -> str:
    return f"question {qid!r}: {message}" if qid is not None else message


def read_squad(path, answers: str = "required") -> List[SquadExample]:
    """Questions of a SQuAD-format file, in file order.

    ``answers="required"`` (training and evaluation files): every answer is checked against its
    context, and each question must be impossible (v2.0) or have at least one answer.
    ``answers="ignored"`` (inference files): answers are neither read nor checked.
    """
    if answers not in ANSWER_MODES:
        raise ValueError(f"answers must be one of {ANSWER_MODES}, got {answers!r}")
    root = read_json_object(path, "SQuAD-format json")
    articles = _require(root, "data", list, path, "$")
    examples, seen = [], {}
    paragraph_index = 0
    for a, article in enumerate(articles):
        where_a = f"data[{a}]"
        paragraphs = _require(article, "paragraphs", list, path, where_a)
        title = article.get("title", "") if isinstance(article, dict) else ""
        for p, paragraph in enumerate(paragraphs):
            where_p = f"{where_a}.paragraphs[{p}]"
            context = _require(paragraph, "context", str, path, where_p)
            for q, qa in enumerate(_require(paragraph, "qas", list, path, where_p)):
                where = f"{where_p}.qas[{q}]"
                qid = _require(qa, "id", (str, int), path, where)
                qid = str(qid)
                if qid in seen:
                    raise InputError(path, _msg(f"repeated id (first at {seen[qid]})", qid), field=f"{where}.id")
                seen[qid] = where
                question = _require(qa, "question", str, path, where, qid)
                impossible = qa.get("is_impossible")
                if impossible is not None and not isinstance(impossible, bool):
                    raise InputError(path, _msg(f"expected true/false, got {impossible!r}", qid),
                                     field=f"{where}.is_impossible")
                example = SquadExample(qid, question, context, [], impossible, str(title), paragraph_index, where)
                if answers == "required":
                    example.answers = _read_answers(qa, context, impossible, path, where, qid)
                examples.append(example)
            paragraph_index += 1
    return examples


def _read_answers(qa, context, impossible, path, where, qid) -> List[SquadAnswer]:
    raw = _require(qa, "answers", list, path, where, qid)
    out = []
    for i, answer in enumerate(raw):
        where_i = f"{where}.answers[{i}]"
        text = _require(answer, "text", str, path, where_i, qid)
        start = _require(answer, "answer_start", int, path, where_i, qid)
        if not text:
            raise InputError(path, _msg("empty answer text", qid), field=f"{where_i}.text")
        if context[start:start + len(text)] != text or start < 0:
            found = context.find(text)
            hint = f"; the text occurs at {found}" if found >= 0 else "; the text is not in the context"
            raise InputError(path, _msg(f"answer {text!r} is not at answer_start {start} of the context{hint}", qid),
                             field=f"{where_i}.answer_start")
        out.append(SquadAnswer(text, start))
    if impossible and out:
        raise InputError(path, _msg(f"is_impossible but {len(out)} answers", qid), field=f"{where}.answers")
    if not impossible and not out:
        hint = " (SQuAD v2.0 marks unanswerable questions with is_impossible: true)" if impossible is None else ""
        raise InputError(path, _msg(f"no answers{hint}", qid), field=f"{where}.answers")
    return out


def is_squad_v2(examples: List[SquadExample]) -> bool:
    """Whether the file uses SQuAD v2.0's ``is_impossible`` field."""
    return any(e.is_impossible is not None for e in examples)


def gold_answers(examples: List[SquadExample]):
    """``{qid: [answer texts]}`` for :mod:`fairseq_plugins.metrics.squad` (``[]`` for impossible questions)."""
    return {e.qid: [a.text for a in e.answers] for e in examples}
