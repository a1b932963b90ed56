"""The NQ pipeline's SQuAD 2.0 stage: nq_reader on SQuAD 2.0 json, official EM/F1 with the no-answer threshold,
then --finetune-from-model into NQ stage 1."""
import json

import pytest
from fairseq import checkpoint_utils

from cli_utils import BIN, USER_DIR, json_logs, load_script, run_cli
from fairseq_plugins.data.nq_format import read_nq
from fairseq_plugins.data.squad_dataset import QaWindowDataset
from fairseq_plugins.data.squad_format import gold_answers, read_squad
from fairseq_plugins.metrics.squad import squad_v2_scores
from fairseq_plugins.tasks.nq_reader import NqReaderTask, NqReaderTaskConfig
from squad_fixtures import write_squad_v2
from test_nq_data import NQ_SAMPLE, needs_sample
from test_nq_training import TINY
from lear_fixtures import minilm_vocab


def squad_stage(data, save_dir):
    return run_cli([BIN / "fairseq-train", data, "--user-dir", USER_DIR, "--cpu", "--task", "extractive_qa",
                    "--vocab", minilm_vocab(), "--metric", "squad_v2", "--max-length", "48",
                    "--max-query-length", "16", "--doc-stride", "16", *TINY, "--criterion", "nq_reader",
                    "--batch-size", "16", "--optimizer", "adam", "--lr", "3e-3", "--lr-scheduler", "fixed",
                    "--max-epoch", "3", "--seed", "1", "--num-workers", "0", "--save-dir", save_dir,
                    "--log-format", "json", "--log-interval", "1", "--no-progress-bar", "--no-epoch-checkpoints",
                    "--required-batch-size-multiple", "1", "--best-checkpoint-metric", "f1",
                    "--maximize-best-checkpoint-metric"])


@needs_sample
def test_squad2_stage_scores_officially_and_starts_nq_stage1(tmp_path):
    data = write_squad_v2(tmp_path / "squad2")
    proc = squad_stage(data, tmp_path / "squad")
    log = proc.stdout + proc.stderr
    train = [float(r["train_loss"]) for r in json_logs(log, "train")]
    assert train[-1] < train[0]
    valid = json_logs(log, "valid")
    assert all({"valid_exact_match", "valid_f1", "valid_HasAns_f1", "valid_NoAns_f1", "valid_type_acc"} <= r.keys()
               for r in valid)

    checkpoint = tmp_path / "squad" / "checkpoint_best.pt"
    out = tmp_path / "pred.json"
    load_script("qa_predict").main(["--checkpoint", str(checkpoint), "--input", str(data / "dev.json"),
                                    "--output", str(out), "--evaluate", "--cpu"])
    answers = json.loads(out.read_text())
    na_probs = json.loads((tmp_path / "pred.na_prob.json").read_text())
    dev = read_squad(data / "dev.json")
    assert set(answers) == set(na_probs) == {e.qid for e in dev}
    assert all((text == "") == (na_probs[qid] > 0.5) for qid, text in answers.items())
    scores = squad_v2_scores(gold_answers(dev), answers, na_probs, 0.5)
    best = max(valid, key=lambda r: float(r["valid_f1"]))
    assert float(best["valid_f1"]) == pytest.approx(scores["f1"], abs=0.01)
    assert scores["best_f1"] >= scores["f1"]  # the threshold search can only help

    # NQ stage 1 (recipes/nq/stage1.sh) starts with --finetune-from-model from this checkpoint: the nq_reader
    # task builds the same model, which takes every weight of the SQuAD stage (strictly) and reads NQ candidates
    nq_task = NqReaderTask.setup_task(NqReaderTaskConfig(data=str(NQ_SAMPLE), vocab=str(minilm_vocab()),
                                                         max_length=96, max_query_length=24))
    state = checkpoint_utils.load_checkpoint_to_cpu(str(checkpoint))
    model = nq_task.build_model(state["cfg"].model)
    model.load_state_dict(state["model"], strict=True)
    row = next(read_nq(NQ_SAMPLE / "first-row.json"))
    builder = nq_task.builder()
    instances = builder.instances(0, row, range(3))
    batch = QaWindowDataset(instances, nq_task.source_dictionary.pad()).collater(list(range(len(instances))))
    out = model.eval()(**batch["net_input"])
    assert out["answer_type"].shape == (len(instances), 5) and out["start"].shape == batch["net_input"]["src_tokens"].shape
