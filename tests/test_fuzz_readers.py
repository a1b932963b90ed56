"""Hostile input for every reader: random bytes, wrong encodings, records with a field deleted, retyped,
emptied or made huge. The only error that may come out is ``InputError`` naming the file (and, for
a damaged record, its line and field); a reader that accepts a file returns every record in it.

The number of cases each reader ran is printed at the end of the session (``FUZZ_CASES``).
"""
import json
import os
import tempfile
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fairseq_plugins.data import blink_formats, conll, lear_formats, luke_relation, luke_typing, nq_format
from fairseq_plugins.data.luke_entity_vocab import EntityVocab
from fairseq_plugins.data.luke_record import read_record
from fairseq_plugins.data.squad_format import read_squad
from fairseq_plugins.data.uer_classification import read_classification_tsv
from fairseq_plugins.data.uer_config import read_uer_config
from fairseq_plugins.data.vocab_dictionary import load_dictionary
from fairseq_plugins.errors import InputError

FUZZ_CASES = Counter()
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                         st.text(max_size=30), st.just("x" * 100_000), st.just(""))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                                  st.dictionaries(st.text(max_size=8), inner,
                                                                                  max_size=4)), max_leaves=8)


def _write(suffix, data: bytes) -> str:
    fd, path = tempfile.mkstemp(suffix=suffix)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


def survive(name, read, path, expected_records=None):
    """``read(path)`` returns, or raises InputError naming ``path``; anything else fails the test."""
    FUZZ_CASES[name] += 1
    try:
        result = read(path)
    except InputError as e:
        assert str(path) in str(e), str(e)
        return e
    if expected_records is not None:
        assert len(result) == expected_records, f"{name} returned {len(result)} of {expected_records} records"
    return None


# ---- the readers, each with a valid record --------------------------------------------------------
NQ_ROW = {"example_id": 5, "question_text": "who", "document_text": "<P> a b c </P>",
          "long_answer_candidates": [{"start_token": 0, "end_token": 5, "top_level": True}],
          "annotations": [{"long_answer": {"start_token": 0, "end_token": 5, "candidate_index": 0},
                           "short_answers": [{"start_token": 1, "end_token": 2}], "yes_no_answer": "NONE"}]}
JSONL_READERS = {
    # name: (reader, valid record, suffix)
    "open_entity": (luke_typing.read_open_entity, {"sent": "Bob sat .", "start": 0, "end": 3, "labels": ["person"]},
                    ".json"),
    "tacred": (luke_relation.read_tacred, {"token": ["Bob", "met", "Ann"], "subj_start": 0, "subj_end": 0,
                                           "obj_start": 2, "obj_end": 2, "relation": "per:x"}, ".json"),
    "lear_jsonl": (lambda p: lear_formats.read_span_jsonl(p, {"PER": 0, "LOC": 1}),
                   {"text": "Bob sat", "entities": [{"label": "PER", "text": "Bob", "start_offset": 0,
                                                     "end_offset": 3}]}, ".jsonl"),
    "blink_mentions": (blink_formats.read_mentions, {"context_left": "a", "mention": "Bob", "context_right": "b",
                                                     "label_id": "1", "label_title": "Bob", "label": "a man",
                                                     "world": "w"}, ".jsonl"),
    "blink_kb": (lambda p: list(blink_formats.iter_kb(p)), {"id": "1", "title": "Bob", "text": "a man"}, ".jsonl"),
    "nq": (lambda p: list(nq_format.read_nq(p)), NQ_ROW, ".jsonl"),
    "entity_vocab_jsonl": (EntityVocab.load, {"id": 0, "entities": [["[PAD]", None]], "count": 0}, ".jsonl"),
    "record": (read_record, {"idx": 0, "passage": {"text": "Bob met Ann .", "entities": [{"start": 0, "end": 2},
                                                                                         {"start": 8, "end": 10}]},
                             "qas": [{"idx": 0, "query": "@placeholder met Ann",
                                      "answers": [{"start": 0, "end": 2, "text": "Bob"}]}]}, ".jsonl"),
}
# Whole-document JSON (one object a file): damaged in place.
DOCUMENT_READERS = {
    "squad": (read_squad, {"version": "v2.0", "data": [{"title": "t", "paragraphs": [{
        "context": "Bob met Ann in Paris.", "qas": [
            {"id": "q1", "question": "Who met Ann?", "answers": [{"text": "Bob", "answer_start": 0}],
             "is_impossible": False},
            {"id": "q2", "question": "Who left?", "answers": [], "is_impossible": True}]}]}]}, ".json"),
}
TEXT_READERS = {
    "conll": (lambda p: conll.read_conll(p, "iob1"), "-DOCSTART- -X- -X- O\n\nEU NNP B-NP I-ORG\nsat VBZ B-VP O\n"),
    "uer_tsv": (read_classification_tsv, "label\ttext_a\n0\thello\n1\tworld\n"),
    "vocab_txt": (load_dictionary, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n"),
    "uer_config": (read_uer_config, '{"emb_size": 32, "hidden_size": 32, "layers_num": 2}'),
    "entity_vocab_tsv": (EntityVocab.load, "[PAD]\t0\n[UNK]\t0\n[MASK]\t0\nBob\t3\n"),
    "entity_vocab_json": (EntityVocab.load, '{"[PAD]": 0, "[UNK]": 1, "[MASK]": 2, "Bob": 3}'),
}
SUFFIX = {"uer_config": ".json", "entity_vocab_tsv": ".tsv", "entity_vocab_json": ".json", "vocab_txt": ".txt",
          "conll": ".txt", "uer_tsv": ".tsv"}
ALL = {**{k: (v[0], v[2]) for k, v in {**JSONL_READERS, **DOCUMENT_READERS}.items()},
       **{k: (v[0], SUFFIX[k]) for k, v in TEXT_READERS.items()}}


@pytest.mark.parametrize("name", sorted(ALL))
@FUZZ
@given(data=st.binary(max_size=400))
def test_random_bytes(name, data):
    read, suffix = ALL[name]
    path = _write(suffix, data)
    try:
        survive(name + "/bytes", read, path)
    finally:
        os.remove(path)


@pytest.mark.parametrize("name", sorted(TEXT_READERS))
@FUZZ
@given(cut=st.integers(0, 200), junk=st.text(max_size=40), encoding=st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_damaged_text(name, cut, junk, encoding):
    """A valid file cut short, with junk spliced in, or written in another encoding."""
    read, valid = TEXT_READERS[name]
    cut = min(cut, len(valid))
    path = _write(SUFFIX[name], (valid[:cut] + junk + valid[cut:]).encode(encoding, errors="replace"))
    try:
        survive(name + "/text", read, path)
    finally:
        os.remove(path)


def _mutate(record, key_path, action, value):
    """Apply ``action`` to the field at ``key_path`` (a list of keys/indexes) of a deep copy."""
    record = json.loads(json.dumps(record))
    holder = record
    for key in key_path[:-1]:
        holder = holder[key]
    last = key_path[-1]
    if action == "delete" and isinstance(holder, dict):
        del holder[last]
    elif action == "empty":
        holder[last] = type(holder[last])() if isinstance(holder[last], (str, list, dict)) else 0
    else:
        holder[last] = value
    return record


def _field_paths(value, prefix=()):
    paths = []
    if isinstance(value, dict):
        for k, v in value.items():
            paths.append(prefix + (k,))
            paths.extend(_field_paths(v, prefix + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            paths.append(prefix + (i,))
            paths.extend(_field_paths(v, prefix + (i,)))
    return paths


@pytest.mark.parametrize("name", sorted(JSONL_READERS))
@FUZZ
@given(data=st.data(), action=st.sampled_from(["delete", "retype", "empty"]), value=JSON_VALUES,
       copies=st.integers(1, 3))
def test_damaged_record(name, data, action, value, copies):
    read, record, suffix = JSONL_READERS[name]
    key_path = data.draw(st.sampled_from(_field_paths(record)))
    bad = _mutate(record, key_path, action, value)
    lines = [json.dumps(_numbered(name, record, i + 1)) for i in range(copies)] + [json.dumps(bad)]
    path = _write(suffix, ("\n".join(lines) + "\n").encode())
    try:
        error = survive(name + "/record", read, path)
        if error is not None and error.line is not None:
            assert error.line == copies + 1, str(error)
    finally:
        os.remove(path)


def _numbered(name, record, i):
    """The ``i``-th copy of a valid record, with the id fields that must be unique made unique."""
    key = {"nq": "example_id", "blink_kb": "id", "entity_vocab_jsonl": "id"}.get(name)
    if key is None:
        return record
    copy = dict(record, **{key: str(i) if name == "blink_kb" else i})
    if name == "entity_vocab_jsonl":
        copy["entities"] = [[f"Entity {i}", None]]
    return copy


def test_valid_records_all_come_back(tmp_path):
    for name, (read, record, suffix) in JSONL_READERS.items():
        if name.startswith("entity_vocab"):  # a vocabulary also needs its special entities
            continue
        path = tmp_path / f"{name}{suffix}"
        rows = [_numbered(name, record, i) for i in range(3)]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        assert survive(name + "/valid", read, str(path), expected_records=3) is None


@pytest.mark.parametrize("name", sorted(DOCUMENT_READERS))
@FUZZ
@given(data=st.data(), action=st.sampled_from(["delete", "retype", "empty"]), value=JSON_VALUES)
def test_damaged_document(name, data, action, value):
    read, document, suffix = DOCUMENT_READERS[name]
    key_path = data.draw(st.sampled_from(_field_paths(document)))
    path = _write(suffix, json.dumps(_mutate(document, key_path, action, value)).encode())
    try:
        survive(name + "/document", read, path)
    finally:
        os.remove(path)
