"""Training survives SIGKILL: killed at random points, resumed from checkpoint_last.pt, it ends where an
uninterrupted run ends (same parameters, same update count). Slow: run by ``make test-slow``."""
import os
import random
import re
import signal
import subprocess
import threading

import pytest
import torch

import fairseq_plugins  # noqa: F401  (checkpoint allow-list)
from cli_utils import BIN, USER_DIR, json_logs, run_cli
from test_luke_typing import MODEL_FLAGS as LUKE_FLAGS, open_entity_file, tiny_vocab_dir
from test_uer_preprocess import TINY as UER_FLAGS, prepare as prepare_uer

pytestmark = pytest.mark.slow

COMMON = ["--user-dir", USER_DIR, "--cpu", "--optimizer", "adam", "--lr", "3e-3", "--lr-scheduler", "fixed",
          "--seed", "3", "--num-workers", "0", "--required-batch-size-multiple", "1", "--batch-size", "4",
          "--save-interval-updates", "3", "--keep-interval-updates", "2", "--no-epoch-checkpoints",
          "--log-format", "json", "--log-interval", "1", "--no-progress-bar"]
# Events a kill is timed against: after an update, as a checkpoint write starts, as it finishes
# (fairseq then copies it to checkpoint_last.pt).
EVENTS = ("| train_inner |", "Saving checkpoint to", "Finished saving checkpoint to")


def run_killed(cmd, event, nth, delay):
    """Start ``cmd``; SIGKILL it ``delay`` s after the ``nth`` output line containing ``event``.

    Returns True when the kill landed (the run had not finished by then)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    seen, killed = 0, threading.Event()

    def kill():
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed.set()

    for line in proc.stdout:
        if event in line:
            seen += 1
            if seen == nth:
                threading.Timer(delay, kill).start()
    proc.wait(timeout=300)
    return killed.is_set()


def model_state(path):
    return torch.load(path, map_location="cpu")


def assert_same_end(ref_dir, resumed_dir, max_update):
    ref, got = model_state(ref_dir / "checkpoint_last.pt"), model_state(resumed_dir / "checkpoint_last.pt")
    assert got["optimizer_history"][-1]["num_updates"] == ref["optimizer_history"][-1]["num_updates"] == max_update
    assert ref["model"].keys() == got["model"].keys()
    for name, tensor in ref["model"].items():
        torch.testing.assert_close(got["model"][name], tensor, rtol=1e-5, atol=1e-6, msg=name)


def kill_and_resume(cmd_for, tmp_path, max_update, kills, seed):
    """Run uninterrupted, then with ``kills`` random SIGKILLs and resumes; compare the ends."""
    ref = tmp_path / "ref"
    run_cli(cmd_for(ref), timeout=300)
    rng = random.Random(seed)
    resumed, landed = tmp_path / "killed", 0
    for _ in range(kills):
        event = rng.choice(EVENTS)
        nth = rng.randint(1, 3 if event == "| train_inner |" else 2)
        landed += run_killed(cmd_for(resumed), event, nth, rng.uniform(0.0, 0.05))
    proc = run_cli(cmd_for(resumed), timeout=300)
    # the last run must have resumed part-way (a fresh start with the same seed would also match)
    loaded = re.findall(r"Loaded checkpoint \S+ \(epoch \d+ @ (\d+) updates\)", proc.stdout)
    assert loaded and 0 < int(loaded[-1]) < max_update, proc.stdout[-2000:]
    assert landed >= kills // 2, f"only {landed} of {kills} kills landed before the run finished"
    assert_same_end(ref, resumed, max_update)
    print(f"kill points survived: {landed}")
    return proc


def test_luke_entity_typing_survives_kills(tmp_path):
    data = tmp_path / "open_entity"
    data.mkdir()
    open_entity_file(data / "train.json", 48, 0)
    open_entity_file(data / "dev.json", 8, 1)
    vocab = tiny_vocab_dir(tmp_path)
    max_update = 24

    def cmd(save_dir):
        return [BIN / "fairseq-train", data, *COMMON, "--task", "luke_entity_typing", "--vocab-dir", vocab,
                "--criterion", "luke_entity_typing", *LUKE_FLAGS, "--max-seq-length", "32",
                "--max-update", str(max_update), "--save-dir", save_dir]

    kill_and_resume(cmd, tmp_path, max_update, kills=4, seed=0)


def test_uer_bert_target_with_dynamic_masking_survives_kills(tmp_path):
    dest, _ = prepare_uer(tmp_path, "mlm", "--dynamic-masking", "--full-sentences")
    max_update = 24

    def cmd(save_dir):
        return [BIN / "fairseq-train", dest, *COMMON, "--task", "uer_pretrain", "--arch", "uer_bert_tiny",
                "--criterion", "uer_mlm", "--target", "mlm", *UER_FLAGS, "--max-update", str(max_update),
                "--save-dir", save_dir]

    proc = kill_and_resume(cmd, tmp_path, max_update, kills=4, seed=1)
    assert json_logs(proc.stdout + proc.stderr, "train_inner")
