"""Streaming, validating reader of the simplified Natural Questions format (Kaggle TF2-QA).

The train file is 17 GB, so rows are read one at a time from ``.jsonl`` or ``.jsonl.gz``; a
``.json`` file holding one (pretty-printed) row, as in the first-place solution's samples, is
read whole. ``document_text`` is split on single spaces (the official ``split(" ")``: token
offsets index that list). Candidate and annotation spans are token offsets, end exclusive; a
null long answer is ``-1`` throughout. Every problem is an :class:`InputError` naming the file,
line and field; blank lines are skipped and counted.
"""
import gzip
import json
import zlib
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple

from ..errors import InputError

YES_NO = ("NONE", "YES", "NO")
Span = Tuple[int, int]


@dataclass
class NqAnnotation:
    candidate: int  # index into long_answer_candidates; -1 = no long answer
    long: Optional[Span]
    short: List[Span]
    yes_no: str  # NONE / YES / NO


@dataclass
class NqExample:
    example_id: int
    question: str
    words: List[str]
    candidates: List[Span]
    top_level: List[bool]
    annotations: List[NqAnnotation]
    line: int = 0

    @property
    def gold(self) -> Optional[NqAnnotation]:
        """The first annotation with a long answer: the training target (train rows have one)."""
        return next((a for a in self.annotations if a.candidate >= 0), None)


@dataclass
class ReadStats:
    rows: int = 0
    blank_lines: int = 0

    def report(self, name: str) -> str:
        return f"{name}: {self.rows} NQ rows read, {self.blank_lines} blank lines skipped"


def read_nq(path, stats: Optional[ReadStats] = None) -> Iterator[NqExample]:
    """Yield validated rows of ``path`` (see the module docstring); counts go into ``stats``."""
    stats = stats if stats is not None else ReadStats()
    path = str(path)
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as f:
            try:
                row = json.load(f)
            except json.JSONDecodeError as e:
                raise InputError(path, f"not valid JSON ({e.msg})", line=e.lineno)
            except UnicodeDecodeError as e:
                raise InputError(path, f"not UTF-8 text ({e.reason})")
        stats.rows += 1
        yield parse_row(row, path, 1)
        return
    opener = gzip.open if path.endswith(".gz") else open
    line_number = 0
    with opener(path, "rt", encoding="utf-8") as f:
        try:
            for line_number, line in enumerate(f, 1):
                if not line.strip():
                    stats.blank_lines += 1
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise InputError(path, f"not valid JSON ({e.msg})", line=line_number)
                stats.rows += 1
                yield parse_row(row, path, line_number)
        except (EOFError, zlib.error, gzip.BadGzipFile) as e:
            raise InputError(path, f"truncated or corrupt gzip after {line_number} lines ({e})",
                             line=line_number + 1)
        except UnicodeDecodeError as e:
            raise InputError(path, f"not UTF-8 text ({e.reason})", line=line_number + 1)


def _span(value, path, line, name) -> Span:
    try:
        return int(value["start_token"]), int(value["end_token"])
    except (TypeError, KeyError, ValueError):
        raise InputError(path, "expected {start_token, end_token} integers", line=line, field=name)


def _check_span(span: Span, num_words: int, path, line, name):
    start, end = span
    if not 0 <= start < end <= num_words:
        raise InputError(path, f"span [{start}, {end}) is empty or outside the document of {num_words} words",
                         line=line, field=name)


def parse_row(row, path, line: int) -> NqExample:
    if not isinstance(row, dict):
        raise InputError(path, "a row must be a JSON object", line=line)
    for name, kind, what in (("example_id", (int, str), "an integer"), ("question_text", str, "a string"),
                             ("document_text", str, "a string"), ("long_answer_candidates", list, "a list"),
                             ("annotations", (list, type(None)), "a list")):
        if name not in row and name != "annotations":
            raise InputError(path, "missing", line=line, field=name)
        if not isinstance(row.get(name), kind) or isinstance(row.get(name), bool):
            raise InputError(path, f"expected {what}, got {type(row.get(name)).__name__}", line=line, field=name)
    try:
        example_id = int(row["example_id"])
    except (TypeError, ValueError):
        raise InputError(path, f"not an integer: {row['example_id']!r}", line=line, field="example_id")
    words = row["document_text"].split(" ")
    candidates, top_level = [], []
    for i, c in enumerate(row["long_answer_candidates"]):
        name = f"long_answer_candidates[{i}]"
        span = _span(c, path, line, name)
        _check_span(span, len(words), path, line, name)
        candidates.append(span)
        top_level.append(bool(c.get("top_level", True)))
    annotations = [_parse_annotation(a, candidates, len(words), path, line, f"annotations[{i}]")
                   for i, a in enumerate(row.get("annotations") or [])]
    return NqExample(example_id, row["question_text"], words, candidates, top_level, annotations, line)


def _parse_annotation(a, candidates, num_words, path, line, name) -> NqAnnotation:
    if not isinstance(a, dict):
        raise InputError(path, "expected an object", line=line, field=name)
    long = a.get("long_answer") or {"start_token": -1, "end_token": -1, "candidate_index": -1}
    if not isinstance(long, dict):
        raise InputError(path, "expected an object", line=line, field=f"{name}.long_answer")
    try:
        candidate = int(long.get("candidate_index", -1))
    except (TypeError, ValueError):
        raise InputError(path, "not an integer", line=line, field=f"{name}.long_answer.candidate_index")
    if not isinstance(a.get("short_answers") or [], list):
        raise InputError(path, "expected a list", line=line, field=f"{name}.short_answers")
    long_span = _span(long, path, line, f"{name}.long_answer")
    if candidate >= len(candidates):
        raise InputError(path, f"candidate_index {candidate} but the row has {len(candidates)} candidates",
                         line=line, field=f"{name}.long_answer.candidate_index")
    if candidate >= 0 and candidates[candidate] != long_span:
        raise InputError(path, f"long answer {list(long_span)} differs from candidate {candidate} "
                               f"{list(candidates[candidate])}", line=line, field=f"{name}.long_answer")
    if candidate < 0 and long_span != (-1, -1):
        raise InputError(path, f"long answer {list(long_span)} names no candidate (candidate_index -1)",
                         line=line, field=f"{name}.long_answer")
    short = []
    for j, s in enumerate(a.get("short_answers") or []):
        span = _span(s, path, line, f"{name}.short_answers[{j}]")
        _check_span(span, num_words, path, line, f"{name}.short_answers[{j}]")
        short.append(span)
    yes_no = str(a.get("yes_no_answer", "NONE")).upper()
    if yes_no not in YES_NO:
        raise InputError(path, f"{yes_no!r} is not one of {', '.join(YES_NO)}", line=line,
                         field=f"{name}.yes_no_answer")
    if yes_no != "NONE" and short:
        raise InputError(path, f"yes/no answer {yes_no} together with short spans", line=line,
                         field=f"{name}.yes_no_answer")
    if (short or yes_no != "NONE") and candidate < 0:
        raise InputError(path, "a short or yes/no answer without a long answer", line=line, field=name)
    return NqAnnotation(candidate, long_span if candidate >= 0 else None, short, yes_no)
