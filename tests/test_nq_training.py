"""The NQ pipeline on the ten real rows: stage-1 fairseq-train, mining, stage-2 training, ensemble prediction."""
import json
import logging
import shutil

import pytest

from cli_utils import BIN, USER_DIR, json_logs, load_script, run_cli, run_script
from lear_fixtures import minilm_vocab
from test_nq_data import NQ_SAMPLE, needs_sample

pytestmark = needs_sample
TINY = ["--arch", "nq_reader_tiny", "--encoder-layers", "2", "--encoder-embed-dim", "32",
        "--encoder-ffn-embed-dim", "64", "--encoder-attention-heads", "2", "--dropout", "0",
        "--attention-dropout", "0", "--head-dropout", "0"]


def nq_train(data, save_dir, *extra):
    return run_cli([BIN / "fairseq-train", data, "--user-dir", USER_DIR, "--cpu", "--task", "nq_reader",
                    "--vocab", minilm_vocab(), "--max-length", "96", "--max-query-length", "24", *TINY,
                    "--criterion", "nq_reader", "--batch-size", "8", "--optimizer", "adam", "--lr", "3e-3",
                    "--lr-scheduler", "fixed", "--seed", "1", "--num-workers", "0", "--save-dir", save_dir,
                    "--log-format", "json", "--log-interval", "1", "--no-progress-bar", "--no-epoch-checkpoints",
                    *extra])


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("nq")
    for split in ("train", "valid"):
        shutil.copytree(NQ_SAMPLE, root / split)
    return root


def test_stage1_mining_stage2_and_ensemble_prediction(data, tmp_path, caplog):
    stage1 = nq_train(data, tmp_path / "stage1", "--max-epoch", "8")
    valid = [r["valid_loss"] for r in json_logs(stage1.stdout + stage1.stderr, "valid")]
    assert len(valid) == 8 and float(valid[-1]) < float(valid[0])
    assert "4 rows with no sampled candidate" in stage1.stdout + stage1.stderr  # the unanswered rows, reported
    checkpoint = tmp_path / "stage1" / "checkpoint_last.pt"

    negatives = tmp_path / "negatives.jsonl"
    run_script("nq_mine_negatives", "--checkpoint", checkpoint, "--input", *sorted(NQ_SAMPLE.glob("*.json")),
               "--output", negatives, "--cpu")
    mined = {r["example_id"]: r for r in map(json.loads, negatives.read_text().splitlines())}
    rows = {r["example_id"]: r for r in (json.loads(p.read_text()) for p in NQ_SAMPLE.glob("*.json"))}
    assert mined.keys() == rows.keys()
    for example_id, r in mined.items():
        gold = rows[example_id]["annotations"][0]["long_answer"]["candidate_index"]
        expected = [c for c in range(len(rows[example_id]["long_answer_candidates"])) if c != gold]
        assert sorted(r["candidates"]) == expected and all(0 <= p <= 1 for p in r["p_answer"])

    stage2 = nq_train(data, tmp_path / "stage2", "--max-epoch", "1", "--negative-distributions", negatives,
                      "--negative-row-rate", "1.0", "--restore-file", checkpoint, "--reset-optimizer",
                      "--reset-dataloader", "--reset-meters")
    assert "0 rows with no sampled candidate" in stage2.stdout + stage2.stderr

    output = tmp_path / "predictions.json"
    proc = run_script("nq_predict", "--checkpoint", checkpoint, tmp_path / "stage2" / "checkpoint_last.pt",
                      "--weights", "0.7", "0.3", "--input", *sorted(NQ_SAMPLE.glob("*.json")), "--output", output,
                      "--kaggle-csv", tmp_path / "submission.csv", "--cpu")
    predictions = json.loads(output.read_text())["predictions"]
    assert {p["example_id"] for p in predictions} == rows.keys()
    for p in predictions:
        candidates = rows[p["example_id"]]["long_answer_candidates"]
        long = p["long_answer"]
        assert {"start_token": long["start_token"], "end_token": long["end_token"]} in [
            {"start_token": c["start_token"], "end_token": c["end_token"]} for c in candidates]
        assert all(long["start_token"] <= s["start_token"] < s["end_token"] <= long["end_token"]
                   for s in p["short_answers"])
        assert 0 <= p["long_answer_score"] <= 1
    metrics = json.loads(proc.stdout[proc.stdout.index("{"):])
    assert metrics["non_null_threshold"] == 1 and 0 <= metrics["kaggle-micro-f1"] <= 1
    assert len((tmp_path / "submission.csv").read_text().splitlines()) == 1 + 2 * len(rows)

    # candidate pruning (in-process): a cascade keeps at most 3, then 1 candidate per row
    pruned, predict = tmp_path / "pruned.json", load_script("nq_predict")
    inputs = [str(p) for p in sorted(NQ_SAMPLE.glob("*.json"))]
    with caplog.at_level(logging.INFO):
        predict.main(["--checkpoint", str(checkpoint), "--input", *inputs, "--output", str(pruned), "--prune",
                      str(checkpoint), "3", "0.0", "--prune", str(checkpoint), "1", "0.0", "--cpu"])
    total = sum(len(r["long_answer_candidates"]) for r in rows.values())
    assert f"10 rows, 30 of {total} candidates kept, 0 rows left" in caplog.text
    assert "10 rows, 10 of 30 candidates kept, 0 rows left" in caplog.text
    for p in json.loads(pruned.read_text())["predictions"]:  # the survivor is the long answer
        candidates = rows[p["example_id"]]["long_answer_candidates"]
        assert [p["long_answer"]["start_token"], p["long_answer"]["end_token"]] in [
            [c["start_token"], c["end_token"]] for c in candidates]
    with caplog.at_level(logging.INFO):
        predict.main(["--checkpoint", str(checkpoint), "--input", *inputs[:2], "--output", str(pruned), "--prune",
                      str(checkpoint), "5", "1.0", "--cpu"])  # p > 1 keeps nothing: no answer
    assert "2 rows left without a candidate" in caplog.text
    assert all(p["long_answer"]["start_token"] == -1 for p in json.loads(pruned.read_text())["predictions"])
