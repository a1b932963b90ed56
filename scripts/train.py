#!/usr/bin/env python
"""``fairseq-train`` with ``--bf16`` that trains on CPUs and GPUs (fairseq 0.12 ties it to TPUs).

Same arguments as ``fairseq-train``::

    python scripts/train.py DATA-BIN --user-dir fairseq_plugins --cpu --bf16 ...

Why a script: fairseq turns ``--bf16`` into ``--tpu`` after every hook a plugin gets, so only an
entry point that parses the arguments itself can undo it (``fairseq_plugins.compat.train_cli_main``;
``scripts/launch_distributed.py`` runs the same function under torchrun).
"""
# fairseq_cli.train first: importing it sets up fairseq's logging (stdout, fairseq's format);
# importing fairseq_plugins first would import fairseq's tasks, which leave Python's default instead.
import fairseq_cli.train  # noqa: F401
from fairseq_plugins.compat import train_cli_main

if __name__ == "__main__":
    train_cli_main()
