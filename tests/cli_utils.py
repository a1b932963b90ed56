"""Helpers that drive the real fairseq command line on a tiny generated corpus.

Tests call ``fairseq-preprocess`` and ``fairseq-train`` as subprocesses, as a
user would, so that ``--user-dir`` import, checkpoint writing and the
distributed launcher are exercised for real. The task, architecture and model
flags are module constants so that switching every CLI test to our own task
and model is a one-line change.
"""
import importlib.util
import json
import random
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
USER_DIR = REPO / "fairseq_plugins"
BIN = Path(sys.executable).parent

TASK = "vocab_masked_lm"
ARCH = "bert_plugin_tiny"
CRITERION = "masked_lm"
# Dropout is off so that runs which should match (resume, 1 vs 2 processes) do.
MODEL_FLAGS = (
    "--encoder-layers", "2",
    "--encoder-embed-dim", "32",
    "--encoder-ffn-embed-dim", "64",
    "--encoder-attention-heads", "2",
    "--dropout", "0", "--attention-dropout", "0",
)


def write_corpus(raw_dir, n_train=64, n_valid=16, vocab_size=40, seed=0):
    """Write ``train.txt`` and ``valid.txt``: one sentence of random words per line."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(vocab_size)]
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("valid", n_valid)):
        lines = (" ".join(rng.choices(words, k=rng.randint(5, 14))) for _ in range(n))
        (raw_dir / f"{split}.txt").write_text("\n".join(lines) + "\n")
    return raw_dir


def run_cli(cmd, timeout=120):
    """Run one command; on failure raise with its output so pytest shows why.

    Each subprocess runs one intra-op thread: tiny models gain nothing from more, and on a busy
    2-core machine OpenMP threads spinning against each other made steps ~50x slower."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, cmd))}\nexit {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"
        )
    return proc


def preprocess(raw_dir, data_bin):
    """Binarize the corpus written by :func:`write_corpus` (source side only)."""
    run_cli([
        BIN / "fairseq-preprocess", "--only-source",
        "--trainpref", Path(raw_dir) / "train.txt",
        "--validpref", Path(raw_dir) / "valid.txt",
        "--destdir", data_bin, "--workers", "1",
    ])
    return Path(data_bin)


def make_data_bin(tmp_path):
    """A binarized tiny MLM corpus under ``tmp_path``."""
    return preprocess(write_corpus(tmp_path / "raw"), tmp_path / "data-bin")


def train_args(data_bin, save_dir, *extra, task=TASK, arch=ARCH, criterion=CRITERION,
               model_flags=MODEL_FLAGS, max_update=2, batch_size=4):
    """fairseq-train arguments (without the program) for a tiny, deterministic CPU run.

    ``extra`` comes last, so it overrides any default flag given here.
    """
    return [
        data_bin, "--user-dir", USER_DIR, "--cpu",
        "--task", task, "--arch", arch, *model_flags,
        "--criterion", criterion, "--tokens-per-sample", "16",
        "--batch-size", str(batch_size), "--max-update", str(max_update),
        "--optimizer", "adam", "--lr", "1e-3", "--lr-scheduler", "fixed",
        "--seed", "1",
        "--num-workers", "0", "--save-dir", save_dir,
        "--log-format", "json", "--log-interval", "1", "--no-progress-bar",
        *extra,
    ]


def train(data_bin, save_dir, *extra, **kwargs):
    """Run ``fairseq-train`` with :func:`train_args`; return the finished process."""
    return run_cli([BIN / "fairseq-train", *train_args(data_bin, save_dir, *extra, **kwargs)])


def train_inner_logs(output):
    """The per-update ``train_inner`` records of a ``--log-format json`` run."""
    return json_logs(output, "train_inner")


def train_distributed(nproc, data_bin, save_dir, *extra, **kwargs):
    """Run ``scripts/launch_distributed.py`` under ``torchrun`` with ``nproc`` processes.

    ``--standalone`` lets torchrun pick a free port, so parallel test runs do not collide.
    """
    return run_cli([
        BIN / "torchrun", "--standalone", "--nproc_per_node", str(nproc),
        REPO / "scripts" / "launch_distributed.py",
        *train_args(data_bin, save_dir, *extra, **kwargs),
    ])


def load_script(name):
    """Import ``scripts/<name>.py`` as a module, to call its ``main(argv)`` in-process."""
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(name, *args, timeout=120):
    """Run ``scripts/<name>.py`` as a subprocess with this interpreter, as a user would."""
    return run_cli([sys.executable, REPO / "scripts" / f"{name}.py", *args], timeout=timeout)


def json_logs(output, kind):
    """The ``--log-format json`` records of one kind (``train_inner``, ``valid``, ``train``)."""
    records = []
    for line in output.splitlines():
        start = line.find("{")
        if f"| {kind} |" in line and start >= 0:
            records.append(json.loads(line[start:]))
    return records


def write_lines(path, lines):
    """Write ``lines`` one a line (creating the folder); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path
