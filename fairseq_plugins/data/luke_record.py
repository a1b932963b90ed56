"""ReCoRD (cloze QA over news passages) as LUKE reads it: a placeholder entity and candidate entities.

File forms (both read): the release's ``{"version": ..., "data": [passage, ...]}`` and SuperGLUE's
JSON lines (one passage a line). A passage is ``{"id"|"idx", "passage": {"text", "entities":
[{"start", "end"}]}, "qas": [{"id"|"idx", "query", "answers": [{"start", "end", "text"}]}]}``;
entity and answer ``end`` offsets are inclusive. Queries hold ``@placeholder`` once.

Inputs (LUKE legacy ``entity_span_qa``): ``<s> query </s> [</s>] passage window </s>`` where the
placeholder is one word token (the word vocabulary's mask token) and every candidate entity is
wrapped in ``<ent>`` markers when the vocabulary has them; the text is tokenized piece by piece
between entity boundaries, so entities cover whole tokens. ``@highlight`` stays text (LUKE adds a
``[HIGHLIGHT]`` word initialised from ``@``; the tokenizer reads ``@ highlight``). Entities: the placeholder first
(its one token), then every candidate wholly inside the window (markers included), all
``[MASK]``. Over-long passages are split into windows of stride ``doc_stride``; a candidate is
labelled 1 when its span equals a gold answer span. Candidates that fit no window, answers that are
no candidate, cut queries and questions left without any candidate are counted and reported.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import torch

from ..errors import InputError
from ..metrics.squad import best_over_golds
from .example_dataset import ExampleDataset
from .json_files import read_json_records
from .luke_inputs import span_positions
from .squad_windows import window_starts

PLACEHOLDER = "@placeholder"
IGNORE = -1

Span = Tuple[int, int]  # character offsets, end exclusive


@dataclass
class RecordQuestion:
    qid: str
    query: str
    answers: List[Span]
    answer_texts: List[str]


@dataclass
class RecordPassage:
    pid: str
    text: str
    entities: List[Span]   # sorted, non-overlapping
    questions: List[RecordQuestion]
    line: Optional[int]    # JSON-lines files: the passage's line
    where: str             # the passage's place in the file, for errors: data[3] or line 3

    def entity_text(self, k: int) -> str:
        start, end = self.entities[k]
        return self.text[start:end]


# ---- reading ---------------------------------------------------------------------------------------------

def _field(obj, key, kind, path, line, where):
    if not isinstance(obj, dict) or key not in obj:
        raise InputError(path, "missing", line=line, field=f"{where}.{key}")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InputError(path, f"expected {kind.__name__ if isinstance(kind, type) else 'id'}, got "
                               f"{type(value).__name__}", line=line, field=f"{where}.{key}")
    return value


def _id(obj, path, line, where) -> str:
    key = "id" if isinstance(obj, dict) and "id" in obj else "idx"
    return str(_field(obj, key, (str, int), path, line, where))


def _span(obj, text: str, path, line, where) -> Span:
    """An inclusive-end ``start``/``end`` pair as a half-open span inside ``text``."""
    start = _field(obj, "start", int, path, line, where)
    end = _field(obj, "end", int, path, line, where)
    if not 0 <= start < len(text):
        raise InputError(path, f"start {start} is outside the passage ({len(text)} characters)", line=line,
                         field=f"{where}.start")
    if not start <= end < len(text):
        raise InputError(path, f"end {end} (inclusive) is not in [{start}, {len(text) - 1}]", line=line,
                         field=f"{where}.end")
    return start, end + 1


def _passage(obj, path, line, where) -> RecordPassage:
    passage = _field(obj, "passage", dict, path, line, where)
    text = _field(passage, "text", str, path, line, f"{where}.passage")
    if not text.strip():
        raise InputError(path, "blank passage", line=line, field=f"{where}.passage.text")
    entities = [_span(e, text, path, line, f"{where}.passage.entities[{k}]")
                for k, e in enumerate(_field(passage, "entities", list, path, line, f"{where}.passage"))]
    for k, (start, end) in enumerate(entities):
        if not text[start:end].strip():
            raise InputError(path, f"blank entity {text[start:end]!r}", line=line,
                             field=f"{where}.passage.entities[{k}]")
    order = sorted(range(len(entities)), key=lambda k: entities[k])
    for a, b in zip(order, order[1:]):
        if entities[b][0] < entities[a][1]:
            raise InputError(path, f"entity {entities[b]} overlaps entity {entities[a]} (character spans, end "
                                   "exclusive)", line=line, field=f"{where}.passage.entities[{b}]")
    questions = []
    for q, qa in enumerate(_field(obj, "qas", list, path, line, where)):
        at = f"{where}.qas[{q}]"
        query = _field(qa, "query", str, path, line, at)
        if query.count(PLACEHOLDER) != 1:
            raise InputError(path, f"the query must hold {PLACEHOLDER} exactly once, it holds it "
                                   f"{query.count(PLACEHOLDER)} times", line=line, field=f"{at}.query")
        answers, texts = [], []
        for a, answer in enumerate(qa.get("answers") or []):
            answers.append(_span(answer, text, path, line, f"{at}.answers[{a}]"))
            texts.append(answer["text"] if isinstance(answer.get("text"), str) else text[slice(*answers[-1])])
        questions.append(RecordQuestion(_id(qa, path, line, at), query, answers, texts))
    return RecordPassage(_id(obj, path, line, where), text, [entities[k] for k in order], questions, line, where)


def read_record(path) -> List[RecordPassage]:
    """Passages of a ReCoRD file (release JSON or SuperGLUE JSON lines); errors name the line or the
    JSON path (``data[3].qas[0].query``) and the field."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(path, "file not found")
    with open(path, "rb") as f:
        head = f.read(4096).decode("utf-8", errors="replace")
    stripped = head.lstrip()
    if stripped.startswith("{") and '"data"' in head and "\n{" not in stripped:
        try:
            with open(path, encoding="utf-8") as f:
                document = json.load(f)
        except json.JSONDecodeError as e:
            raise InputError(path, f"malformed JSON ({e.msg})", line=e.lineno)
        except UnicodeDecodeError as e:
            raise InputError(path, f"not UTF-8 text ({e.reason})")
        data = _field(document, "data", list, path, None, "$")
        return [_passage(obj, path, None, f"data[{i}]") for i, obj in enumerate(data)]
    return [_passage(obj, path, line, f"line {line}") for line, obj in read_json_records(path)]


# ---- inputs ----------------------------------------------------------------------------------------------

@dataclass
class RecordExample:
    tokens: np.ndarray       # word ids: <bos> query <eos> [<eos>] window <eos>
    segment_start: int       # first token of the passage segment
    firsts: np.ndarray       # 1 + E: first token of the placeholder, then of each candidate
    lasts: np.ndarray        # 1 + E: last token (inclusive)
    labels: np.ndarray       # E: 1.0 when the candidate is a gold answer span
    em: np.ndarray           # E: exact match of the candidate's text against the gold answers
    f1: np.ndarray           # E: token F1 of it
    candidates: np.ndarray   # E: entity index in the passage
    question: int            # running question index over the file


@dataclass
class RecordStats:
    passages: int = 0
    questions: int = 0
    windows: int = 0
    candidates: int = 0                  # candidate entities in windows (one entity may be in several)
    candidates_in_no_window: int = 0     # per question: in no window whole (too long), never scored
    answers_not_candidates: int = 0      # gold spans that are no entity span: cannot be predicted
    truncated_queries: int = 0           # cut to max_query_length around the placeholder
    questions_without_candidates: int = 0  # no window holds a candidate: no prediction (scored 0)

    def summary(self) -> str:
        return (f"{self.passages} passages, {self.questions} questions, {self.windows} windows, "
                f"{self.candidates} candidates; {self.truncated_queries} queries cut to --max-query-length, "
                f"{self.candidates_in_no_window} candidates fit no window, {self.answers_not_candidates} gold "
                f"answers are no candidate, {self.questions_without_candidates} questions without candidates "
                "(no prediction, scored 0)")


def tokenize_pieces(text: str, cuts: Sequence[int], encode: Callable[[List[str]], List[List[int]]],
                    prefix: str) -> List[List[int]]:
    """``text`` cut at the sorted character offsets ``cuts``, each piece tokenized alone.

    A piece that starts a word (at the start, after whitespace) gets ``prefix`` (a space for byte-level
    BPE, as LUKE's ``add_prefix_space``); blank pieces give no tokens."""
    bounds = [0] + list(cuts) + [len(text)]
    texts, keep = [], []
    for start, end in zip(bounds, bounds[1:]):
        piece = text[start:end]
        keep.append(bool(piece.strip()))
        if piece.strip():
            word_start = start == 0 or piece[0].isspace() or text[start - 1].isspace()
            texts.append((prefix if word_start else "") + piece.strip())
    ids = iter(encode(texts) if texts else [])
    return [next(ids) if k else [] for k in keep]


class RecordInputs:
    """Turns passages into window examples. ``encode(texts)`` tokenizes each text alone into word ids;
    ``placeholder`` is the word id standing for ``@placeholder``, ``marker`` the entity marker's
    (None: no markers); ``extra_sep``: RoBERTa's ``</s></s>`` between query and passage."""

    def __init__(self, encode, prefix: str, bos: int, eos: int, placeholder: int, marker: Optional[int],
                 extra_sep: bool, max_seq_length: int = 512, max_query_length: int = 90, doc_stride: int = 128):
        self.encode, self.prefix = encode, prefix
        self.bos, self.eos, self.placeholder, self.marker = bos, eos, placeholder, marker
        self.extra_sep = extra_sep
        self.max_seq_length, self.max_query_length, self.doc_stride = max_seq_length, max_query_length, doc_stride

    def query(self, query: str, stats: RecordStats) -> Tuple[List[int], int]:
        """Query ids with the placeholder token, and the placeholder's index among them."""
        cut = query.index(PLACEHOLDER)
        left, _, right = tokenize_pieces(query, [cut, cut + len(PLACEHOLDER)], self.encode, self.prefix)
        ids, at = left + [self.placeholder] + right, len(left)
        if len(ids) > self.max_query_length:
            stats.truncated_queries += 1
            begin = min(max(at - self.max_query_length // 2, 0), len(ids) - self.max_query_length)
            ids, at = ids[begin:begin + self.max_query_length], at - begin
        return ids, at

    def passage(self, passage: RecordPassage) -> Tuple[List[int], List[Span]]:
        """Passage ids with markers around entities, and each entity's token span (markers included)."""
        cuts = [c for span in passage.entities for c in span]
        pieces = tokenize_pieces(passage.text, cuts, self.encode, self.prefix)
        marker = [] if self.marker is None else [self.marker]
        ids, spans = list(pieces[0]), []
        for k in range(len(passage.entities)):
            start = len(ids)
            ids += marker + pieces[2 * k + 1] + marker
            spans.append((start, len(ids)))
            ids += pieces[2 * k + 2]
        return ids, spans

    def examples(self, passages: Sequence[RecordPassage], stats: RecordStats, keep_empty: bool = False
                 ) -> Tuple[List[RecordExample], List[Tuple[str, List[str]]], List[List[str]]]:
        """(examples, (question id, gold texts) per question, candidate texts per example).

        ``keep_empty`` keeps one placeholder-only example for a question whose windows hold no candidate,
        so that evaluation sees (and scores 0) every question."""
        examples, questions, texts = [], [], []
        for passage in passages:
            stats.passages += 1
            doc, spans = self.passage(passage)
            entity_index = {span: k for k, span in enumerate(passage.entities)}
            for question in passage.questions:
                index = len(questions)
                questions.append((question.qid, question.answer_texts))
                stats.questions += 1
                gold = set(question.answers)
                stats.answers_not_candidates += len(gold - set(entity_index))
                query, at = self.query(question.query, stats)
                head = [self.bos] + query + [self.eos] + [self.eos] * self.extra_sep
                room = self.max_seq_length - len(head) - 1
                if room <= 0:
                    raise ValueError(f"--max-seq-length {self.max_seq_length} leaves no room for the passage "
                                     f"after a query of {len(query)} tokens")
                scores = [best_over_golds(passage.entity_text(k), question.answer_texts) if question.answer_texts
                          else (0.0, 0.0) for k in range(len(spans))]
                windows = []
                for begin in window_starts(len(doc), room, self.doc_stride):
                    end = min(begin + room, len(doc))
                    inside = [k for k, (s, e) in enumerate(spans) if begin <= s and e <= end]
                    if inside:
                        windows.append((begin, end, inside))
                placed = {k for _, _, inside in windows for k in inside}
                stats.candidates_in_no_window += len(spans) - len(placed)
                if not windows:
                    stats.questions_without_candidates += 1
                    if keep_empty:
                        windows.append((0, min(room, len(doc)), []))
                for begin, end, inside in windows:
                    shift = len(head) - begin
                    examples.append(RecordExample(
                        np.array(head + doc[begin:end] + [self.eos], dtype=np.int64), len(head),
                        np.array([1 + at] + [spans[k][0] + shift for k in inside], dtype=np.int64),
                        np.array([1 + at] + [spans[k][1] - 1 + shift for k in inside], dtype=np.int64),
                        np.array([float(passage.entities[k] in gold) for k in inside], dtype=np.float32),
                        np.array([scores[k][0] for k in inside], dtype=np.float32),
                        np.array([scores[k][1] for k in inside], dtype=np.float32),
                        np.array(inside, dtype=np.int64), index))
                    texts.append([passage.entity_text(k) for k in inside])
                    stats.candidates += len(inside)
                stats.windows += len(windows)
        return examples, questions, texts


class RecordDataset(ExampleDataset):
    """Collates :class:`RecordExample` s: padded words (and token types when ``passage_segment`` is 1),
    ``[MASK]`` entities (placeholder first), candidate labels padded with -1."""

    def __init__(self, examples: Sequence[RecordExample], questions, texts, pad: int, entity_pad: int,
                 entity_mask: int, max_mention_length: int, passage_segment: int = 0):
        super().__init__(examples, pad)
        self.questions, self.texts = questions, texts
        self.entity_pad, self.entity_mask = entity_pad, entity_mask
        self.max_mention_length = max_mention_length
        self.passage_segment = passage_segment

    def num_tokens(self, index):
        return int(self.sizes[index]) + len(self.examples[index].firsts)

    def collater(self, indices):
        if not indices:
            return {}
        samples = [self.examples[i] for i in indices]
        batch, words = len(samples), max(len(s.tokens) for s in samples)
        entities = max(len(s.firsts) for s in samples)
        tokens = torch.full((batch, words), self.pad, dtype=torch.long)
        segments = torch.zeros(batch, words, dtype=torch.long)
        entity_ids = torch.full((batch, entities), self.entity_pad, dtype=torch.long)
        entity_segments = torch.zeros(batch, entities, dtype=torch.long)
        firsts = torch.zeros(batch, entities, dtype=torch.long)
        lasts = torch.full((batch, entities), -1, dtype=torch.long)
        labels = torch.full((batch, entities - 1), float(IGNORE))
        em, f1 = torch.zeros(batch, entities - 1), torch.zeros(batch, entities - 1)
        for b, s in enumerate(samples):
            n = len(s.firsts)
            tokens[b, :len(s.tokens)] = torch.from_numpy(s.tokens)
            segments[b, s.segment_start:len(s.tokens)] = self.passage_segment
            entity_ids[b, :n] = self.entity_mask
            entity_segments[b, 1:n] = self.passage_segment
            firsts[b, :n], lasts[b, :n] = torch.from_numpy(s.firsts), torch.from_numpy(s.lasts)
            labels[b, :n - 1] = torch.from_numpy(s.labels)
            em[b, :n - 1], f1[b, :n - 1] = torch.from_numpy(s.em), torch.from_numpy(s.f1)
        width = max(1, min(self.max_mention_length, int((lasts - firsts).max()) + 1))
        net_input = {"src_tokens": tokens, "entity_ids": entity_ids,
                     "entity_positions": span_positions(firsts, lasts, width)}
        if self.passage_segment:
            net_input.update(segment_labels=segments, entity_segments=entity_segments)
        return {
            "id": torch.tensor(list(indices)),
            "question": torch.tensor([s.question for s in samples]),
            "nsentences": batch,
            "ntokens": int(tokens.ne(self.pad).sum()),
            "net_input": net_input,
            "target": labels,
            "em": em, "f1": f1,
        }
