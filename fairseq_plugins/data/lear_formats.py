"""LEAR's input files, read with validation: span jsonl, ``label_map.json``, ``label_annotation.txt``,
and the BIO tsv of UER-py / CLUE NER, so that either world's data trains the same model.

Every example comes out as text plus character spans ``(start, end, label)`` with ``end``
exclusive. Faults (bad JSON, offsets outside the text or not matching the entity's ``text``,
a label the label map lacks, an empty line, a label file whose line count differs from the
label map) raise :class:`InputError` naming the file, line and field.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

from ..errors import InputError
from .text_files import text_lines

Span = Tuple[int, int, str]  # character start, end (exclusive), label


@dataclass
class NerExample:
    text: str
    entities: List[Span] = field(default_factory=list)
    line: int = 0


@dataclass
class LabelSchema:
    """Labels in id order and one natural-language description per label."""

    labels: List[str]
    annotations: List[str]

    @property
    def label_to_id(self) -> Dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}


def read_label_schema(label_map_path, annotation_path) -> LabelSchema:
    labels = read_label_map(label_map_path)
    annotations = read_label_annotations(annotation_path)
    if len(annotations) != len(labels):
        raise InputError(annotation_path, f"{len(annotations)} descriptions but {label_map_path} has "
                                          f"{len(labels)} labels: one line per label, in label-id order")
    return LabelSchema(labels, annotations)


def read_label_map(path) -> List[str]:
    """Labels in id order from LEAR's ``[id2label, label2id]`` pair, or a plain ``{label: id}`` object."""
    path = os.fspath(path)
    data = _load_json_file(path)
    if isinstance(data, list) and len(data) == 2 and all(isinstance(d, dict) for d in data):
        id2label, label2id = data
        if {str(v): k for k, v in label2id.items()} != {str(k): v for k, v in id2label.items()}:
            raise InputError(path, "the id->label and label->id maps disagree")
        data = label2id
    if not isinstance(data, dict) or not data:
        raise InputError(path, "expected [id2label, label2id] or a {label: id} object")
    ids = sorted(data.values()) if all(isinstance(v, int) and not isinstance(v, bool) for v in data.values()) else None
    if ids != list(range(len(data))):
        raise InputError(path, f"label ids must be the integers 0..{len(data) - 1}, got {sorted(map(str, data.values()))}")
    return sorted(data, key=data.get)


def read_label_annotations(path) -> List[str]:
    path = os.fspath(path)
    lines = _read_lines(path)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            raise InputError(path, "empty description", line=number, field="annotation")
    return [line.strip() for line in lines]


def read_span_jsonl(path, label_to_id: Dict[str, int]) -> List[NerExample]:
    """``{"text": ..., "entities": [{"label", "text", "start_offset", "end_offset"}]}`` per line."""
    path = os.fspath(path)
    examples = []
    for number, line in enumerate(_read_lines(path), 1):
        if not line.strip():
            raise InputError(path, "empty line", line=number)
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise InputError(path, f"not JSON ({e})", line=number)
        if not isinstance(obj, dict):
            raise InputError(path, "expected a JSON object", line=number)
        text = obj.get("text")
        if not isinstance(text, str):
            raise InputError(path, "missing or not a string", line=number, field="text")
        entities = obj.get("entities", [])
        if not isinstance(entities, list):
            raise InputError(path, "expected a list", line=number, field="entities")
        spans = [_entity(e, i, text, label_to_id, path, number) for i, e in enumerate(entities)]
        examples.append(NerExample(text, spans, number))
    return examples


def _entity(entity, i: int, text: str, label_to_id, path, line: int) -> Span:
    where = f"entities[{i}]"
    if not isinstance(entity, dict):
        raise InputError(path, "expected an object", line=line, field=where)
    start, end, label = entity.get("start_offset"), entity.get("end_offset"), entity.get("label")
    for name, value in (("start_offset", start), ("end_offset", end)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise InputError(path, "missing or not an integer", line=line, field=f"{where}.{name}")
    if not 0 <= start < end <= len(text):
        raise InputError(path, f"offsets [{start}, {end}) are outside the text (length {len(text)}) or empty",
                         line=line, field=f"{where}.start_offset")
    if not isinstance(label, str) or label not in label_to_id:
        raise InputError(path, f"label {label!r} is not in the label map ({', '.join(label_to_id)})",
                         line=line, field=f"{where}.label")
    if "text" in entity and entity["text"] != text[start:end]:
        raise InputError(path, f"text {entity['text']!r} differs from text[{start}:{end}] = {text[start:end]!r}",
                         line=line, field=f"{where}.text")
    return start, end, label


def read_bio_tsv(path, label_to_id: Dict[str, int]) -> List[NerExample]:
    """``text_a<TAB>label`` with space-separated tokens and one BIO tag per token (a header line first).

    Text becomes the tokens joined by single spaces, LEAR's layout for Chinese, so offsets
    count the spaces. ``I-X`` after ``O`` or another type starts a new entity (CoNLL's IOB1
    reading); tags must name labels of the label map.
    """
    path = os.fspath(path)
    lines = _read_lines(path)
    if not lines:
        raise InputError(path, "empty file; expected a 'text_a<TAB>label' header")
    header = lines[0].split("\t")
    if "text_a" not in header or "label" not in header:
        raise InputError(path, f"header {lines[0]!r} lacks the columns text_a and label", line=1)
    text_col, label_col = header.index("text_a"), header.index("label")
    examples = []
    for number, line in enumerate(lines[1:], 2):
        if not line.strip():
            raise InputError(path, "empty line", line=number)
        cols = line.split("\t")
        if len(cols) != len(header):
            raise InputError(path, f"{len(cols)} columns, the header has {len(header)}", line=number)
        tokens, tags = cols[text_col].split(), cols[label_col].split()
        if len(tokens) != len(tags):
            raise InputError(path, f"{len(tags)} tags for {len(tokens)} tokens", line=number, field="label")
        examples.append(NerExample(" ".join(tokens), _bio_spans(tokens, tags, label_to_id, path, number), number))
    return examples


def _bio_spans(tokens, tags, label_to_id, path, line) -> List[Span]:
    spans, starts, offset = [], [], 0
    for token in tokens:
        starts.append(offset)
        offset += len(token) + 1
    current = None  # [start token, end token, label]
    for i, tag in enumerate(tags + ["O"]):
        prefix, _, label = tag.partition("-")
        if tag != "O" and (prefix not in ("B", "I") or not label):
            raise InputError(path, f"tag {tag!r} at token {i + 1} is not O, B-X or I-X", line=line, field="label")
        if tag != "O" and label not in label_to_id:
            raise InputError(path, f"label {label!r} (tag {tag!r}) is not in the label map "
                                   f"({', '.join(label_to_id)})", line=line, field="label")
        if current is not None and (prefix != "I" or label != current[2]):
            spans.append((starts[current[0]], starts[current[1]] + len(tokens[current[1]]), current[2]))
            current = None
        if tag == "O":
            continue
        if current is None:
            current = [i, i, label]
        else:
            current[1] = i
    return spans


def read_examples(path, label_to_id: Dict[str, int]) -> List[NerExample]:
    """By extension: ``.tsv`` is BIO, anything else LEAR jsonl."""
    reader = read_bio_tsv if os.fspath(path).endswith(".tsv") else read_span_jsonl
    return reader(path, label_to_id)


def _read_lines(path: str) -> List[str]:
    return [line for _, line in text_lines(path)]


def _load_json_file(path: str):
    if not os.path.isfile(path):
        raise InputError(path, "file not found")
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except (ValueError, UnicodeDecodeError) as e:
            raise InputError(path, f"not JSON ({e})")
