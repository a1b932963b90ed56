"""Sequence-tagging (BIO) examples from three worlds' files, as text + labelled units + one tag per unit.

- UER-py's NER tsv (``run_ner.py``): a header naming ``text_a`` and ``label``, then per line
  space-separated characters (or words) and one tag per token; tags are those of ``label2id.json``.
- CoNLL-2003 files (IOB1 or IOB2, read by :mod:`.conll`); tags become IOB2.
- LEAR's span jsonl (character offsets, end exclusive): units are the whitespace-separated words
  of the text. A tag sequence cannot hold nested entities, so they are flattened by one rule:
  **the outermost span wins** — spans are taken by start, longer first, and a span overlapping an
  already kept one is dropped (inside it: ``nested``; partly over its edge: ``crossing``). Entities
  whose offsets do not fall on word boundaries cannot be tagged (``unaligned``). Every dropped or
  unaligned entity stays in the example's ``gold`` set, which is what predictions are scored
  against, so a BIO model is charged for the nested entities it cannot produce.

Every unit's text is ``text[start:end]`` of the example; a unit is what gets a tag and what
predictions are read from (the model labels its first sub-token, see :mod:`.tagging_inputs`).
"""
import os
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from ..errors import InputError
from ..metrics.seqeval import get_entities, spans_to_iob2
from ..metrics.span_f1 import SpanCounts
from .conll import read_conll
from .lear_formats import read_span_jsonl

FORMATS = ("uer_tsv", "conll", "lear_jsonl")
EXTENSIONS = {".tsv": "uer_tsv", ".json": "lear_jsonl", ".jsonl": "lear_jsonl", ".txt": "conll", ".conll": "conll"}

CharSpan = Tuple[int, int, str]  # start, end (exclusive), entity type


@dataclass
class TaggedText:
    text: str
    units: List[Tuple[int, int]]  # character spans of the tagged units, in order
    tags: Optional[List[str]]  # one per unit; None for unlabelled input
    line: int = 0
    gold: Optional[List[CharSpan]] = None  # LEAR files: every gold entity, nested ones included

    def gold_spans(self) -> List[CharSpan]:
        """The entities predictions are scored against, as character spans."""
        if self.gold is not None:
            return self.gold
        return tags_to_char_spans(self.units, self.tags or [])


@dataclass
class ReadStats:
    examples: int = 0
    entities: int = 0
    nested: int = 0  # inside a kept (outer) entity: dropped from the tags
    crossing: int = 0  # partly overlapping a kept entity: dropped from the tags
    unaligned: int = 0  # not on word boundaries: cannot be tagged

    def report(self, name: str) -> str:
        text = f"{name}: {self.examples} texts"
        if self.entities:
            text += (f", {self.entities} gold entities; not in the BIO tags (kept in the gold set as misses): "
                     f"{self.nested} nested inside an outer entity, {self.crossing} crossing one, "
                     f"{self.unaligned} not on word boundaries")
        return text


def format_of(path) -> str:
    ext = os.path.splitext(os.fspath(path))[1]
    if ext not in EXTENSIONS:
        raise InputError(path, f"cannot tell the format from the extension {ext!r}: .tsv is UER's NER tsv, "
                               ".json/.jsonl LEAR's span jsonl, .txt/.conll CoNLL; or give --data-format")
    return EXTENSIONS[ext]


def bio_tags(types: Sequence[str]) -> List[str]:
    """The IOB2 tag inventory of entity types: ``O`` then ``B-X``, ``I-X`` per type."""
    return ["O"] + [f"{prefix}-{t}" for t in types for prefix in ("B", "I")]


def entity_types(tags: Sequence[str]) -> List[str]:
    """Entity types named by a tag inventory, in first-seen order."""
    types = []
    for tag in tags:
        if tag != "O" and tag[2:] not in types:
            types.append(tag[2:])
    return types


def word_spans(text: str) -> List[Tuple[int, int]]:
    spans, start = [], None
    for i, c in enumerate(text + " "):
        if c.isspace():
            if start is not None:
                spans.append((start, i))
                start = None
        elif start is None:
            start = i
    return spans


def _joined(tokens: Sequence[str]) -> Tuple[str, List[Tuple[int, int]]]:
    """Tokens joined by single spaces, and each token's span in the result."""
    units, offset = [], 0
    for token in tokens:
        units.append((offset, offset + len(token)))
        offset += len(token) + 1
    return " ".join(tokens), units


def read_uer_ner_tsv(path, tags: Sequence[str], labels_required: bool = True) -> List[TaggedText]:
    """UER's ``text_a<TAB>label`` file; ``labels_required=False`` reads inference files (``text_a`` only)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(path, "file not found")
    known = set(tags)
    with open(path, encoding="utf-8") as f:
        try:
            lines = [line.rstrip("\r\n") for line in f]
        except UnicodeDecodeError as e:
            raise InputError(path, f"not UTF-8 text ({e})")
    header = lines[0].split("\t") if lines else []
    needed = ("text_a", "label") if labels_required else ("text_a",)
    missing = [name for name in needed if name not in header]
    if missing:
        raise InputError(path, f"the first line {lines[0][:60] if lines else ''!r} is not a header naming the "
                               f"columns {' and '.join(needed)} (missing: {', '.join(missing)}; is the header row "
                               "missing?)", line=1, field="header")
    text_col = header.index("text_a")
    label_col = header.index("label") if "label" in header else None
    examples = []
    for number, line in enumerate(lines[1:], 2):
        cells = line.split("\t")
        if len(cells) != len(header):
            raise InputError(path, f"{len(cells)} tab-separated columns, the header has {len(header)} "
                                   f"({', '.join(header)})", line=number, field="columns")
        tokens = cells[text_col].split()
        if not tokens:
            raise InputError(path, "empty text", line=number, field="text_a")
        text, units = _joined(tokens)
        row_tags = None
        if label_col is not None:
            row_tags = cells[label_col].split()
            if len(row_tags) != len(tokens):
                raise InputError(path, f"{len(row_tags)} tags for {len(tokens)} tokens of text_a", line=number,
                                 field="label")
            for i, tag in enumerate(row_tags):
                if tag not in known:
                    raise InputError(path, f"tag {tag!r} (token {i + 1}) is not in label2id "
                                           f"({', '.join(tags)})", line=number, field="label")
        examples.append(TaggedText(text, units, row_tags, number))
    return examples


def read_conll_tagged(path, scheme: str, tags: Sequence[str]) -> List[TaggedText]:
    """Sentences of a CoNLL file with IOB2 tags (IOB1 chunks are read as seqeval reads them)."""
    known = set(tags)
    examples = []
    for document in read_conll(path, scheme):
        for sentence in document.sentences:
            text, units = _joined(sentence.words)
            iob2 = spans_to_iob2(len(units), sentence.entities)
            for tag in iob2:
                if tag not in known:
                    raise InputError(path, f"entity type {tag[2:]!r} is not among the task's types "
                                           f"({', '.join(entity_types(tags))})", line=sentence.line, field="tag")
            examples.append(TaggedText(text, units, iob2, sentence.line))
    return examples


def flatten_nested(spans: Sequence[CharSpan]) -> Tuple[List[CharSpan], int, int]:
    """Outermost spans (see the module docstring); returns (kept, nested dropped, crossing dropped)."""
    kept, nested, crossing = [], 0, 0
    for span in sorted(set(spans), key=lambda s: (s[0], -s[1], s[2])):
        if kept and span[0] < kept[-1][1]:
            if span[1] <= kept[-1][1]:
                nested += 1
            else:
                crossing += 1
            continue
        kept.append(span)
    # A duplicate of a kept entity (same span and type) is the same gold entity, not a dropped one.
    return kept, nested, crossing


def read_lear_tagged(path, tags: Sequence[str], stats: Optional[ReadStats] = None) -> List[TaggedText]:
    """LEAR jsonl (validated by :func:`~.lear_formats.read_span_jsonl`) as word units with IOB2 tags."""
    types = entity_types(tags)
    stats = stats if stats is not None else ReadStats()
    examples = []
    for example in read_span_jsonl(path, {t: i for i, t in enumerate(types)}):
        units = word_spans(example.text)
        unit_of_start = {s: i for i, (s, _) in enumerate(units)}
        unit_of_end = {e: i for i, (_, e) in enumerate(units)}
        kept, nested, crossing = flatten_nested(example.entities)
        word_entities = []
        for start, end, label in kept:
            first, last = unit_of_start.get(start), unit_of_end.get(end)
            if first is None or last is None:
                stats.unaligned += 1
            else:
                word_entities.append((first, last, label))
        stats.examples += 1
        stats.entities += len(set(example.entities))
        stats.nested += nested
        stats.crossing += crossing
        examples.append(TaggedText(example.text, units, spans_to_iob2(len(units), word_entities), example.line,
                                   sorted(set(example.entities))))
    return examples


def tags_to_char_spans(units: Sequence[Tuple[int, int]], tags: Sequence[str]) -> List[CharSpan]:
    """Entities of a tag sequence (seqeval's chunk rules) as character spans."""
    return [(units[first][0], units[last][1], label) for label, first, last in get_entities(tags)]


def entity_counts(examples: Sequence[TaggedText], predicted: Sequence[Sequence[str]]) -> SpanCounts:
    """Exact-span micro counts of predicted tags against each example's gold entities.

    For UER tsv and CoNLL files this is seqeval's entity-level score (one character span per
    word span); for LEAR files the gold set holds every entity, nested ones included."""
    counts = SpanCounts()
    for example, tags in zip(examples, predicted):
        counts.add(tags_to_char_spans(example.units, tags), example.gold_spans())
    return counts


def read_tagged(path, data_format: str, tags: Sequence[str], scheme: str = "iob2",
                labels_required: bool = True, stats: Optional[ReadStats] = None) -> List[TaggedText]:
    """Any of the three formats (``data_format`` one of :data:`FORMATS`)."""
    if data_format == "uer_tsv":
        examples = read_uer_ner_tsv(path, tags, labels_required)
    elif data_format == "conll":
        examples = read_conll_tagged(path, scheme, tags)
    elif data_format == "lear_jsonl":
        examples = read_lear_tagged(path, tags, stats)
    else:
        raise InputError(path, f"unknown data format {data_format!r}; expected one of {', '.join(FORMATS)}")
    if stats is not None and data_format != "lear_jsonl":
        stats.examples += len(examples)
    return examples

