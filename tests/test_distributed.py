"""2-process CPU training (torchrun + gloo) is real data parallelism.

If the gradients are all-reduced and each rank trains on its own shard, 2
processes x ``--batch-size B`` take the same steps as 1 process with
``--batch-size B --update-freq 2``: both sum the gradients of the same two
batches per update. Dropout is off and seeds are fixed, so losses and weights
must match.
"""
import shutil

import pytest
import torch

import cli_utils
import fairseq_plugins  # noqa: F401  (loads the checkpoints below with weights_only)

BATCH = 4


@pytest.fixture(scope="module")
def data_bin(tmp_path_factory):
    return cli_utils.make_data_bin(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def single_run(data_bin, tmp_path_factory):
    """The reference: 1 process, 4 updates of 2 batches each, saved at update 2 and 4."""
    save_dir = tmp_path_factory.mktemp("one_proc")
    proc = cli_utils.train(data_bin, save_dir, "--update-freq", "2", "--save-interval-updates", "2",
                           max_update=4, batch_size=BATCH)
    return cli_utils.train_inner_logs(proc.stdout), save_dir


@pytest.fixture(scope="module")
def two_process_run(data_bin, tmp_path_factory):
    save_dir = tmp_path_factory.mktemp("two_procs")
    proc = cli_utils.train_distributed(2, data_bin, save_dir, max_update=2, batch_size=BATCH)
    return cli_utils.train_inner_logs(proc.stdout), save_dir


def assert_same_curve(logs, reference):
    assert [r["num_updates"] for r in logs] == [r["num_updates"] for r in reference]
    for ours, theirs in zip(logs, reference):
        assert float(ours["loss"]) == pytest.approx(float(theirs["loss"]), abs=2e-3)
        assert float(ours["gnorm"]) == pytest.approx(float(theirs["gnorm"]), abs=2e-3)


def assert_same_weights(checkpoint, reference):
    ours, theirs = (torch.load(path, weights_only=True)["model"] for path in (checkpoint, reference))
    for name, tensor in ours.items():
        torch.testing.assert_close(tensor, theirs[name], rtol=1e-4, atol=1e-5)


def test_two_processes_equal_one_with_update_freq_2(two_process_run, single_run):
    logs, save_dir = two_process_run
    reference, reference_dir = single_run

    assert [int(r["bsz"]) for r in logs] == [2 * BATCH] * 2  # one update = both ranks' batches
    assert_same_curve(logs, reference[:2])
    assert_same_weights(save_dir / "checkpoint_last.pt", reference_dir / "checkpoint_1_2.pt")


def test_distributed_resume(two_process_run, single_run, data_bin, tmp_path):
    """Rank 0 loads checkpoint_last.pt and broadcasts it; the other rank unpickles it too."""
    _, save_dir = two_process_run
    reference, reference_dir = single_run
    shutil.copy(save_dir / "checkpoint_last.pt", tmp_path)
    resumed = cli_utils.train_distributed(2, data_bin, tmp_path, max_update=4, batch_size=BATCH)

    assert "@ 2 updates" in resumed.stdout
    assert_same_curve(cli_utils.train_inner_logs(resumed.stdout), reference[2:])
    assert_same_weights(tmp_path / "checkpoint_last.pt", reference_dir / "checkpoint_last.pt")
