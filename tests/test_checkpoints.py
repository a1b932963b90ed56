"""Checkpoints written by ``fairseq-train --user-dir fairseq_plugins`` load on torch >= 2.6.

torch now loads with ``weights_only=True``; ``fairseq_plugins.compat`` allow-lists
what fairseq checkpoints hold. These tests drive the real CLI: resume,
``--restore-file``, ``load_model_ensemble`` and averaging; and check that the
allow-list did not turn the weights-only safety off.
"""
import os
import pickle
import shutil
import subprocess

import numpy as np
import pytest
import torch
from fairseq import checkpoint_utils

import cli_utils
import fairseq_plugins  # noqa: F401  (applies compat in this process too)
from fairseq_plugins.errors import InputError


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A 4-update run that saves checkpoint_1_U.pt after every update U; returns its losses too."""
    root = tmp_path_factory.mktemp("ckpt")
    data_bin = cli_utils.make_data_bin(root)
    save_dir = root / "run"
    proc = cli_utils.train(data_bin, save_dir, "--save-interval-updates", "1", max_update=4)
    return data_bin, save_dir, losses(proc)


def losses(proc):
    return {int(r["num_updates"]): float(r["loss"]) for r in cli_utils.train_inner_logs(proc.stdout)}


def test_checkpoint_holds_only_allow_listed_globals(run):
    _, save_dir, _ = run
    assert "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD" not in os.environ
    state = torch.load(save_dir / "checkpoint_last.pt", weights_only=True)
    assert state["optimizer_history"][-1]["num_updates"] == 4


def test_resume_continues_update_count_and_curve(run, tmp_path):
    """Stopped after update 2 (checkpoint_last.pt = checkpoint_1_2.pt), resumed to 4."""
    data_bin, save_dir, straight = run
    shutil.copy(save_dir / "checkpoint_1_2.pt", tmp_path / "checkpoint_last.pt")
    resumed = cli_utils.train(data_bin, tmp_path, max_update=4)

    assert "Loaded checkpoint" in resumed.stdout and "@ 2 updates" in resumed.stdout
    assert losses(resumed) == pytest.approx({3: straight[3], 4: straight[4]}, abs=2e-3)


def test_restore_file(run, tmp_path):
    data_bin, save_dir, straight = run
    proc = cli_utils.train(data_bin, tmp_path, "--restore-file", save_dir / "checkpoint_1_2.pt",
                           max_update=3)
    assert losses(proc) == pytest.approx({3: straight[3]}, abs=2e-3)


def test_load_model_ensemble(run):
    _, save_dir, _ = run
    path = save_dir / "checkpoint_last.pt"
    (model,), cfg = checkpoint_utils.load_model_ensemble([str(path)])
    saved = torch.load(path, weights_only=True)["model"]
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(tensor, saved[name])
    assert cfg.model._name == cli_utils.ARCH


def test_average_checkpoints_is_mean_of_model_tensors(run, tmp_path):
    _, save_dir, _ = run
    first, second = save_dir / "checkpoint_1_3.pt", save_dir / "checkpoint_1_4.pt"
    explicit, latest = tmp_path / "explicit.pt", tmp_path / "latest.pt"
    average_checkpoints = cli_utils.load_script("average_checkpoints")
    average_checkpoints.main(["--inputs", str(first), str(second), "--output", str(explicit)])
    average_checkpoints.main(["--inputs", str(save_dir), "--num-update-checkpoints", "2",
                              "--output", str(latest)])

    a, b = (torch.load(p, weights_only=True) for p in (first, second))
    averaged = torch.load(explicit, weights_only=True)
    assert a["model"].keys() == averaged["model"].keys()
    for name, tensor in averaged["model"].items():
        torch.testing.assert_close(tensor, (a["model"][name] + b["model"][name]) / 2)
        torch.testing.assert_close(tensor, torch.load(latest, weights_only=True)["model"][name])
    assert averaged["optimizer_history"] == b["optimizer_history"]  # other fields: newest input
    (model,), _ = checkpoint_utils.load_model_ensemble([str(explicit)])
    assert model.state_dict().keys() == averaged["model"].keys()


def test_numpy_values_in_training_state_load(run, tmp_path):
    """Criteria and metrics that log numpy values put them in the meters and in ``best``."""
    _, save_dir, _ = run
    state = torch.load(save_dir / "checkpoint_last.pt", weights_only=True)
    state["extra_state"]["best"] = np.float64(1.25)
    state["extra_state"]["metrics"]["valid"].append(
        (500, "_counts", "AverageMeter", {"val": np.array([3, 2], dtype=np.int64), "count": np.int64(1)}))
    path = tmp_path / "numpy.pt"
    torch.save(state, path)

    loaded = checkpoint_utils.load_checkpoint_to_cpu(str(path))
    assert loaded["extra_state"]["best"] == 1.25
    np.testing.assert_array_equal(loaded["extra_state"]["metrics"]["valid"][-1][3]["val"], [3, 2])


class _RunsShellCommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("payload", ["os.system", "object array"])
def test_arbitrary_pickles_are_still_refused(tmp_path, payload):
    marker = tmp_path / "pwned"
    if payload == "os.system":
        obj = {"model": {}, "extra_state": _RunsShellCommand(marker)}
    else:
        obj = {"model": {}, "extra_state": np.array([subprocess.Popen], dtype=object)}
    path = tmp_path / "malicious.pt"
    torch.save(obj, path)

    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        torch.load(path)
    with pytest.raises(InputError, match="weights-only loader refuses") as err:
        checkpoint_utils.load_checkpoint_to_cpu(str(path))
    assert isinstance(err.value.__cause__, pickle.UnpicklingError)
    assert not marker.exists()


# ---- complete or absent; a bad file gets one clear error ------------------------------------------

def truncated_copy(src, dst):
    data = open(src, "rb").read()
    with open(dst, "wb") as f:
        f.write(data[: len(data) // 2])
    return dst


def test_checkpoint_copy_is_atomic(run, tmp_path, monkeypatch):
    """fairseq copies its first checkpoint to checkpoint_last.pt; a copy that dies leaves the old file."""
    from fairseq.file_io import PathManager

    _, save_dir, _ = run
    dst = tmp_path / "checkpoint_last.pt"
    dst.write_bytes(b"previous")

    def dies(*args, **kwargs):
        raise KeyboardInterrupt("killed mid-copy")

    monkeypatch.setattr(shutil, "copyfileobj", dies)
    with pytest.raises(KeyboardInterrupt):
        PathManager.copy(str(save_dir / "checkpoint_1_2.pt"), str(dst), overwrite=True)
    assert dst.read_bytes() == b"previous" and os.listdir(tmp_path) == ["checkpoint_last.pt"]
    monkeypatch.undo()
    assert PathManager.copy(str(save_dir / "checkpoint_1_2.pt"), str(dst), overwrite=True)
    assert dst.read_bytes() == (save_dir / "checkpoint_1_2.pt").read_bytes()


def test_truncated_checkpoint_last_stops_resume_naming_it(run, tmp_path):
    data_bin, save_dir, _ = run
    shutil.copy(save_dir / "checkpoint_1_2.pt", tmp_path / "checkpoint_1_2.pt")
    truncated_copy(save_dir / "checkpoint_last.pt", tmp_path / "checkpoint_last.pt")
    with pytest.raises(RuntimeError) as err:
        cli_utils.train(data_bin, tmp_path, max_update=4)
    message = str(err.value)
    assert f"{tmp_path / 'checkpoint_last.pt'}: cannot be loaded: the checkpoint is truncated or corrupt" in message
    assert "checkpoint_1_2.pt" in message and "--resume-fallback" in message


def test_resume_fallback_takes_the_newest_readable_checkpoint(run, tmp_path):
    data_bin, save_dir, straight = run
    shutil.copy(save_dir / "checkpoint_1_2.pt", tmp_path / "checkpoint_1_2.pt")
    truncated_copy(save_dir / "checkpoint_last.pt", tmp_path / "checkpoint_last.pt")
    proc = cli_utils.run_script("train", *cli_utils.train_args(data_bin, tmp_path, "--resume-fallback", max_update=4))
    assert "resuming from" in proc.stdout + proc.stderr and "@ 2 updates" in proc.stdout
    assert losses(proc) == pytest.approx({3: straight[3], 4: straight[4]}, abs=2e-3)


def test_truncated_checkpoint_for_evaluation_and_conversion(run, tmp_path):
    from fairseq_plugins.conversion.fairseq_checkpoint import load_checkpoint

    _, save_dir, _ = run
    bad = truncated_copy(save_dir / "checkpoint_last.pt", tmp_path / "model.pt")
    with pytest.raises(InputError, match="truncated or corrupt"):
        checkpoint_utils.load_model_ensemble([str(bad)])
    with pytest.raises(InputError, match=str(bad)):
        load_checkpoint(str(bad))
    proc = subprocess.run([str(cli_utils.BIN / "python"), str(cli_utils.REPO / "scripts" / "convert_fairseq_to_hf.py"),
                           "--checkpoint", str(bad), "--out-dir", str(tmp_path / "hf")], capture_output=True, text=True)
    assert proc.returncode != 0 and str(bad) in proc.stderr and "Traceback" not in proc.stderr


def test_same_seed_same_loss_curve(run, tmp_path):
    data_bin, _, straight = run
    again = cli_utils.train(data_bin, tmp_path, "--no-save", max_update=4)
    assert losses(again) == straight


def test_non_finite_gradients_name_the_update_and_batch(run, tmp_path):
    data_bin, _, _ = run
    with pytest.raises(RuntimeError) as err:
        cli_utils.train(data_bin, tmp_path, "--lr", "1e30", max_update=6)
    message = str(err.value)
    assert "gradients are Nan/Inf at update" in message and "example ids in the batch: [" in message
