"""Reading simplified NQ (the ten real Kaggle rows plus hand-made bad rows) and building reader instances."""
import gzip
import json
import random

import pytest

from fairseq_plugins.data.nq_format import ReadStats, read_nq
from fairseq_plugins.data.nq_inputs import (IGNORE, LONG_ONLY, NO_ANSWER, SHORT, YES, NqInstanceBuilder,
                                            window_starts)
from fairseq_plugins.errors import InputError
from fairseq_plugins.tokenization import build_tokenizer
from lear_fixtures import minilm_vocab
from shared_data import SHARED_DATA

NQ_SAMPLE = SHARED_DATA / "nq_sample"
needs_sample = pytest.mark.skipif(not NQ_SAMPLE.is_dir(), reason="shared NQ sample absent")


def sample_rows():
    return [json.loads((NQ_SAMPLE / f"{n}-row.json").read_text()) for n in
            ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eight", "ninth", "tenth")]


def small_row(**changes):
    row = {"example_id": 7, "question_text": "who wrote it", "document_text": "<P> Ann wrote it . </P> <P> no </P>",
           "long_answer_candidates": [{"start_token": 0, "end_token": 6, "top_level": True},
                                      {"start_token": 6, "end_token": 9, "top_level": True}],
           "annotations": [{"yes_no_answer": "NONE", "long_answer": {"start_token": 0, "end_token": 6,
                                                                     "candidate_index": 0},
                            "short_answers": [{"start_token": 1, "end_token": 2}]}]}
    row.update(changes)
    return row


def write_jsonl(path, rows, blank_lines=0):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n" * blank_lines)
    return path


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer("bert", minilm_vocab())


@needs_sample
def test_reads_pretty_json_jsonl_and_gzip_alike(tmp_path):
    rows = sample_rows()
    from_json = [e for p in sorted(NQ_SAMPLE.glob("*.json")) for e in read_nq(p)]
    stats = ReadStats()
    from_jsonl = list(read_nq(write_jsonl(tmp_path / "a.jsonl", rows, blank_lines=2), stats))
    gz = tmp_path / "a.jsonl.gz"
    gz.write_bytes(gzip.compress((tmp_path / "a.jsonl").read_bytes()))
    from_gz = list(read_nq(gz))
    assert stats.rows == 10 and stats.blank_lines == 2
    assert sorted(e.example_id for e in from_json) == sorted(e.example_id for e in from_jsonl)
    assert [e.example_id for e in from_gz] == [e.example_id for e in from_jsonl]
    first = from_jsonl[0]
    assert first.words[first.gold.short[0][0]:first.gold.short[0][1]] == \
        "a newsletter sent to an advertising firm 's customers".split(" ")
    # the sample's answer types: short x4, long only x2, none x4
    kinds = [("short" if e.gold.short else "long") if e.gold else "none" for e in from_jsonl]
    assert kinds.count("short") == 4 and kinds.count("long") == 2 and kinds.count("none") == 4


@pytest.mark.parametrize("changes, field", [
    ({"long_answer_candidates": [{"start_token": 3, "end_token": 3}]}, "long_answer_candidates[0]"),
    ({"long_answer_candidates": [{"start_token": 0, "end_token": 99}]}, "long_answer_candidates[0]"),
    ({"annotations": [{"long_answer": {"start_token": 0, "end_token": 6, "candidate_index": 5}}]},
     "annotations[0].long_answer.candidate_index"),
    ({"annotations": [{"long_answer": {"start_token": 6, "end_token": 9, "candidate_index": 0}}]},
     "annotations[0].long_answer"),
    ({"annotations": [{"yes_no_answer": "YES", "short_answers": [{"start_token": 1, "end_token": 2}],
                       "long_answer": {"start_token": 0, "end_token": 6, "candidate_index": 0}}]},
     "annotations[0].yes_no_answer"),
    ({"example_id": "abc"}, "example_id"),
])
def test_bad_rows_name_file_line_and_field(tmp_path, changes, field):
    path = write_jsonl(tmp_path / "bad.jsonl", [small_row(), small_row(**changes)])
    with pytest.raises(InputError) as error:
        list(read_nq(path))
    assert error.value.line == 2 and error.value.field == field and error.value.path == str(path)


def test_truncated_gzip_and_broken_json_are_errors(tmp_path):
    data = gzip.compress(("\n".join(json.dumps(small_row()) for _ in range(50)) + "\n").encode())
    (tmp_path / "cut.jsonl.gz").write_bytes(data[:len(data) // 2])
    with pytest.raises(InputError, match="truncated or corrupt gzip"):
        list(read_nq(tmp_path / "cut.jsonl.gz"))
    (tmp_path / "broken.jsonl").write_text(json.dumps(small_row()) + "\n{not json\n")
    with pytest.raises(InputError) as error:
        list(read_nq(tmp_path / "broken.jsonl"))
    assert error.value.line == 2


def test_instances_label_gold_and_negative_candidates_with_html_tokens(tmp_path, tokenizer):
    example = next(read_nq(write_jsonl(tmp_path / "a.jsonl", [small_row()])))
    builder = NqInstanceBuilder(tokenizer, max_length=32, max_query_length=8, doc_stride=4)
    gold, negative = builder.instances(0, example, [0, 1])
    d = tokenizer.dictionary
    assert " ".join(d[i] for i in gold.tokens) == "[CLS] who wrote it [SEP] [unused1] ann wrote it . [unused10] [SEP]"
    assert (gold.answer_type, d[gold.tokens[gold.start]], d[gold.tokens[gold.end]]) == (SHORT, "ann", "ann")
    assert gold.words[gold.start] == 1 and gold.segment_start == 5
    assert (negative.answer_type, negative.start, negative.end) == (NO_ANSWER, 0, 0)
    yes = small_row(annotations=[{"yes_no_answer": "YES", "long_answer": {"start_token": 0, "end_token": 6,
                                                                          "candidate_index": 0}}])
    long_only = small_row(annotations=[{"long_answer": {"start_token": 0, "end_token": 6, "candidate_index": 0}}])
    for row, kind in ((yes, YES), (long_only, LONG_ONLY)):
        (x,) = builder.instances(0, next(read_nq(write_jsonl(tmp_path / "b.jsonl", [row]))), [0])
        assert (x.answer_type, x.start, x.end) == (kind, 0, 0)


def test_windows_cover_long_candidates_and_ignore_cut_spans(tmp_path, tokenizer):
    words = " ".join(f"w{i}" for i in range(40))
    row = small_row(document_text=f"<P> {words} </P>",
                    long_answer_candidates=[{"start_token": 0, "end_token": 42}, {"start_token": 1, "end_token": 2}],
                    annotations=[{"long_answer": {"start_token": 0, "end_token": 42, "candidate_index": 0},
                                  "short_answers": [{"start_token": 30, "end_token": 32}]}])
    example = next(read_nq(write_jsonl(tmp_path / "a.jsonl", [row])))
    builder = NqInstanceBuilder(tokenizer, max_length=32, max_query_length=8, doc_stride=16)
    windows = builder.instances(0, example, [0])
    covered = {int(w) for x in windows for w in x.words if w >= 0}
    assert covered == set(range(42)) and len(windows) > 1
    labelled = [x for x in windows if x.answer_type != IGNORE]
    assert labelled and all(x.words[x.start] == 30 and x.words[x.end] == 31 for x in labelled)
    assert builder.stats.truncated_spans == len(windows) - len(labelled) > 0
    assert window_starts(10, 4, 3) == [0, 3, 6] and window_starts(3, 4, 3) == [0]


@needs_sample
def test_sampling_pairs_gold_with_a_negative_and_counts_skips(tmp_path, tokenizer):
    examples = list(read_nq(write_jsonl(tmp_path / "a.jsonl", sample_rows())))
    builder = NqInstanceBuilder(tokenizer, max_length=64, max_query_length=16)
    rng = random.Random(0)
    picked = [builder.sample(e, rng) for e in examples]
    for e, p in zip(examples, picked):
        assert p == ([] if e.gold is None else [e.gold.candidate, p[1]]) and (not p or p[1] != p[0])
    assert builder.stats.skipped_rows == 4
    # stage 2: all mined mass on one negative; rows without answers give one hard negative
    hard = {e.example_id: {4: 1.0} for e in examples}  # 4 is never gold here
    for e in examples:
        assert builder.sample(e, rng, hard[e.example_id], negative_row_rate=1.0)[-1] == 4
