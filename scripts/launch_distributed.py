#!/usr/bin/env python
"""Per-process entry point for ``torchrun``: data-parallel ``fairseq-train`` on CPUs or GPUs.

Run it with ``torchrun`` and the usual ``fairseq-train`` arguments::

    # one machine, 2 CPU processes (gloo); --standalone picks a free port
    torchrun --standalone --nproc_per_node 2 scripts/launch_distributed.py DATA-BIN \\
        --user-dir fairseq_plugins --cpu ... --batch-size B

    # N machines x G GPUs (nccl); same command on every machine, NODE = 0..N-1
    torchrun --nnodes N --node_rank NODE --nproc_per_node G \\
        --master_addr HOST0 --master_port 29500 \\
        scripts/launch_distributed.py DATA-BIN --user-dir fairseq_plugins ...

The effective batch is the sum over processes: 2 processes x ``--batch-size B``
take the very steps of 1 process with ``--batch-size B --update-freq 2`` (each
rank gets every other batch, gradients are all-reduced).

Why a launcher: fairseq 0.12 sizes distributed runs by GPU count. Without
``--distributed-world-size`` it defaults to ``max(1, cuda.device_count())``, so
on CPUs under torchrun every process trains alone on all the data (and they race
on the same checkpoint files). With ``--distributed-world-size`` it takes
``rank % cuda.device_count()`` (ZeroDivisionError without GPUs) or, without
torchrun, asserts ``world size <= #GPUs``. Passing the rendezvous that torchrun
already set up (``env://``, this process's rank, world size and local rank)
makes fairseq skip that inference and join one process group, on CPUs and GPUs
alike. On CPUs two defaults must change, and the user's own flags still win:
the backend is gloo (nccl needs GPUs), and the DDP wrapper is ``legacy_ddp``,
because fairseq hands ``device_ids=[device_id]`` to torch's
DistributedDataParallel, which refuses device ids for CPU modules. Training runs
through ``fairseq_plugins.compat.train_cli_main`` (as ``scripts/train.py`` does),
so ``--bf16`` works here too.
"""
import os
import sys

# fairseq_cli.train first: importing it sets up fairseq's logging (stdout, fairseq's format);
# importing fairseq_plugins first would import fairseq's tasks, which leave Python's default instead.
import fairseq_cli.train  # noqa: F401
from fairseq_plugins.compat import train_cli_main

CPU_DEFAULTS = ["--distributed-backend", "gloo", "--ddp-backend", "legacy_ddp"]


def torchrun_args(environ):
    """The fairseq flags that put this process into torchrun's process group."""
    missing = [k for k in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
               if k not in environ]
    if missing:
        sys.exit(f"launch_distributed.py must be started by torchrun (missing {', '.join(missing)})")
    return [
        "--distributed-init-method", "env://",
        "--distributed-world-size", environ["WORLD_SIZE"],
        "--distributed-rank", environ["RANK"],
        "--device-id", environ["LOCAL_RANK"],
        "--distributed-no-spawn",
    ]


def main():
    user_args = sys.argv[1:]
    # argparse keeps the last value given, so defaults go first, torchrun's values last.
    defaults = CPU_DEFAULTS if "--cpu" in user_args else []
    sys.argv = [sys.argv[0], *defaults, *user_args, *torchrun_args(os.environ)]
    train_cli_main()


if __name__ == "__main__":
    main()
