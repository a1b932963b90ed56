"""In-batch negatives across workers: 2 CPU processes (torchrun + gloo) with --batch-size 4 each
train exactly like 1 process with --batch-size 8.

Batches are taken in file order (``--no-shuffle``, and ``--curriculum`` keeps fairseq from
shuffling batches), so update n of the 2-process run sees batches 2n and 2n+1, whose
concatenation is the 1-process batch n. Every mention is then scored against the 8 gathered
candidates: the logged loss must equal the 1-process loss, and since the gather's backward
returns the candidates' gradient from both workers' mentions, the weights after several
updates must match too (per-worker negatives would give a different loss from the first update).
Plain SGD, because Adam turns gradients that are float noise (an attention key bias has none)
into full-size steps that differ between the runs.
"""
import pytest
import torch

import blink_fixtures
import cli_utils
import fairseq_plugins  # noqa: F401  (its allow-list lets torch.load(weights_only=True) read checkpoints)
from test_blink_training import TINY

UPDATES = 3


def train_args(data, save_dir, batch_size):
    return [data, "--user-dir", cli_utils.USER_DIR, "--cpu", "--task", "blink_biencoder",
            "--criterion", "blink_in_batch", "--arch", "blink_biencoder_tiny", *TINY,
            "--vocab", data / "vocab.txt", "--kb", data / "kb.jsonl", "--no-shuffle", "--curriculum", "100",
            "--batch-size", str(batch_size), "--required-batch-size-multiple", "1", "--max-update", str(UPDATES),
            "--optimizer", "sgd", "--lr", "0.5", "--lr-scheduler", "fixed", "--seed", "1", "--num-workers", "0",
            "--save-dir", save_dir, "--no-epoch-checkpoints", "--disable-validation", "--log-format", "json",
            "--log-interval", "1", "--no-progress-bar", "--max-context-length", "32",
            "--max-candidate-length", "16"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return blink_fixtures.write_dataset(tmp_path_factory.mktemp("blink_dist") / "data", n_train=48, n_valid=8)


def test_two_workers_score_against_the_global_batch(data, tmp_path):
    one = cli_utils.run_cli([cli_utils.BIN / "fairseq-train", *train_args(data, tmp_path / "one", 8)])
    two = cli_utils.run_cli([cli_utils.BIN / "torchrun", "--standalone", "--nproc_per_node", "2",
                             cli_utils.REPO / "scripts" / "launch_distributed.py",
                             *train_args(data, tmp_path / "two", 4)])
    reference, logs = cli_utils.train_inner_logs(one.stdout), cli_utils.train_inner_logs(two.stdout)

    assert [int(r["num_updates"]) for r in logs] == list(range(1, UPDATES + 1))
    for ours, theirs in zip(logs, reference):
        assert int(ours["bsz"]) == int(theirs["bsz"]) == 8
        assert float(ours["candidates"]) == 8  # each mention saw both workers' candidates
        assert float(ours["loss"]) == pytest.approx(float(theirs["loss"]), abs=2e-3)
    ours, theirs = (torch.load(p / "checkpoint_last.pt", weights_only=True)["model"]
                    for p in (tmp_path / "two", tmp_path / "one"))
    for name, tensor in ours.items():
        torch.testing.assert_close(tensor, theirs[name], rtol=1e-4, atol=1e-5)
