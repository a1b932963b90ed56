"""CoNLL-2003 style NER files: ``word ... tag`` per line, blank lines between sentences, ``-DOCSTART-``.

Tags are validated against the declared scheme (IOB1 as in the original ``eng.*`` files, or
IOB2), so a file in the other scheme fails with the line that shows it instead of scoring
silently wrong. Entities are returned as word spans read with seqeval's chunk rules.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import List, Tuple

from ..errors import InputError
from .text_files import text_lines
from ..metrics.seqeval import get_entities

SCHEMES = ("iob1", "iob2")


@dataclass
class Sentence:
    words: List[str]
    tags: List[str]
    line: int  # first line, for messages

    @property
    def entities(self) -> List[Tuple[int, int, str]]:
        """``(first word, last word, type)``, inclusive."""
        return [(start, end, label) for label, start, end in get_entities(self.tags)]


@dataclass
class Document:
    sentences: List[Sentence] = field(default_factory=list)


def _check_tag(path, number, tag, prev, scheme):
    if tag == "O":
        return
    prefix, dash, label = tag.partition("-")
    if prefix not in ("B", "I") or not dash or not label:
        raise InputError(path, f"tag {tag!r} is not O, B-TYPE or I-TYPE", line=number, field="tag")
    if scheme == "iob2" and prefix == "I" and prev not in (f"B-{label}", f"I-{label}"):
        raise InputError(path, f"{tag} follows {prev}: not IOB2 (is the file IOB1? use --tagging-scheme iob1)",
                         line=number, field="tag")
    if scheme == "iob1" and prefix == "B" and prev not in (f"B-{label}", f"I-{label}"):
        raise InputError(path, f"{tag} follows {prev}: in IOB1 a B- tag only separates two chunks of one type "
                               "(is the file IOB2? use --tagging-scheme iob2)", line=number, field="tag")


def read_conll(path, scheme: str = "iob1") -> List[Document]:
    """Documents of sentences; a file without ``-DOCSTART-`` is one document."""
    if scheme not in SCHEMES:
        raise InputError(path, f"unknown tagging scheme {scheme!r}; expected {' or '.join(SCHEMES)}")
    path = os.fspath(path)
    documents = [Document()]
    words, tags, first, prev = [], [], 0, "O"

    def close():
        nonlocal words, tags, prev
        if words:
            documents[-1].sentences.append(Sentence(words, tags, first))
        words, tags, prev = [], [], "O"

    for number, line in text_lines(path, "CoNLL file"):
        fields = line.split()
        if not fields:
            close()
            continue
        if fields[0] == "-DOCSTART-":
            close()
            if documents[-1].sentences:
                documents.append(Document())
            continue
        if len(fields) < 2:
            raise InputError(path, f"expected 'word ... tag', got {line.strip()!r}", line=number)
        if not words:
            first = number
        tag = fields[-1]
        _check_tag(path, number, tag, prev, scheme)
        words.append(fields[0])
        tags.append(tag)
        prev = tag
    close()
    return [d for d in documents if d.sentences]
