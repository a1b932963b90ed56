"""TACRED json (as LUKE reads it): a tokenized sentence, a subject and an object span, one relation.

A record has ``token`` (list of words), ``subj_start``/``subj_end`` and ``obj_start``/``obj_end``
(word indices, end inclusive) and ``relation`` (``no_relation`` for none). PTB bracket tokens
(``-LRB-`` ...) become the brackets, as LUKE does before tokenizing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple

from .json_files import read_json_records, typed_field
from ..errors import InputError

PTB_BRACKETS = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}"}


@dataclass
class RelationRecord:
    words: List[str]
    head: Tuple[int, int]   # subject words [start, end)
    tail: Tuple[int, int]   # object words [start, end)
    relation: str
    line: int

    @property
    def labels(self) -> List[str]:
        return [self.relation]


def read_tacred(path) -> List[RelationRecord]:
    records = []
    for line, obj in read_json_records(path):
        words = typed_field(obj, "token", list, path, line)
        if not words or not all(isinstance(w, str) and w for w in words):
            raise InputError(path, "expected a non-empty list of word strings", line=line, field="token")
        spans = []
        for side in ("subj", "obj"):
            start, end = (typed_field(obj, f"{side}_{k}", int, path, line) for k in ("start", "end"))
            if not 0 <= start <= end < len(words):
                raise InputError(path, f"span [{start}, {end}] is outside the {len(words)} words", line=line,
                                 field=f"{side}_start" if not 0 <= start < len(words) else f"{side}_end")
            spans.append((start, end + 1))
        (hs, he), (ts, te) = spans
        if hs < te and ts < he:
            raise InputError(path, f"subject words [{hs}, {he - 1}] and object words [{ts}, {te - 1}] overlap",
                             line=line, field="obj_start")
        relation = typed_field(obj, "relation", str, path, line)
        records.append(RelationRecord([PTB_BRACKETS.get(w, w) for w in words], spans[0], spans[1], relation, line))
    return records
