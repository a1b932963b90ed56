"""LEAR data: readers, character-to-token span mapping (English, Chinese, window edges), bad input."""
import json

import pytest

from fairseq_plugins.data.lear_dataset import LearNerDataset
from fairseq_plugins.data.lear_formats import read_bio_tsv, read_label_schema, read_span_jsonl
from fairseq_plugins.data.lear_inputs import encode_label_annotations, featurize
from fairseq_plugins.errors import InputError
from fairseq_plugins.tokenization import build_tokenizer
from lear_fixtures import LEAR_DATA, entity, minilm_vocab, write_jsonl, write_labels
from shared_data import SHARED_DATA

L2I = {"LOC": 0, "PER": 1, "ORG": 2}


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer("bert", minilm_vocab())


def tokens_at(tokenizer, window, start, end):
    return [tokenizer.dictionary[t] for t in window.tokens[start:end + 1]]


def test_english_offsets_map_through_the_tokenizer(tmp_path, tokenizer):
    text = "Reporter Jierong Zhou visited Shanghai-based Xinhua ."
    rows = [{"text": text, "entities": [entity(text, "Jierong Zhou", "PER"), entity(text, "Shanghai", "LOC"),
                                        entity(text, "Xinhua", "ORG")]}]
    examples = read_span_jsonl(write_jsonl(tmp_path / "a.json", rows), L2I)
    (window,), stats = featurize(examples, tokenizer, L2I, max_length=64)
    assert window.tokens[0] == tokenizer.dictionary.bos() and window.tokens[-1] == tokenizer.dictionary.eos()
    got = {(label, " ".join(tokens_at(tokenizer, window, i, j))) for i, j, label in window.spans}
    # "Jierong" is several word pieces: the span runs from its first piece to the last piece of "Zhou".
    jierong = " ".join(tokenizer.tokenize("Jierong Zhou"))
    assert got == {(1, jierong), (0, "shanghai"), (2, " ".join(tokenizer.tokenize("Xinhua")))}
    assert (stats.entities, stats.cut, stats.unaligned, window.missed) == (3, 0, 0, 0)


def test_chinese_space_separated_characters(tmp_path, tokenizer):
    text = "我 在 上 海 浦 东 和 北 京"
    rows = [{"text": text, "entities": [entity(text, "上 海 浦 东", "LOC"), entity(text, "北 京", "LOC")]}]
    (window,), stats = featurize(read_span_jsonl(write_jsonl(tmp_path / "z.json", rows), L2I), tokenizer, L2I, 64)
    # [CLS] is position 0; 浦 and 东 are [UNK] in this vocabulary, yet their offsets still place the span.
    assert sorted(window.spans) == [(3, 6, 0), (8, 9, 0)] and stats.unaligned == 0
    assert tokens_at(tokenizer, window, 8, 9) == ["北", "京"]


def test_windows_keep_edge_entities_and_count_cut_ones_as_misses(tmp_path, tokenizer):
    text = "a b c d e f g h"
    # Windows of 3 text tokens: [a b c] [d e f] [g h].
    rows = [{"text": text, "entities": [entity(text, "b c", "PER"),     # ends on the first window's edge
                                        entity(text, "d", "LOC"),       # starts the second window
                                        entity(text, "c d", "ORG"),     # crosses the edge
                                        entity(text, "f g h", "ORG")]}]  # crosses the next edge
    windows, stats = featurize(read_span_jsonl(write_jsonl(tmp_path / "w.json", rows), L2I), tokenizer, L2I, 5)
    assert [len(w.tokens) for w in windows] == [5, 5, 4]
    assert windows[0].spans == [(2, 3, 1)] and windows[1].spans == [(1, 1, 0)] and windows[2].spans == []
    assert (stats.cut, windows[0].missed, windows[1].missed) == (2, 2, 0)
    assert "2 cut by a window edge" in stats.report("w.json")
    batch = LearNerDataset(windows, 3, tokenizer.dictionary.pad()).collater([0, 1, 2])
    assert batch["target"]["missed"].tolist() == [2, 0, 0]
    assert batch["target"]["starts"][0, 2].tolist() == [0, 1, 0] and batch["target"]["ends"][0, 3, 1] == 1
    assert batch["target"]["text_mask"][2].tolist() == [False, True, True, False, False]


def test_entity_inside_a_token_is_kept_as_a_miss(tmp_path, tokenizer):
    text = "xinhuanet reported"
    rows = [{"text": text, "entities": [{"label": "ORG", "text": "xinhua", "start_offset": 0, "end_offset": 6}]}]
    windows, stats = featurize(read_span_jsonl(write_jsonl(tmp_path / "u.json", rows), L2I), tokenizer, L2I, 16)
    if "xinhua" in tokenizer.tokenize(text):
        pytest.skip("the vocabulary splits here")
    assert (stats.unaligned, windows[0].missed, windows[0].spans) == (1, 1, [])


MSRA_NER = SHARED_DATA / "uer" / "test_data" / "msra_ner" / "train.tsv"


@pytest.mark.skipif(not MSRA_NER.is_file(), reason="shared MSRA-NER sample absent")
def test_bio_tsv_reader_on_msra_ner():
    examples = read_bio_tsv(str(MSRA_NER), L2I)
    first = examples[0]
    assert [(first.text[s:e], label) for s, e, label in first.entities] == [("厦 门", "LOC"), ("金 门", "LOC")]
    assert sum(len(e.entities) for e in examples) > 1000


def test_bio_iob1_and_adjacent_entities(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("text_a\tlabel\n张 三 李 四 去 北 京\tB-PER I-PER B-PER I-PER O I-LOC I-LOC\n", encoding="utf-8")
    (ex,) = read_bio_tsv(path, L2I)
    assert [(ex.text[s:e], label) for s, e, label in ex.entities] == [("张 三", "PER"), ("李 四", "PER"),
                                                                       ("北 京", "LOC")]


@pytest.mark.skipif(not LEAR_DATA.is_dir(), reason="shared LEAR data absent")
def test_real_label_files_and_annotations(tokenizer):
    schema = read_label_schema(LEAR_DATA / "ace2004/label_map.json", LEAR_DATA / "ace2004/label_annotation.txt")
    assert schema.labels == ["FAC", "GPE", "LOC", "ORG", "PER", "VEH", "WEA"]
    examples = read_span_jsonl(LEAR_DATA / "ace2004/dev.json", schema.label_to_id)
    assert len(examples) == 745 and sum(len(e.entities) for e in examples) == 2514
    tokens = encode_label_annotations(tokenizer, schema.annotations, 128)
    assert tokens.shape[0] == 7 and (tokens[:, 0] == tokenizer.dictionary.bos()).all()
    zh = read_label_schema(LEAR_DATA / "zh_msra/label_map.json", LEAR_DATA / "zh_msra/label_annotation.txt")
    assert zh.labels == ["NR", "NS", "NT"] and zh.annotations[0] == "人名和虚构的人物形象"


def error_of(call):
    with pytest.raises(InputError) as info:
        call()
    return info.value


@pytest.mark.parametrize("entity_json, field, words", [
    ({"label": "PER", "text": "Anna", "start_offset": 0, "end_offset": 40}, "entities[0].start_offset", "outside"),
    ({"label": "PER", "text": "Bob", "start_offset": 0, "end_offset": 4}, "entities[0].text", "differs"),
    ({"label": "GPE", "text": "Anna", "start_offset": 0, "end_offset": 4}, "entities[0].label", "not in the label map"),
    ({"label": "PER", "text": "Anna", "start_offset": "0", "end_offset": 4}, "entities[0].start_offset", "integer"),
])
def test_bad_entities_name_file_line_and_field(tmp_path, entity_json, field, words):
    path = write_jsonl(tmp_path / "bad.json", [{"text": "fine", "entities": []},
                                               {"text": "Anna works", "entities": [entity_json]}])
    error = error_of(lambda: read_span_jsonl(path, L2I))
    assert (error.path, error.line, error.field) == (str(path), 2, field) and words in error.message


def test_empty_line_and_bad_json(tmp_path):
    path = tmp_path / "gap.json"
    path.write_text('{"text": "a", "entities": []}\n\n', encoding="utf-8")
    assert error_of(lambda: read_span_jsonl(path, L2I)).line == 2
    path.write_text('{"text": "a", "entities": [}\n', encoding="utf-8")
    assert "not JSON" in error_of(lambda: read_span_jsonl(path, L2I)).message


def test_label_files_must_agree(tmp_path):
    label_map, annotations = write_labels(tmp_path, annotations=["only one", "and two"])
    error = error_of(lambda: read_label_schema(label_map, annotations))
    assert error.path == str(annotations) and "2 descriptions but" in error.message
    annotations.write_text("a\n\nc\n", encoding="utf-8")
    error = error_of(lambda: read_label_schema(label_map, annotations))
    assert (error.line, error.field) == (2, "annotation")
    label_map.write_text(json.dumps([{"0": "A"}, {"B": 0}]))
    assert "disagree" in error_of(lambda: read_label_schema(label_map, annotations)).message


def test_bad_bio_tags(tmp_path):
    path = tmp_path / "b.tsv"
    path.write_text("text_a\tlabel\n北 京\tB-LOC X\n", encoding="utf-8")
    assert (error_of(lambda: read_bio_tsv(path, L2I)).line, error_of(lambda: read_bio_tsv(path, L2I)).field) == (2, "label")
    path.write_text("text_a\tlabel\n北 京\tB-GPE I-GPE\n", encoding="utf-8")
    assert "GPE" in error_of(lambda: read_bio_tsv(path, L2I)).message
    path.write_text("text_a\tlabel\n北 京\tB-LOC\n", encoding="utf-8")
    assert "1 tags for 2 tokens" in error_of(lambda: read_bio_tsv(path, L2I)).message
