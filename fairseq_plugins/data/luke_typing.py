"""Open Entity (ERNIE's json, as LUKE reads it): one mention per record, typed with zero or more labels.

A record is ``{"sent": str, "start": int, "end": int, "labels": [str, ...]}`` with ``start``/``end``
character offsets of the mention in ``sent`` (end exclusive). Files are a JSON array (the release)
or JSON lines; every error names the file, the record's line and the field.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List

from .json_files import read_json_records, typed_field
from ..errors import InputError


@dataclass
class TypingRecord:
    sent: str
    start: int
    end: int
    labels: List[str]
    line: int

    @property
    def pieces(self) -> List[str]:
        """Left context, mention, right context."""
        return [self.sent[:self.start], self.sent[self.start:self.end], self.sent[self.end:]]


def read_open_entity(path) -> List[TypingRecord]:
    records = []
    for line, obj in read_json_records(path):
        sent = typed_field(obj, "sent", str, path, line)
        start, end = typed_field(obj, "start", int, path, line), typed_field(obj, "end", int, path, line)
        if not 0 <= start < len(sent):
            raise InputError(path, f"mention start {start} is outside the text ({len(sent)} characters)",
                             line=line, field="start")
        if not start < end <= len(sent):
            raise InputError(path, f"mention end {end} is not in ({start}, {len(sent)}] (the text has "
                                   f"{len(sent)} characters)", line=line, field="end")
        if not sent[start:end].strip():
            raise InputError(path, f"the mention [{start}, {end}) is blank", line=line, field="start")
        labels = typed_field(obj, "labels", list, path, line)
        if not all(isinstance(label, str) and label for label in labels):
            raise InputError(path, "expected a list of label strings", line=line, field="labels")
        records.append(TypingRecord(sent, start, end, labels, line))
    return records

