"""The linking CLI and the crossencoder evaluation script, run as a user would, on the tiny
synthetic set of ``blink_fixtures`` with a biencoder trained for a few seconds."""
import json
import os
import select
import subprocess
import sys

import pytest

import blink_fixtures
import cli_utils
from test_blink_training import TINY, biencoder as trained_biencoder, data, fairseq_train  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def biencoder(trained_biencoder):
    return trained_biencoder[0]


def link_args(data, biencoder, encoded, *extra):
    return [sys.executable, cli_utils.REPO / "scripts" / "link.py", "--checkpoint", biencoder,
            "--kb", data / "kb.jsonl", "--encoded-kb", encoded, "--no-progress", *extra]


def as_text(record):
    """A valid mention row as a text with a character span."""
    left = record["context_left"] + " "
    text = left + record["mention"] + " " + record["context_right"]
    return {"id": record["label_id"], "text": text, "world": record["world"],
            "mentions": [{"start": len(left), "end": len(left) + len(record["mention"])}]}


def test_link_file_ranks_the_gold_entity_and_reports_skips(data, biencoder, top4, tmp_path):
    rows = blink_fixtures.mention_records(32, 1)
    text = "filler1 topic3a name3 topic3b"
    bad = {"id": "bad", "text": text, "world": "w1",
           "mentions": [{"start": 16, "end": 21}, {"start": 22, "end": 40}, {"start": 7, "end": 8},
                        {"start": 16, "end": 21, "mention": "name4"}, {"start": -1, "end": 3}]}
    blink_row = {k: rows[0][k] for k in ("context_left", "mention", "context_right", "world")}
    cli_utils.write_lines(tmp_path / "in.jsonl", [json.dumps(r) for r in [as_text(r) for r in rows] + [bad, blink_row]])
    proc = cli_utils.run_cli(link_args(data, biencoder, tmp_path / "enc", "--input", tmp_path / "in.jsonl",
                                       "--output", tmp_path / "out.jsonl", "--top-k", "5", "--restrict-to-world",
                                       "--index", "exact-bf16"))  # compared below with blink_retrieve's flat index
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(out) == 34  # one output line per input line, skips included
    titles = {e["id"]: (e["title"], e["world"]) for e in blink_fixtures.kb_records()}
    retrieved = [json.loads(line)["candidates"] for line in (top4 / "valid.jsonl").read_text().splitlines()]
    correct = 0
    for record, linked, same in zip(rows, out, retrieved):
        assert linked["id"] == record["label_id"]
        (mention,) = linked["mentions"]
        assert mention["mention"] == record["mention"]
        entities = mention["entities"]
        assert len(entities) == 5 and [e["score"] for e in entities] == sorted((e["score"] for e in entities),
                                                                               reverse=True)
        assert all(titles[e["id"]] == (e["title"], record["world"]) for e in entities)
        assert [e["id"] for e in entities[:4]] == same  # what blink_retrieve finds for the same mention
        correct += entities[0]["id"] == record["label_id"]
    assert correct / len(rows) > 0.25  # measured 0.375; chance is 1/12 within a world
    spans = out[32]["mentions"]
    assert spans[0]["mention"] == "name3" and len(spans[0]["entities"]) == 5
    assert [m.get("skipped") for m in spans[1:]] == ["span outside the text", "empty mention",
                                                     "span does not match its mention text", "span outside the text"]
    assert out[33]["id"] == 34 and out[33]["mentions"][0]["mention"] == rows[0]["mention"]
    assert "linked 34 mentions in 34 texts" in proc.stderr
    assert ("34 of 38 mentions kept (1 empty mention, 1 span does not match its mention text, "
            "2 span outside the text)") in proc.stderr


def test_malformed_line_is_a_clear_error(data, biencoder, tmp_path):
    cli_utils.write_lines(tmp_path / "in.jsonl", [json.dumps({"text": "a b", "mentions": []}),
                                                  json.dumps({"text": "a b", "mentions": [{"start": "0", "end": 1}]})])
    with pytest.raises(RuntimeError, match=r"in.jsonl:2: mentions\[0\].start: expected an integer"):
        cli_utils.run_cli(link_args(data, biencoder, tmp_path / "enc", "--input", tmp_path / "in.jsonl"))


def test_stdin_is_linked_line_by_line(data, biencoder, tmp_path):
    """The first answer arrives while standard input is still open."""
    line = json.dumps({"id": 7, "text": "topic5a name5 topic5b", "mentions": [{"start": 8, "end": 13}]})
    proc = subprocess.Popen([str(a) for a in link_args(data, biencoder, tmp_path / "enc", "--input", "-",
                                                       "--top-k", "3")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        answers = []
        for _ in range(2):
            proc.stdin.write(line + "\n")
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], 60)
            assert ready, "no answer while stdin stays open"
            answers.append(json.loads(proc.stdout.readline()))
        proc.stdin.close()
        assert proc.wait(60) == 0, proc.stderr.read()
    finally:
        proc.kill()
    assert answers[0] == answers[1]
    assert answers[0]["id"] == 7 and len(answers[0]["mentions"][0]["entities"]) == 3
    assert "<stdin>: 2 of 2 mentions kept" in proc.stderr.read()


@pytest.fixture(scope="module")
def top4(data, biencoder, tmp_path_factory):
    top = tmp_path_factory.mktemp("link_top4")
    cli_utils.run_script("blink_retrieve", "--checkpoint", biencoder, "--kb", data / "kb.jsonl", "--mentions",
                         data / "train.jsonl", data / "valid.jsonl", "--encoded-kb", top / "enc",
                         "--restrict-to-world", "--top-k", "4", "--out-dir", top, "--no-progress")
    return top


@pytest.fixture(scope="module")
def crossencoder(data, top4, tmp_path_factory):
    top = top4
    save = tmp_path_factory.mktemp("link_crossencoder")
    fairseq_train(top, save, "blink_crossencoder", "blink_crossencoder", "blink_crossencoder_tiny", *TINY,
                  "--vocab", data / "vocab.txt", "--kb", data / "kb.jsonl", "--max-seq-length", "48",
                  "--disable-validation", max_update=3, batch_size=4, lr=1e-3)
    return save / "checkpoint_last.pt", top


def test_crossencoder_reranks_the_biencoder_top_k(data, biencoder, crossencoder, tmp_path):
    cli_utils.write_lines(tmp_path / "in.jsonl", [json.dumps(as_text(r)) for r in blink_fixtures.mention_records(4, 2)])
    cli_utils.run_cli(link_args(data, biencoder, tmp_path / "enc", "--input", tmp_path / "in.jsonl", "--output",
                                tmp_path / "out.jsonl", "--top-k", "4", "--crossencoder", crossencoder[0]))
    for line in (tmp_path / "out.jsonl").read_text().splitlines():
        entities = json.loads(line)["mentions"][0]["entities"]
        assert len(entities) == 4 and all("biencoder_score" in e for e in entities)
        assert [e["score"] for e in entities] == sorted((e["score"] for e in entities), reverse=True)


def test_evaluate_crossencoder_writes_predictions_and_table(crossencoder, tmp_path):
    checkpoint, top = crossencoder
    proc = cli_utils.run_script("blink_evaluate_crossencoder", "--checkpoint", checkpoint,
                                "--topk", top / "valid.jsonl", "--out-dir", tmp_path)
    predictions = [json.loads(line) for line in (tmp_path / "valid.jsonl").read_text().splitlines()]
    assert len(predictions) == 32
    for p in predictions:
        assert p["prediction"] == p["candidates"][max(range(4), key=p["crossencoder_scores"].__getitem__)]
    report = json.loads((tmp_path / "accuracy.json").read_text())["valid.jsonl"]["accuracy"]
    rescored = cli_utils.run_script("blink_evaluate_crossencoder", "--predictions", tmp_path / "valid.jsonl")
    assert rescored.stdout.strip() in proc.stdout  # the same table from the written predictions
    assert set(report) == {"w0", "w1", "macro", "micro"} and report["micro"]["n"] == 32


def test_accuracy_table_of_hand_built_predictions(tmp_path):
    # w0: 3 mentions, 2 retrieved, 1 right; w1: 1 mention, retrieved, right; w2: 2, none retrieved.
    rows = [("w0", "A", ["A", "B"], "A"), ("w0", "C", ["C", "B"], "B"), ("w0", "D", ["B", "E"], "B"),
            ("w1", "F", ["G", "F"], "F"), ("w2", "H", ["I"], "I"), ("w2", "J", [], None)]
    cli_utils.write_lines(tmp_path / "p.jsonl", [json.dumps({"world": w, "label_id": g, "candidates": c,
                                                             "prediction": p}) for w, g, c, p in rows])
    out = cli_utils.run_script("blink_evaluate_crossencoder", "--predictions", tmp_path / "p.jsonl").stdout
    lines = [line.split() for line in out.splitlines()[2:]]
    assert lines == [
        ["w0", "3", "2", "1", "50.00", "33.33"],
        ["w1", "1", "1", "1", "100.00", "100.00"],
        ["w2", "2", "0", "0", "0.00", "0.00"],
        ["micro", "6", "3", "2", "66.67", "33.33"],
        # macro over all three worlds, w2 at zero included (BLINK's script would give 75.00 / 66.67)
        ["macro", "(3", "worlds)", "50.00", "44.44"],
    ]
