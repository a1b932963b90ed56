"""LUKE on ReCoRD: reader, windows and candidates, best-over-windows EM/F1, CLI training and prediction."""
import json
import math
import random

import numpy as np
import pytest

from cli_utils import BIN, REPO, USER_DIR, json_logs, run_cli, write_lines
from fairseq_plugins.criterions.luke_record import BestCandidateMeter
from fairseq_plugins.data.luke_record import RecordInputs, RecordStats, read_record, tokenize_pieces
from fairseq_plugins.errors import InputError

# ---- a format-faithful ReCoRD sample -------------------------------------------------------------------

PEOPLE = ["alice", "bob", "carol", "dave", "erin", "frank"]
PLACES = ["paris", "tokyo", "lima", "oslo"]
FILLER = ["the", "a", "yesterday", "and", "on", "monday", "said", "news", "report"]


def record_passage(rng, pid, questions=3, filler=6):
    """``A met B in C . @highlight D works for E .`` plus filler; queries ask for B, C or D."""
    a, b, d, e = rng.sample(PEOPLE, 4)
    c = rng.choice(PLACES)
    filler = " ".join(rng.choices(FILLER, k=rng.randint(0, filler)))
    parts = [filler, a, "met", b, "in", c, ".", "@highlight", d, "works", "for", e, "."]
    text, spans = "", {}
    for word in parts:
        if not word:
            continue
        text += (" " if text else "") + word
        if word in (a, b, c, d, e) and word not in spans:
            spans[word] = (len(text) - len(word), len(text) - 1)  # end inclusive, as ReCoRD
    entities = [{"start": s, "end": t} for s, t in sorted(spans.values())]
    templates = [(f"{a} met @placeholder", b), (f"{b} was in @placeholder", c), (f"@placeholder works for {e}", d)]
    qas = []
    for q, (query, answer) in enumerate(rng.sample(templates, questions)):
        s, t = spans[answer]
        qas.append({"id": f"{pid}-q{q}", "query": query, "answers": [{"start": s, "end": t, "text": text[s:t + 1]}]})
    return {"id": pid, "source": "generated", "passage": {"text": text, "entities": entities}, "qas": qas}


def write_record(path, n, seed, filler=6):
    rng = random.Random(seed)
    passages = [record_passage(rng, f"p{seed}-{i}", filler=filler) for i in range(n)]
    path.write_text(json.dumps({"version": "v1.0", "data": passages}))
    return path


WORDS = sorted(set(PEOPLE + PLACES + FILLER + ["met", "in", "works", "for", ".", "@", "highlight", "was"]))


def vocab_dir(tmp_path):
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "<ent>", "<ent2>"] + WORDS
    folder = tmp_path / "vocab"
    write_lines(folder / "vocab.txt", tokens)
    write_lines(folder / "dict.txt", tokens)
    return folder, {t: i for i, t in enumerate(tokens)}


# ---- reader ----------------------------------------------------------------------------------------------

def test_reader_reads_both_forms_and_names_bad_fields(tmp_path):
    passage = record_passage(random.Random(0), "p0")
    release = tmp_path / "dev.json"
    release.write_text(json.dumps({"version": "v1.0", "data": [passage]}))
    (read,) = read_record(release)
    assert read.entities == sorted((e["start"], e["end"] + 1) for e in passage["passage"]["entities"])
    question = read.questions[0]
    assert read.text[slice(*question.answers[0])] == question.answer_texts[0]
    lines = tmp_path / "val.jsonl"
    lines.write_text(json.dumps({**passage, "idx": 7}) + "\n\n" + json.dumps(passage) + "\n")
    assert [p.line for p in read_record(lines)] == [1, 3]

    def broken(change, **where):
        bad = json.loads(json.dumps(passage))
        change(bad)
        lines.write_text(json.dumps(passage) + "\n" + json.dumps(bad) + "\n")
        return read_record(lines)

    with pytest.raises(InputError, match=r"val\.jsonl:2: line 2\.passage\.entities\[1\]\.end: end 999 \(inclusive\)"):
        broken(lambda p: p["passage"]["entities"][1].update(end=999))
    with pytest.raises(InputError, match=r"val\.jsonl:2: line 2\.qas\[0\]\.query: .*@placeholder exactly once"):
        broken(lambda p: p["qas"][0].update(query="no slot here"))
    with pytest.raises(InputError, match=r"entities\[5\]: entity \(19, 23\) overlaps"):
        broken(lambda p: p["passage"]["entities"].append(dict(p["passage"]["entities"][0])))
    with pytest.raises(InputError, match=r"line 2\.qas\[1\]\.answers\[0\]\.start: missing"):
        broken(lambda p: p["qas"][1]["answers"][0].pop("start"))
    release.write_text(json.dumps({"version": "v1.0", "data": [passage, {"passage": {}}]}))
    with pytest.raises(InputError, match=r"dev\.json: data\[1\]\.passage\.text: missing"):
        read_record(release)


# ---- inputs ----------------------------------------------------------------------------------------------

def test_pieces_are_tokenized_alone_with_prefix_spaces_at_word_starts():
    seen = []

    def encode(texts):
        seen.extend(texts)
        return [[len(t)] for t in texts]

    pieces = tokenize_pieces("the U.S.-based firm", [4, 8], encode, " ")
    assert seen == [" the", " U.S.", "-based firm"]  # "-based" continues a word: no prefix space
    assert pieces == [[4], [5], [11]]
    seen.clear()
    assert tokenize_pieces("a  b", [1, 2], encode, "") == [[1], [], [1]] and seen == ["a", "b"]  # blank: nothing


def test_candidates_cover_marked_spans_and_windows_keep_whole_candidates(tmp_path):
    _, ids = vocab_dir(tmp_path)
    encode = lambda texts: [[ids.get(w, 1) for w in t.split()] for t in texts]  # noqa: E731
    rng = random.Random(3)
    passage = record_passage(rng, "p", questions=3)
    path = tmp_path / "train.json"
    path.write_text(json.dumps({"data": [passage]}))
    (read,) = read_record(path)
    inputs = RecordInputs(encode, "", ids["[CLS]"], ids["[SEP]"], ids["[MASK]"], ids["<ent>"], False,
                          max_seq_length=64, max_query_length=90, doc_stride=8)
    stats = RecordStats()
    examples, questions, texts = inputs.examples([read], stats)
    assert len(examples) == 3 and stats.windows == 3 and stats.candidates == 3 * 5
    for example, (qid, golds), candidate_texts in zip(examples, questions, texts):
        tokens = example.tokens
        assert tokens[example.firsts[0]] == ids["[MASK]"] and example.firsts[0] == example.lasts[0]
        for first, last, text in zip(example.firsts[1:], example.lasts[1:], candidate_texts):
            assert tokens[first] == tokens[last] == ids["<ent>"]
            assert tokens[first + 1:last].tolist() == [ids[text]]
        assert [t for t, label in zip(candidate_texts, example.labels) if label] == golds
        assert example.em.tolist() == example.labels.tolist()
    # A window of 14 tokens for the passage: several windows, each candidate whole in at least one.
    inputs.max_seq_length = 14 + len(examples[0].tokens) - len(inputs.passage(read)[0])
    stats = RecordStats()
    windows, _, _ = inputs.examples([read], stats)
    assert stats.windows > 3 and stats.candidates_in_no_window == 0
    for example in windows:
        assert all(example.tokens[f] == example.tokens[la] == ids["<ent>"]
                   for f, la in zip(example.firsts[1:], example.lasts[1:]))
    # A query longer than --max-query-length is cut around the placeholder (counted).
    inputs.max_query_length = 2
    stats = RecordStats()
    examples, _, _ = inputs.examples([read], stats)
    assert stats.truncated_queries == 3
    assert all(e.tokens[e.firsts[0]] == ids["[MASK]"] and e.segment_start == 4 for e in examples)


def test_best_candidate_over_windows_gives_record_em_f1():
    em, f1 = BestCandidateMeter(0), BestCandidateMeter(1)
    # question 0: window logits 0.3 (wrong, f1 0.5) then 1.2 (right); question 1: only a wrong window;
    # question 2: no candidate at all (scored 0).
    rows = [(0, 0.3, 0.0, 0.5, 0), (1, -2.0, 0.0, 0.0, 1)]
    later = [(0, 1.2, 1.0, 1.0, 2), (2, -math.inf, 0.0, 0.0, -1)]
    for meter in (em, f1):
        meter.update(rows)
        meter.update(later)
    assert em.smoothed_value == pytest.approx(100 / 3, abs=0.01)
    assert f1.smoothed_value == pytest.approx(100 / 3, abs=0.01)
    em.update([(1, 5.0, 1.0, 1.0, 0)])
    assert em.smoothed_value == pytest.approx(200 / 3, abs=0.01)


# ---- CLI ------------------------------------------------------------------------------------------------

MODEL_FLAGS = ("--arch", "luke_tiny", "--encoder-layers", "2", "--encoder-embed-dim", "32",
               "--encoder-ffn-embed-dim", "64", "--encoder-attention-heads", "2", "--entity-emb-size", "16",
               "--dropout", "0", "--attention-dropout", "0", "--pooler-dropout", "0", "--max-positions", "64")


def test_fairseq_train_record_then_predict_from_the_checkpoint(tmp_path):
    data = tmp_path / "record"
    data.mkdir()
    write_record(data / "train.json", 48, 0)
    write_record(data / "dev.json", 12, 1)
    vocab, _ = vocab_dir(tmp_path)
    save = tmp_path / "ck"
    proc = run_cli([BIN / "fairseq-train", data, "--user-dir", USER_DIR, "--cpu", "--task", "luke_record",
                    "--criterion", "luke_record", "--vocab-dir", vocab, *MODEL_FLAGS, "--max-seq-length", "40",
                    "--doc-stride", "8", "--batch-size", "8", "--optimizer", "adam", "--lr", "3e-3",
                    "--lr-scheduler", "fixed", "--max-epoch", "12", "--num-workers", "0", "--save-dir", save,
                    "--no-epoch-checkpoints", "--no-last-checkpoints", "--best-checkpoint-metric", "em",
                    "--maximize-best-checkpoint-metric", "--seed", "1", "--required-batch-size-multiple", "1",
                    "--log-format", "json", "--log-interval", "1", "--no-progress-bar"], timeout=120)
    out = proc.stdout + proc.stderr
    train = [float(r["train_loss"]) for r in json_logs(out, "train")]
    valid = json_logs(out, "valid")
    assert len(train) == 12 and min(train[-3:]) < 0.6 * train[0], train
    best = max(float(r["valid_em"]) for r in valid)
    assert best > 60, valid  # 5 candidates a question: chance is 20
    assert "windows" in out and "queries cut" in out
    predictions = tmp_path / "dev.predictions.json"
    result = predict(save / "checkpoint_best.pt", data / "dev.json", predictions)
    assert reported_em(result) == pytest.approx(best, abs=0.01)  # the checkpoint's valid EM, recomputed
    assert len(json.loads(predictions.read_text())) == 36
    # Longer passages: several windows a question, the best candidate over them; every question answered.
    long = write_record(tmp_path / "long.json", 6, 2, filler=14)
    result = predict(save / "checkpoint_best.pt", long, predictions)
    written = json.loads(predictions.read_text())
    assert "18 predictions for 18 questions" in result.stdout
    windows = int(result.stderr.split("6 passages, 18 questions, ")[1].split()[0])
    assert windows > 18, result.stderr
    golds = {q["id"]: q["answers"][0]["text"] for p in json.loads(long.read_text())["data"] for q in p["qas"]}
    assert set(written) == set(golds)
    assert 100 * np.mean([written[q] == golds[q] for q in golds]) == pytest.approx(reported_em(result), abs=0.01)


def predict(checkpoint, path, output):
    return run_cli([BIN / "python", REPO / "scripts" / "predict_luke_record.py", "--checkpoint", checkpoint,
                    "--input", path, "--output", output])


def reported_em(result):
    """The exact match of the score table's row."""
    return float(result.stdout.strip().splitlines()[-1].split()[1])
